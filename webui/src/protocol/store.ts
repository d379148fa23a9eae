/**
 * The offline queue in IndexedDB: per replica, the last snapshot of the replica (encoded state,
 * `since`, next ref) and every unacknowledged ops message, so edits made offline survive a reload.
 *
 * Two object stores:
 * - `replicas` (key `replica`): {replica, docId, userId, since, state, nextRef, updatedAt}.
 *   Written debounced (the state of a long document costs a few milliseconds to encode).
 * - `pending` (key [replica, ref]): {replica, ref, docId, ops}. Written at once for every
 *   message, so a reload a moment after a keystroke still has it.
 *
 * A snapshot write deletes, in the same transaction, the pending messages that are acknowledged
 * (their ops are in the snapshot's state). Restoring = snapshot state + every pending message
 * re-applied in ref order (idempotent: ops already in the state change nothing).
 */
import type { Op } from "../engine";

export interface ReplicaRecord {
  replica: string;
  docId: string;
  userId: string;
  since: number;
  state: Uint8Array;
  nextRef: number;
  updatedAt: number;
}

export interface PendingRecord {
  replica: string;
  ref: number;
  docId: string;
  ops: Op[];
}

const DB_NAME = "docstream";
const DB_VERSION = 1;

function promised<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

export class OfflineStore {
  private constructor(private readonly db: IDBDatabase) {}

  /** Open the database; null when IndexedDB is unavailable (private mode, old browser). */
  static async open(factory: IDBFactory | undefined = globalThis.indexedDB): Promise<OfflineStore | null> {
    if (!factory) return null;
    try {
      const req = factory.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("replicas")) {
          db.createObjectStore("replicas", { keyPath: "replica" }).createIndex("docId", "docId");
        }
        if (!db.objectStoreNames.contains("pending")) {
          db.createObjectStore("pending", { keyPath: ["replica", "ref"] }).createIndex("replica", "replica");
        }
      };
      return new OfflineStore(await promised(req));
    } catch {
      return null;
    }
  }

  close(): void {
    this.db.close();
  }

  /** Record one unacknowledged message. */
  async putPending(rec: PendingRecord): Promise<void> {
    const tx = this.db.transaction("pending", "readwrite");
    tx.objectStore("pending").put(rec);
    await done(tx);
  }

  /** Write a snapshot and drop the pending messages of that replica not in `keepRefs`. */
  async saveSnapshot(rec: ReplicaRecord, keepRefs: ReadonlySet<number>): Promise<void> {
    const tx = this.db.transaction(["replicas", "pending"], "readwrite");
    tx.objectStore("replicas").put(rec);
    const pending = tx.objectStore("pending");
    const keys = await promised(pending.index("replica").getAllKeys(IDBKeyRange.only(rec.replica)));
    for (const key of keys) {
      const ref = (key as [string, number])[1];
      if (!keepRefs.has(ref)) pending.delete(key);
    }
    await done(tx);
  }

  /** Every replica record of a document for one user, newest first, with its pending messages. */
  async loadDocument(docId: string, userId: string): Promise<{ record: ReplicaRecord; pending: PendingRecord[] }[]> {
    const tx = this.db.transaction(["replicas", "pending"], "readonly");
    const records = (await promised(
      tx.objectStore("replicas").index("docId").getAll(IDBKeyRange.only(docId)),
    )) as ReplicaRecord[];
    const out: { record: ReplicaRecord; pending: PendingRecord[] }[] = [];
    for (const record of records) {
      if (record.userId !== userId) continue;
      const pending = (await promised(
        tx.objectStore("pending").index("replica").getAll(IDBKeyRange.only(record.replica)),
      )) as PendingRecord[];
      pending.sort((a, b) => a.ref - b.ref);
      out.push({ record, pending });
    }
    out.sort((a, b) => b.record.updatedAt - a.record.updatedAt);
    return out;
  }

  /** Forget a replica (its work is synced, or the document is gone). */
  async deleteReplica(replica: string): Promise<void> {
    const tx = this.db.transaction(["replicas", "pending"], "readwrite");
    tx.objectStore("replicas").delete(replica);
    const pending = tx.objectStore("pending");
    const keys = await promised(pending.index("replica").getAllKeys(IDBKeyRange.only(replica)));
    for (const key of keys) pending.delete(key);
    await done(tx);
  }

  /** Number of unacknowledged messages stored for a user (all documents). */
  async countPending(userId: string): Promise<number> {
    const tx = this.db.transaction(["replicas", "pending"], "readonly");
    const records = (await promised(tx.objectStore("replicas").getAll())) as ReplicaRecord[];
    let n = 0;
    for (const r of records) {
      if (r.userId !== userId) continue;
      n += await promised(tx.objectStore("pending").index("replica").count(IDBKeyRange.only(r.replica)));
    }
    return n;
  }
}
