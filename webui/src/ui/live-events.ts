/**
 * Live document-list changes: `GET /events` (Server-Sent Events, docs/protocol.md §4) so a
 * document shared with you appears in your list without a reload.
 *
 * One `EventSource` per page, shared by every subscriber and closed when the last one leaves or
 * the user signs out. `EventSource` reconnects by itself after a dropped connection; when the
 * server refuses it instead (an expired cookie: 401, too many streams: 429), this module
 * refreshes the session and reopens it after a growing delay. Each time the stream (re)opens,
 * subscribers are called with `null` (refetch everything): changes made while it was not
 * listening are not replayed.
 */
import type { Api, ListChange } from "../api";

type Listener = (change: ListChange | null) => void;
/** A listener of another event on the same stream (`notification`): its parsed data, or `null`
 * when the stream (re)opens. */
type NamedListener = (data: unknown) => void;

const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

class LiveList {
  private source: EventSource | null = null;
  private listeners = new Set<Listener>();
  private named = new Map<string, Set<NamedListener>>();
  private retryMs = FIRST_RETRY_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopUser: (() => void) | null = null;
  private waitingOnline = false;

  constructor(private readonly api: Api) {}

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return this.started(() => this.listeners.delete(fn));
  }

  /** Listen to another event of the stream (added once per name to each `EventSource`). */
  subscribeNamed(event: string, fn: NamedListener): () => void {
    let set = this.named.get(event);
    if (!set) {
      set = new Set();
      this.named.set(event, set);
      if (this.source) this.listen(this.source, event);
    }
    set.add(fn);
    return this.started(() => set.delete(fn));
  }

  private get count(): number {
    let n = this.listeners.size;
    for (const set of this.named.values()) n += set.size;
    return n;
  }

  private started(remove: () => void): () => void {
    if (!this.stopUser) {
      this.stopUser = this.api.onUser((user) => (user ? this.open() : this.close()));
    }
    this.open();
    return () => {
      remove();
      if (this.count === 0) {
        this.close();
        this.stopUser?.();
        this.stopUser = null;
      }
    };
  }

  private listen(source: EventSource, event: string): void {
    source.addEventListener(event, (ev) => {
      let data: unknown;
      try {
        data = JSON.parse((ev as MessageEvent<string>).data);
      } catch {
        return;
      }
      for (const fn of [...(this.named.get(event) ?? [])]) fn(data);
    });
  }

  private emit(change: ListChange | null): void {
    for (const fn of [...this.listeners]) fn(change);
    if (change === null) for (const set of this.named.values()) for (const fn of [...set]) fn(null);
  }

  private open(): void {
    if (this.source || this.timer !== null || !this.api.user || this.count === 0) return;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      // Offline: a stream cannot open (and the attempt is an error in the console); open it
      // when the browser is back online.
      if (!this.waitingOnline) {
        this.waitingOnline = true;
        window.addEventListener(
          "online",
          () => {
            this.waitingOnline = false;
            this.open();
          },
          { once: true },
        );
      }
      return;
    }
    const source = new EventSource(this.api.eventsUrl(), { withCredentials: true });
    this.source = source;
    source.addEventListener("open", () => {
      // Connected, or back after a gap: a change made before the stream was registered (while
      // the list was loading, or while disconnected) would be missed, so refetch once.
      this.retryMs = FIRST_RETRY_MS;
      this.emit(null);
    });
    source.addEventListener("documents", (ev) => {
      let change: ListChange;
      try {
        change = JSON.parse((ev as MessageEvent<string>).data) as ListChange;
      } catch {
        return;
      }
      this.emit(change);
    });
    for (const event of this.named.keys()) this.listen(source, event);
    source.addEventListener("error", () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: the server refused the stream.
      if (source.readyState === EventSource.CLOSED) this.retryLater();
    });
  }

  private retryLater(): void {
    this.source?.close();
    this.source = null;
    if (this.timer !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.api.refresh().then(
        (signedIn) => {
          if (signedIn) this.open();
        },
        () => this.retryLater(), // unreachable: try again later
      );
    }, delay);
  }

  private close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.retryMs = FIRST_RETRY_MS;
  }
}

const lives = new WeakMap<Api, LiveList>();

function liveFor(api: Api): LiveList {
  let live = lives.get(api);
  if (!live) {
    live = new LiveList(api);
    lives.set(api, live);
  }
  return live;
}

/**
 * Call `callback` with the data of each `event` (another feature's event on the same stream, such
 * as `notification`), or with `null` when the stream (re)connects (refetch). Returns the
 * unsubscribe.
 */
export function onStreamEvent(api: Api, event: string, callback: (data: unknown) => void): () => void {
  return liveFor(api).subscribeNamed(event, callback);
}

/**
 * Call `callback` whenever a document enters, leaves or changes in the signed-in user's list
 * (`change`), or with `null` when the stream (re)connects (refetch the list). Returns the
 * unsubscribe.
 */
export function onListChanged(api: Api, callback: (change: ListChange | null) => void): () => void {
  return liveFor(api).subscribe(callback);
}
