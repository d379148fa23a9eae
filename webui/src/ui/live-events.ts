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

const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

class LiveList {
  private source: EventSource | null = null;
  private listeners = new Set<Listener>();
  private retryMs = FIRST_RETRY_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopUser: (() => void) | null = null;

  constructor(private readonly api: Api) {}

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    if (!this.stopUser) {
      this.stopUser = this.api.onUser((user) => (user ? this.open() : this.close()));
    }
    this.open();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) {
        this.close();
        this.stopUser?.();
        this.stopUser = null;
      }
    };
  }

  private emit(change: ListChange | null): void {
    for (const fn of [...this.listeners]) fn(change);
  }

  private open(): void {
    if (this.source || this.timer !== null || !this.api.user || this.listeners.size === 0) return;
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

/**
 * Call `callback` whenever a document enters, leaves or changes in the signed-in user's list
 * (`change`), or with `null` when the stream (re)connects (refetch the list). Returns the
 * unsubscribe.
 */
export function onListChanged(api: Api, callback: (change: ListChange | null) => void): () => void {
  let live = lives.get(api);
  if (!live) {
    live = new LiveList(api);
    lives.set(api, live);
  }
  return live.subscribe(callback);
}
