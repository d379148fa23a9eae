/**
 * A live replica of one document: the sans-I/O ClientSession plus a WebSocket with reconnect and
 * backoff, the offline queue (OfflineStore) and the "saved" bookkeeping. The twin of
 * docstream/client/live.py's LiveDocument.
 *
 * Connection states: `connecting` (first attempt), `live` (after welcome), `reconnecting`
 * (lost, retrying with backoff), `offline` (the browser says so; retry on `online`), `closed`
 * (for good: access revoked, no such document, stopped). `saved` is true only when live and every
 * local message is acknowledged.
 *
 * Close codes (docs/protocol.md §5 + server extras): 4401 -> refresh the token and reconnect; 4403 /
 * 4404 / 4400 -> closed for good; 4000 (replaced by a newer connection of this replica) -> closed
 * (another tab took this replica over); 1013 (too slow), 1001 (server shutting down), 4429, 1011,
 * 1006 -> reconnect with backoff, catching up with `since`.
 */
import type { Change } from "../engine";
import {
  parseServerFrame,
  type ClientFrame,
  type CommentFrame,
  type Peer,
  type Role,
  type SubmitOps,
  type UserInfo,
} from "./messages";
import { ClientSession, type SessionEvent } from "./session";
import { encodeState, newReplicaId } from "../engine";
import type { OfflineStore } from "./store";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline" | "closed";

export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveCallbacks {
  /** Visible changes to replay (remote edits, catch-up after a reconnect). */
  changes?(changes: Change[], origin: "remote" | "welcome"): void;
  status?(state: ConnectionState, saved: boolean): void;
  welcome?(info: { role: Role; user: UserInfo; peers: Peer[] }): void;
  peers?(peers: Peer[]): void;
  cursor?(peer: Peer, anchor: string | null, head: string | null): void;
  peerLeft?(peer: Peer): void;
  role?(role: Role): void;
  /** A message for the person (edits refused for good, access revoked...). */
  notice?(message: string, severity: "info" | "error"): void;
  closed?(code: number, reason: string): void;
  /** Comment frames (docs/protocol.md §5.4), including refusals of our comment frames. */
  comment?(frame: Extract<SessionEvent, { kind: "comment" }>["frame"]): void;
}

export interface LiveOptions {
  docId: string;
  userId: string;
  session: ClientSession;
  url: () => string;
  callbacks: LiveCallbacks;
  store?: OfflineStore | null;
  /** Get a fresh access token (cookie) after a 4401; false when that is impossible. */
  refreshAuth?: () => Promise<boolean>;
  makeSocket?: (url: string) => SocketLike;
  /** Debounce of snapshot writes (ms). */
  snapshotDelay?: number;
  /** A guest (public link, not signed in): every connection is a new replica (see ClientSession.carry). */
  guest?: boolean;
  minBackoff?: number;
  maxBackoff?: number;
}

const FINAL_CODES = new Set([4400, 4403, 4404]);
const OPEN = 1;

export class LiveDocument {
  session: ClientSession;
  state: ConnectionState = "connecting";
  closeReason: { code: number; reason: string } | null = null;
  private ws: SocketLike | null = null;
  private stopped = false;
  private backoff: number;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  private resyncTimer: ReturnType<typeof setTimeout> | null = null;
  private lastCursor: ClientFrame | null = null;
  private everConnected = false;
  private readonly opts: LiveOptions;
  private writes: Promise<void> = Promise.resolve();

  constructor(opts: LiveOptions) {
    this.opts = opts;
    this.session = opts.session;
    this.backoff = opts.minBackoff ?? 250;
    // The replica record goes first, so pending messages written later are never orphaned.
    if (opts.store) void this.flushSnapshot();
  }

  get saved(): boolean {
    return this.state === "live" && this.session.pending.size === 0;
  }

  get docId(): string {
    return this.opts.docId;
  }

  // --- lifecycle -----------------------------------------------------------------------------

  start(): void {
    this.stopped = false;
    if (typeof window !== "undefined") {
      window.addEventListener("online", this.onOnline);
      window.addEventListener("offline", this.onOffline);
    }
    if (typeof navigator !== "undefined" && navigator.onLine === false) this.setState("offline");
    else this.connect();
  }

  /** Close for good (leaving the document). Pending work stays in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (typeof window !== "undefined") {
      window.removeEventListener("online", this.onOnline);
      window.removeEventListener("offline", this.onOffline);
    }
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "leaving");
    await this.flushSnapshot();
  }

  /** Drop the connection and reconnect (tests, a detected desync). */
  reconnect(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(4000, "client reconnect");
    this.session.live = false;
    this.scheduleRetry(0);
  }

