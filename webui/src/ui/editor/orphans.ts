/**
 * Orphaned replicas: edits an earlier tab (or visit) of this document kept on this device and
 * never got acknowledged. Each is sent by its own LiveDocument under its own replica id; once
 * everything is saved, the flusher stops, the stored replica is deleted and its lock released.
 */
import { LiveDocument } from "../../protocol/live";
import { restoreSession, type Claimed } from "../../protocol/open";
import type { OfflineStore } from "../../protocol/store";

export interface FlusherOptions {
  docId: string;
  userId: string;
  store: OfflineStore | null;
  url: () => string;
  refreshAuth: () => Promise<boolean>;
}

export class OrphanFlushers {
  private readonly running: LiveDocument[] = [];

  constructor(private readonly opts: FlusherOptions) {}

  /** Start sending these orphans (the list is emptied: each is flushed once). */
  flush(orphans: Claimed["orphans"]): void {
    for (const o of orphans.splice(0)) {
      const flusher = new LiveDocument({
        docId: this.opts.docId,
        userId: this.opts.userId,
        session: restoreSession(o.record, o.pending),
        store: this.opts.store,
        url: this.opts.url,
        refreshAuth: this.opts.refreshAuth,
        callbacks: {
          status: (_state, saved) => {
            if (!saved) return;
            void (async () => {
              await flusher.stop();
              await this.opts.store?.deleteReplica(o.record.replica).catch(() => undefined);
              o.release();
            })();
          },
        },
      });
      this.running.push(flusher);
      flusher.start();
    }
  }

  async stop(): Promise<void> {
    for (const f of this.running) await f.stop();
  }
}
