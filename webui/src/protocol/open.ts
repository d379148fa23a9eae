/**
 * Choosing the replica of an editing session, and restoring unsynced work.
 *
 * Every tab editing a document is its own replica (docs/protocol.md §6: a fresh id per editing
 * session). Work that was never acknowledged must be re-sent with the replica id it was made with,
 * so when a document is opened:
 *
 * 1. Records of this user and document that still hold pending messages and whose replica is not
 *    held by a live tab (a Web Lock per replica) are *orphans*: the newest one is adopted by this
 *    tab (its state, `since`, pending messages and replica id are restored); the others are
 *    returned so the caller can flush them in the background.
 * 2. Otherwise a fresh replica id is made, starting from the newest cached state (any replica's:
 *    a state is replica-independent) so the document opens at once, offline too.
 * 3. Synced records that are neither adopted nor the newest cache are deleted.
 */
import { decodeState, newReplicaId, type Document } from "../engine";
import { ClientSession } from "./session";
import type { OfflineStore, PendingRecord, ReplicaRecord } from "./store";

export interface Claimed {
  session: ClientSession;
  /** Whether the session starts from stored data (it can be shown before the server answers). */
  restored: boolean;
  /** Unsynced work of other, closed sessions (to flush in the background). */
  orphans: { record: ReplicaRecord; pending: PendingRecord[]; release: () => void }[];
  release: () => void;
}

/** Hold the lock named `name` until the returned function is called; null if it is taken. */
export async function tryLock(name: string): Promise<(() => void) | null> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return () => undefined;
  return new Promise((resolve) => {
    void locks.request(name, { ifAvailable: true }, (lock) => {
      if (lock === null) {
        resolve(null);
        return undefined;
      }
      return new Promise<void>((release) => resolve(() => release()));
    });
  });
}

const lockName = (replica: string): string => `docstream-replica-${replica}`;

/** Rebuild a session from a stored record and its pending messages. */
export function restoreSession(
  record: ReplicaRecord,
  pending: PendingRecord[],
  replica = record.replica,
): ClientSession {
  const doc: Document = decodeState(record.state, replica);
  const session = new ClientSession(replica, doc);
  session.since = record.since;
  if (replica === record.replica) {
    let next = record.nextRef;
    for (const p of pending) {
      try {
        doc.apply(p.ops);
      } catch {
        // Re-applied on top of the server's state at the next welcome (or reported there).
      }
      session.pending.set(p.ref, p.ops);
      next = Math.max(next, p.ref + 1);
    }
    session.nextRef = next;
  }
  return session;
}

export async function claimReplica(store: OfflineStore | null, docId: string, userId: string): Promise<Claimed> {
  const found = store ? await store.loadDocument(docId, userId).catch(() => []) : [];
  const orphans: Claimed["orphans"] = [];
  let adopted: Claimed | null = null;
  for (const item of found) {
    if (!item.pending.length) continue;
    const release = await tryLock(lockName(item.record.replica));
    if (release === null) continue;
    if (adopted === null) {
      adopted = { session: restoreSession(item.record, item.pending), restored: true, orphans, release };
    } else {
      orphans.push({ ...item, release });
    }
  }
  if (adopted !== null) return adopted;
  const replica = newReplicaId();
  const release = (await tryLock(lockName(replica))) ?? (() => undefined);
  const newest = found[0];
  let session = new ClientSession(replica);
  let restored = false;
  if (newest !== undefined) {
    try {
      session = restoreSession(newest.record, [], replica);
      restored = true;
    } catch {
      session = new ClientSession(replica);
    }
  }
  if (store) {
    for (const item of found.slice(1)) {
      if (item.pending.length) continue;
      const free = await tryLock(lockName(item.record.replica));
      if (free !== null) {
        await store.deleteReplica(item.record.replica).catch(() => undefined);
        free();
      }
    }
  }
  return { session, restored, orphans, release };
}