  private onOnline = (): void => {
    if (this.stopped || this.state === "closed") return;
    this.backoff = this.opts.minBackoff ?? 250;
    if (this.ws === null) {
      if (this.retryTimer !== null) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
  };

  private onOffline = (): void => {
    if (this.stopped || this.state === "closed") return;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(4000, "browser offline");
    this.session.live = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState("offline");
  };

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer);
    this.resyncTimer = null;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.opts.callbacks.status?.(state, this.saved);
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.opts.guest && this.everConnected) this.session = this.session.reincarnate(newReplicaId());
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    let ws: SocketLike;
    try {
      const url = this.opts.url();
      ws = this.opts.makeSocket ? this.opts.makeSocket(url) : (new WebSocket(url) as unknown as SocketLike);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.send(this.session.hello());
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== "string") return;
      this.handle(ev.data);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.session.live = false;
      void this.closed(ev.code, ev.reason);
    };
  }

  private async closed(code: number, reason: string): Promise<void> {
    this.closeReason = { code, reason };
    if (this.stopped) return;
    if (FINAL_CODES.has(code) || code === 4000) {
      this.stopped = true;
      this.clearTimers();
      this.setState("closed");
      this.opts.callbacks.closed?.(code, reason);
      await this.flushSnapshot();
      return;
    }
    if (code === 4401) {
      const ok = this.opts.refreshAuth ? await this.opts.refreshAuth() : false;
      if (!ok) {
        this.stopped = true;
        this.setState("closed");
        this.opts.callbacks.closed?.(code, reason);
        return;
      }
    }
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    this.scheduleRetry(code === 4429 ? Math.max(this.backoff, 5000) : undefined);
  }

  private scheduleRetry(delay?: number): void {
    if (this.stopped) return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const wait = delay ?? this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.opts.maxBackoff ?? 10_000, this.backoff * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.ws === null) this.connect();
    }, wait);
  }

  private send(frame: ClientFrame): void {
    const ws = this.ws;
    if (ws !== null && ws.readyState === OPEN) ws.send(JSON.stringify(frame));
  }

  // --- incoming ------------------------------------------------------------------------------

  private handle(data: string): void {
    let events: SessionEvent[];
    try {
      events = this.session.receive(parseServerFrame(data));
    } catch (exc) {
      // A frame we cannot apply: start again from a full state.
      this.opts.callbacks.notice?.(`Resynchronising: ${(exc as Error).message}`, "info");
      this.session.forgetSince();
      this.reconnect();
      return;
    }
    const cb = this.opts.callbacks;
    // A batch's consecutive remote entries reach the editor as one update, its acks as one status.
    let remote: Change[] = [];
    let acked = false;
    const flush = (): void => {
      if (remote.length) cb.changes?.(remote, "remote");
      remote = [];
    };
    for (const ev of events) {
      if (ev.kind !== "remote") flush();
      switch (ev.kind) {
        case "welcomed":
          this.everConnected = true;
          this.backoff = this.opts.minBackoff ?? 250;
          if (ev.changes.length) cb.changes?.(ev.changes, "welcome");
          cb.welcome?.({ role: ev.role, user: ev.user, peers: ev.peers });
          for (const msg of this.session.resend()) this.send(msg);
          if (this.lastCursor) this.send(this.lastCursor);
          this.setState("live");
          this.scheduleSnapshot(0);
          break;
        case "remote":
          remote = remote.length ? remote.concat(ev.changes) : ev.changes;
          this.scheduleSnapshot();
          break;
        case "acked":
          acked = true;
          this.scheduleSnapshot();
          break;
        case "joined":
        case "left":
          if (ev.kind === "left") cb.peerLeft?.(ev.peer);
          cb.peers?.([...this.session.peers.values()]);
          break;
        case "cursor":
          cb.cursor?.(ev.peer, ev.anchor, ev.head);
          break;
        case "role":
          cb.role?.(ev.role);
          break;
        case "refused":
          this.refused(ev);
          break;
        case "desynced":
          this.reconnect();
          break;
        case "comment":
          cb.comment?.(ev.frame);
          break;
      }
    }
    flush();
    if (acked) cb.status?.(this.state, this.saved);
  }

  private refused(ev: Extract<SessionEvent, { kind: "refused" }>): void {
    const cb = this.opts.callbacks;
    if (ev.dropped) {
      // The server will never take these ops; our replica has them: resync from a full state
      // (the remaining pending messages are re-applied on top of it).
      cb.notice?.(
        ev.code === "read_only"
          ? "You can only view this document; your change was not saved."
          : `A change could not be saved (${ev.code}); reloading the document.`,
        "error",
      );
      this.session.forgetSince();
      this.reconnect();
      return;
    }
    if (this.session.resync && !this.resyncTimer) {
      // Transient (storage_unavailable, rate_limited, internal): give the server a moment, then
      // reconnect and re-send every pending message in order (as the Python client does).
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = null;
        if (!this.stopped && this.session.resync) this.reconnect();
      }, 500);
    }
  }

  // --- edits ---------------------------------------------------------------------------------

  /** Send (or queue) the frames of a local edit, and store them for the offline queue. */
  private submitted(frames: SubmitOps[], allRefs: number[]): void {
    const store = this.opts.store;
    if (store) {
      for (const ref of allRefs) {
        const ops = this.session.pending.get(ref);
        if (!ops) continue;
        const rec = { replica: this.session.replica, ref, docId: this.opts.docId, ops };
        this.writes = this.writes.then(() => store.putPending(rec)).catch(() => undefined);
      }
    }
    for (const f of frames) this.send(f);
    this.opts.callbacks.status?.(this.state, this.saved);
    this.scheduleSnapshot();
  }

  private edit(make: () => SubmitOps[]): void {
    const first = this.session.nextRef;
    const frames = make();
    const refs: number[] = [];
    for (let r = first; r < this.session.nextRef; r++) refs.push(r);
    this.submitted(frames, refs);
  }

  /** Insert at code point `index`. */
  insert(index: number, text: string): void {
    this.edit(() => this.session.insert(index, text));
  }

  /** Delete `length` code points at `index`. */
  delete(index: number, length: number): void {
    this.edit(() => this.session.delete(index, length));
  }

  /**
   * Apply CodeMirror changes, given in order and each in the coordinates left by the previous
   * one (UTF-16 `from16 .. to16` replaced by `text`), as one local edit.
   */
  replace16(changes: readonly { from16: number; to16: number; text: string }[]): void {
    const doc = this.session.doc;
    this.edit(() => {
      const ops = [];
      for (const { from16, to16, text } of changes) {
        const from = doc.fromUtf16(from16);
        if (to16 > from16) ops.push(...doc.delete(from, doc.fromUtf16(to16) - from));
        if (text) ops.push(...doc.insert(from, text));
      }
      return ops.length ? this.session.submit(ops) : [];
    });
  }

  /** Send a comment frame now; false while not live (the caller keeps it queued). */
  sendComment(frame: CommentFrame): boolean {
    if (!this.session.live || this.ws === null) return false;
    this.send(frame);
    return true;
  }

  /** Our caret/selection as UTF-16 offsets. */
  setCursor16(anchor16: number, head16: number): void {
    const doc = this.session.doc;
    const frame = this.session.cursor(doc.fromUtf16(anchor16), doc.fromUtf16(head16));
    this.lastCursor = frame;
    if (this.session.live) this.send(frame);
  }

  // --- persistence ---------------------------------------------------------------------------

  private scheduleSnapshot(delay = this.opts.snapshotDelay ?? 1000): void {
    if (!this.opts.store) return;
    if (this.snapshotTimer !== null) {
      if (delay > 0) return;
      clearTimeout(this.snapshotTimer);
    }
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      // Encoding a long document takes milliseconds: do it when the page is idle.
      const idle = (globalThis as { requestIdleCallback?: (fn: () => void, opts: { timeout: number }) => number })
        .requestIdleCallback;
      if (delay > 0 && idle) idle(() => void this.flushSnapshot(), { timeout: 2000 });
      else void this.flushSnapshot();
    }, delay);
  }

  /** Write the replica's snapshot now (and drop acknowledged messages from the queue). */
  flushSnapshot(): Promise<void> {
    const store = this.opts.store;
    if (!store) return Promise.resolve();
    if (this.snapshotTimer !== null) {
      clearTimeout(this.snapshotTimer);
      this.snapshotTimer = null;
    }
    const s = this.session;
    const record = {
      replica: s.replica,
      docId: this.opts.docId,
      userId: this.opts.userId,
      since: s.since,
      state: encodeState(s.doc),
      nextRef: s.nextRef,
      updatedAt: Date.now(),
    };
    const keep = new Set(s.pending.keys());
    this.writes = this.writes.then(() => store.saveSnapshot(record, keep)).catch(() => undefined);
    return this.writes;
  }

  /** Resolves when every queued IndexedDB write is done. */
  persisted(): Promise<void> {
    return this.writes;
  }
}
