/**
 * The comments of one document as this tab knows them, and the comment frames it still has to
 * send (its outbox).
 *
 * Comment frames are queued like edits: a frame is kept in the outbox (and in localStorage, so a
 * reload keeps it) until the server answers it, sent at once when live and again after every
 * (re)connection, once the server's list has arrived (after `welcome`, so after the edits the
 * live document re-sent: an anchor may name text typed offline). The ids are chosen here, so a
 * re-sent frame never makes a second comment. What is queued shows at once (marked pending).
 *
 * The server answers frames of one socket in order: a `comment` upsert of our own comment (or of
 * the thread we resolved) and a `comment_removed` answer the oldest outbox frame of that id; an
 * `error` naming a comment answers it too (kept and retried when the error is transient).
 */
import type {
  CommentFrame,
  CommentInfo,
  CommentList,
  CommentUpsert,
  CommentsRemoved,
  ErrorFrame,
} from "../../protocol/messages";

export type CommentEvent = CommentUpsert | CommentsRemoved | CommentList | ErrorFrame;

export interface Thread {
  root: CommentInfo;
  replies: CommentInfo[];
}

/** Errors after which the same frame may succeed later (kept in the outbox, re-sent). */
const TRANSIENT = new Set(["rate_limited", "storage_unavailable", "broker_unavailable", "internal"]);

/** A new comment id: 16 characters of [A-Za-z0-9_-]. */
export function newCommentId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}

export class CommentBook {
  /** Confirmed comments by id (the server's copies). */
  private confirmed = new Map<string, CommentInfo>();
  /** Frames not answered yet, oldest first. */
  outbox: CommentFrame[];
  private readonly key: string;

  constructor(
    private readonly me: { id: string; name: string },
    docId: string,
    /** Told after every change (to redraw), and with a message when a frame was refused. */
    private readonly changed: (refused?: string) => void,
    private readonly storage: Storage | null = globalThis.localStorage ?? null,
  ) {
    this.key = `docstream.comments.outbox.${me.id}.${docId}`;
    this.outbox = this.load();
  }

  private load(): CommentFrame[] {
    try {
      const raw = this.storage?.getItem(this.key);
      return raw ? (JSON.parse(raw) as CommentFrame[]) : [];
    } catch {
      return [];
    }
  }

  private save(): void {
    try {
      if (this.outbox.length) this.storage?.setItem(this.key, JSON.stringify(this.outbox));
      else this.storage?.removeItem(this.key);
    } catch {
      /* storage full or unavailable: the frames stay queued in memory */
    }
  }

  /** Queue a frame (the caller sends it now if live). */
  queue(frame: CommentFrame): void {
    this.outbox.push(frame);
    this.save();
    this.changed();
  }

  /** Whether a frame for this comment id waits for the server. */
  pending(id: string): boolean {
    return this.outbox.some((f) => f.id === id);
  }

  private answered(id: string): CommentFrame | null {
    const at = this.outbox.findIndex((f) => f.id === id);
    if (at < 0) return null;
    const [frame] = this.outbox.splice(at, 1);
    this.save();
    return frame ?? null;
  }

  /** A comment frame from the server. */
  receive(ev: CommentEvent): void {
    let refused: string | undefined;
    if (ev.type === "comments") {
      this.confirmed = new Map(ev.comments.map((c) => [c.id, c]));
    } else if (ev.type === "comment") {
      const c = ev.comment;
      const old = this.confirmed.get(c.id);
      if (!old || old.version <= c.version) this.confirmed.set(c.id, c);
      if (c.author_id === this.me.id || this.outbox.some((f) => f.type === "comment_resolve" && f.id === c.id))
        this.answered(c.id);
    } else if (ev.type === "comment_removed") {
      for (const id of ev.ids) {
        this.confirmed.delete(id);
        this.outbox = this.outbox.filter((f) => f.id !== id || f.type !== "comment_delete");
      }
      this.save();
    } else if (ev.comment !== undefined && !TRANSIENT.has(ev.code)) {
      this.answered(ev.comment);
      refused = `Your comment could not be saved: ${ev.message}`;
    }
    this.changed(refused);
  }

  /** Frames to send after a (re)connection, in order. */
  toSend(): CommentFrame[] {
    return [...this.outbox];
  }

  /** Every comment, server copies with the queued frames applied on top. */
  all(): Map<string, CommentInfo> {
    const view = new Map(this.confirmed);
    const now = new Date().toISOString();
    const mine = (id: string, thread: string, body: string, extra: Partial<CommentInfo> = {}): CommentInfo => ({
      id,
      thread,
      author_id: this.me.id,
      author_name: this.me.name,
      body,
      created_at: now,
      anchor_start: "",
      anchor_end: "",
      quote: "",
      mentions: [],
      resolved: false,
      version: 0,
      ...extra,
    });
    for (const f of this.outbox) {
      const old = view.get(f.id);
      if (f.type === "comment_add" && !old) {
        view.set(f.id, mine(f.id, f.id, f.body, { anchor_start: f.start, anchor_end: f.end, quote: f.quote ?? "" }));
      } else if (f.type === "comment_reply" && !old) {
        view.set(f.id, mine(f.id, view.get(f.thread)?.thread ?? f.thread, f.body));
      } else if (f.type === "comment_edit" && old) {
        view.set(f.id, { ...old, body: f.body });
      } else if (f.type === "comment_resolve" && old) {
        view.set(f.id, { ...old, resolved: f.resolved ?? true });
      } else if (f.type === "comment_delete") {
        view.delete(f.id);
        for (const [id, c] of view) if (c.thread === f.id) view.delete(id);
      }
    }
    return view;
  }

  /** The threads (first comment + replies, oldest first). */
  threads(): Thread[] {
    const all = this.all();
    const threads = new Map<string, Thread>();
    for (const c of all.values()) if (c.id === c.thread) threads.set(c.id, { root: c, replies: [] });
    for (const c of all.values()) if (c.id !== c.thread) threads.get(c.thread)?.replies.push(c);
    for (const t of threads.values()) t.replies.sort((a, b) => a.created_at.localeCompare(b.created_at));
    return [...threads.values()];
  }
}
