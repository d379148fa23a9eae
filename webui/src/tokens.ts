/**
 * Where the refresh token is kept, shared by every tab of the origin.
 *
 * The token is read inside the cross-tab refresh lock, and it must be the one the previous lock
 * holder stored. localStorage does not promise that: Chromium hands a write in one tab to the
 * others asynchronously, so a tab that takes the lock right after another tab stored a new token
 * can still read the old, used-up one (and reusing it signs the whole session out). IndexedDB
 * is transactional across tabs: a read that starts after another tab's write committed sees it.
 * So IndexedDB holds the token of record; localStorage keeps a copy for the synchronous "is
 * anyone signed in?" checks, and is read as the token only when IndexedDB holds none (no
 * IndexedDB, or a token stored by an older version of the UI).
 */

export const REFRESH_KEY = "docstream.refresh";
const DB_NAME = "docstream-session";
const STORE = "kv";

let opening: Promise<IDBDatabase | null> | null = null;

function database(): Promise<IDBDatabase | null> {
  if (opening) return opening;
  opening = new Promise((resolve) => {
    if (typeof indexedDB === "undefined") {
      resolve(null);
      return;
    }
    try {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return opening;
}

function run<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T | undefined> {
  return database().then(
    (db) =>
      new Promise<T | undefined>((resolve) => {
        if (!db) {
          resolve(undefined);
          return;
        }
        try {
          const tx = db.transaction(STORE, mode);
          const request = op(tx.objectStore(STORE));
          tx.oncomplete = () => resolve(request.result);
          tx.onerror = () => resolve(undefined);
          tx.onabort = () => resolve(undefined);
        } catch {
          resolve(undefined);
        }
      }),
  );
}

/** The stored refresh token (read it inside the refresh lock). */
export async function readRefreshToken(): Promise<string | null> {
  const stored = await run("readonly", (s) => s.get("refresh") as IDBRequest<string | null | undefined>);
  if (typeof stored === "string") return stored;
  if (stored === null) return null; // signed out on purpose
  return localStorage.getItem(REFRESH_KEY);
}

/** Store (or, with null, remove) the refresh token; resolves once every tab can read it. */
export async function writeRefreshToken(token: string | null): Promise<void> {
  if (token === null) localStorage.removeItem(REFRESH_KEY);
  else localStorage.setItem(REFRESH_KEY, token);
  await run("readwrite", (s) => s.put(token, "refresh"));
}

/** Whether a refresh token is probably stored (synchronous; the copy in localStorage). */
export function hasRefreshToken(): boolean {
  return localStorage.getItem(REFRESH_KEY) !== null;
}

const LOCK = "docstream-refresh";
const LEASE_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One IndexedDB read-write transaction: take the lease if it is free, expired or ours. */
async function tryLease(me: string): Promise<boolean | null> {
  const db = await database();
  if (!db) return null;
  return new Promise((resolve) => {
    try {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      let won = false;
      const get = store.get("lease") as IDBRequest<{ owner: string; until: number } | undefined>;
      get.onsuccess = () => {
        const held = get.result;
        if (!held || held.until < Date.now() || held.owner === me) {
          store.put({ owner: me, until: Date.now() + LEASE_MS }, "lease");
          won = true;
        }
      };
      tx.oncomplete = () => resolve(won);
      tx.onerror = () => resolve(null);
      tx.onabort = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}

async function dropLease(me: string): Promise<void> {
  const db = await database();
  if (!db) return;
  await new Promise<void>((resolve) => {
    try {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      const get = store.get("lease") as IDBRequest<{ owner: string } | undefined>;
      get.onsuccess = () => {
        if (get.result?.owner === me) store.delete("lease");
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => resolve();
      tx.onabort = () => resolve();
    } catch {
      resolve();
    }
  });
}

/**
 * Run `fn` while no other tab of this origin holds the refresh lock: Web Locks where available
 * (secure contexts), otherwise a lease taken in one IndexedDB transaction (plain-HTTP pages), and
 * without either, no lock at all. A lease left by a crashed tab expires after 10 s.
 */
export async function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (locks) return locks.request(LOCK, () => fn());
  const me = Math.random().toString(36).slice(2);
  const giveUp = Date.now() + LEASE_MS;
  for (;;) {
    const won = await tryLease(me);
    if (won !== false || Date.now() > giveUp) break; // null: no IndexedDB, run unlocked
    await sleep(30 + Math.random() * 40);
  }
  try {
    return await fn();
  } finally {
    await dropLease(me);
  }
}
