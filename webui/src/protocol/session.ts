/**
 * The client side of the protocol as a sans-I/O state machine: the twin of
 * docstream/protocol/session.py (no sockets, no timers, no storage).
 *
 *   client                              server
 *   hello{replica, since}      ──►
 *                              ◄──      welcome{seq, role, user, peers, state | ops}
 *   (re-send every unacked ops message, same ids)
 *   ops{ref, ops}              ──►
 *                              ◄──      ack{ref, seq[, n]}     (durably stored at seq)
 *                              ◄──      ops{seq, author, ...}  (others' edits, in seq order)
 *                              ◄──      batch{frames}          (several of these, in order)
 *   cursor{anchor, head}       ──►
 *                              ◄──      presence / cursor / role / error
 *
 * Invariants: every local edit is integrated at once and kept in `pending` until its ack, so it
 * survives any number of reconnects (and, with a store, reloads); a transient refusal sets
 * `resync` (reconnect, re-send everything pending in order); `since` is the last server seq
 * applied; a `state` in `welcome` replaces the replica and the pending edits are re-applied on top.
 *
 * Two additions to the Python session, both for a long-lived UI: a local edit that produces more
 * ops than fit one frame is sent as several messages (MAX_OPS_PER_MESSAGE, MAX_MESSAGE_CHARS), and
 * a pending message that can no longer be re-applied on top of a fresh state (its parents are
 * gone: the server refused an earlier message for good) is dropped and reported as `refused`.
 */
import { CrdtError, Document, decodeState, encodeState, fromBase64, parseId, type Change, type Op } from "../engine";
import {
  PERMANENT_ERRORS,
  type Ack,
  type CommentList,
  type CommentUpsert,
  type CommentsRemoved,
  type ErrorFrame,
  type Hello,
  type Peer,
  type Presence,
  type RemoteOps,
  type Role,
  type ServerFrame,
  type SetCursor,
  type SubmitOps,
  type UserInfo,
  type Welcome,
} from "./messages";

/** Ops per `ops` message (the server's default limit is 10,000). */
export const MAX_OPS_PER_MESSAGE = 2000;
/** JSON characters (UTF-16 code units) per `ops` message. The server's frame limit is 1 MiB of
 * UTF-8, and a code unit takes at most 3 bytes there (a surrogate pair 4 for 2 units). */
export const MAX_MESSAGE_CHARS = 300_000;

export type SessionEvent =
  | { kind: "welcomed"; seq: number; role: Role; user: UserInfo; peers: Peer[]; changes: Change[] }
  | { kind: "remote"; seq: number; author: string; replica: string; changes: Change[] }
  | { kind: "acked"; ref: number; seq: number }
  | { kind: "joined"; peer: Peer }
  | { kind: "left"; peer: Peer }
  | { kind: "cursor"; peer: Peer; anchor: string | null; head: string | null }
  | { kind: "role"; role: Role }
  | { kind: "refused"; code: string; message: string; ref: number | null; dropped: Op[] | null }
  | { kind: "desynced"; reason: string }
  /** A comment changed, was removed, the list arrived, or a comment frame was refused. */
  | { kind: "comment"; frame: CommentUpsert | CommentsRemoved | CommentList | ErrorFrame };

/** One change turning `before` into `after` (common prefix and suffix kept), in both units. */
export function textDiff(before: string, after: string): Change[] {
  if (before === after) return [];
  let start = 0;
  const limit = Math.min(before.length, after.length);
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before.charCodeAt(endB - 1) === after.charCodeAt(endA - 1)) {
    endB--;
    endA--;
  }
  // Never cut a surrogate pair.
  if (start > 0 && isHigh(before.charCodeAt(start - 1))) start--;
  if (endB < before.length && isLow(before.charCodeAt(endB))) {
    endB++;
    endA++;
  }
  if (endA < start) endA = start;
  if (endB < start) endB = start;
  const removed = before.slice(start, endB);
  return [
    {
      index: Array.from(before.slice(0, start)).length,
      deleted: Array.from(removed).length,
      inserted: after.slice(start, endA),
      from16: start,
      deleted16: removed.length,
    },
  ];
}

function isHigh(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}

function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

/** Cut ops into messages that respect the frame limits, keeping their order. */
export function chunkOps(ops: Op[]): Op[][] {
  const out: Op[][] = [];
  let cur: Op[] = [];
  let chars = 0;
  for (const op of ops) {
    const size = JSON.stringify(op).length + 1;
    if (cur.length && (cur.length >= MAX_OPS_PER_MESSAGE || chars + size > MAX_MESSAGE_CHARS)) {
      out.push(cur);
      cur = [];
      chars = 0;
    }
    cur.push(op);
    chars += size;
  }
  if (cur.length) out.push(cur);
  return out;
}

export class ClientSession {
  doc: Document;
  readonly replica: string;
  since = 0;
  /** Unacknowledged messages by ref, in send order. */
  readonly pending = new Map<number, Op[]>();
  nextRef = 1;
  live = false;
  /**
   * Set by a transient refusal (`storage_unavailable`, `rate_limited`, `internal`): later
   * messages may build on the refused one, so their refusals on this connection say nothing
   * final. The transport reconnects and re-sends everything pending, in order.
   */
  resync = false;
  role: Role | null = null;
  readonly peers = new Map<string, Peer>();
  /**
   * Guests only: unacknowledged ops of the previous connection's replica. The server binds a
   * replica id to one connection's guest identity, so a guest reconnects as a new replica and
   * its unsaved edits are carried over (see `reincarnate`).
   */
  carry: Op[][] | null = null;

  constructor(replica: string, doc?: Document) {
    this.replica = replica;
    this.doc = doc ?? new Document(replica);
  }

  // --- outgoing ------------------------------------------------------------------------------

  hello(): Hello {
    this.live = false;
    this.resync = false;
    return { type: "hello", replica: this.replica, since: this.since, batch: true };
  }

  /** Queue the ops of one local edit; return the frames to send now (none while offline). */
  submit(ops: Op[]): SubmitOps[] {
    const frames: SubmitOps[] = [];
    for (const chunk of chunkOps(ops)) {
      const ref = this.nextRef++;
      this.pending.set(ref, chunk);
      frames.push({ type: "ops", ref, ops: chunk });
    }
    return this.live ? frames : [];
  }

  /** Integrate a local insert at code point `index`. */
  insert(index: number, text: string): SubmitOps[] {
    return this.submit(this.doc.insert(index, text));
  }

  /** Integrate a local delete of `length` code points at `index`. */
  delete(index: number, length: number): SubmitOps[] {
    return this.submit(this.doc.delete(index, length));
  }

  /** A caret/selection given as code point indexes, anchored to the char before each end. */
  cursor(anchorIndex: number, headIndex: number = anchorIndex): SetCursor {
    return { type: "cursor", anchor: this.anchor(anchorIndex), head: this.anchor(headIndex) };
  }

  private anchor(index: number): string | null {
    if (index <= 0 || this.doc.length === 0) return null;
    const id = this.doc.idAt(Math.min(index, this.doc.length) - 1);
    return `${id.replica}:${id.counter}`;
  }

  /** Where a caret anchored to `anchor` is now (code point index). */
  indexOfAnchor(anchor: string | null): number {
    if (anchor === null) return 0;
    let id;
    try {
      id = parseId(anchor);
    } catch {
      return 0;
    }
    if (!this.doc.has(id)) return 0;
    return this.doc.indexOf(id) + (this.doc.isVisible(id) ? 1 : 0);
  }

  /** Every unacknowledged message, in order (after `welcome`). */
  resend(): SubmitOps[] {
    return [...this.pending].map(([ref, ops]) => ({ type: "ops", ref, ops }));
  }

  /**
   * A new session as `replica` that carries this one's unsaved edits (guests, see `carry`).
   * It starts from a full state (`since = 0`); at `welcome` the carried ops are applied on top of
   * the server's state and the difference is re-made as new local edits of the new replica.
   */
  reincarnate(replica: string): ClientSession {
    const next = new ClientSession(replica, decodeState(encodeState(this.doc), replica));
    next.carry = [...(this.carry ?? []), ...this.pending.values()];
    next.role = this.role;
    return next;
  }

  /** Forget `since` so that the next `welcome` carries the whole state (a full resync). */
  forgetSince(): void {
    this.since = 0;
  }

  // --- incoming ------------------------------------------------------------------------------

  receive(frame: ServerFrame): SessionEvent[] {
    switch (frame.type) {
      case "batch":
        return frame.frames.flatMap((inner) => this.receive(inner));
      case "welcome":
        return this.welcome(frame);
      case "ops":
        return this.remote(frame);
      case "ack":
        return this.ack(frame);
      case "presence":
        return this.presence(frame);
      case "cursor":
        return [{ kind: "cursor", peer: frame.peer, anchor: frame.anchor, head: frame.head }];
      case "role":
        this.role = frame.role;
        return [{ kind: "role", role: frame.role }];
      case "error":
        if (frame.comment !== undefined) return [{ kind: "comment", frame }];
        return this.error(frame);
      case "comment":
      case "comment_removed":
      case "comments":
        return [{ kind: "comment", frame }];
    }
  }

  private remote(frame: RemoteOps): SessionEvent[] {
    if (frame.seq <= this.since) return [];
    if (frame.seq !== this.since + 1) {
      return [{ kind: "desynced", reason: `expected seq ${this.since + 1}, got ${frame.seq}` }];
    }
    const changes = this.doc.applyAndDiff(frame.ops);
    this.since = frame.seq;
    return [{ kind: "remote", seq: frame.seq, author: frame.author, replica: frame.replica, changes }];
  }

  private ack(frame: Ack): SessionEvent[] {
    const events: SessionEvent[] = [];
    // n consecutive messages: refs ref-n+1..ref, stored at seqs seq-n+1..seq.
    for (let back = (frame.n ?? 1) - 1; back >= 0; back--) {
      this.pending.delete(frame.ref - back);
      events.push({ kind: "acked", ref: frame.ref - back, seq: frame.seq - back });
    }
    this.since = Math.max(this.since, frame.seq);
    return events;
  }

  private presence(frame: Presence): SessionEvent[] {
    if (frame.action === "join") {
      this.peers.set(frame.peer.replica, frame.peer);
      return [{ kind: "joined", peer: frame.peer }];
    }
    this.peers.delete(frame.peer.replica);
    return [{ kind: "left", peer: frame.peer }];
  }

  private error(frame: ErrorFrame): SessionEvent[] {
    const ref = frame.ref ?? null;
    let dropped: Op[] | null = null;
    if (ref !== null && this.pending.has(ref)) {
      if (PERMANENT_ERRORS.has(frame.code) && !this.resync) {
        dropped = this.pending.get(ref)!;
        this.pending.delete(ref);
      } else {
        this.resync = true;
      }
    }
    return [{ kind: "refused", code: frame.code, message: frame.message, ref, dropped }];
  }

  private welcome(frame: Welcome): SessionEvent[] {
    const events: SessionEvent[] = [];
    const before = this.doc.text;
    let changes: Change[];
    if (this.carry !== null && frame.state !== undefined && frame.state !== null) {
      const blob = fromBase64(frame.state);
      const merged = decodeState(blob, this.replica);
      for (const ops of this.carry) {
        try {
          merged.apply(ops);
        } catch {
          /* its parents are gone from the server's state: nothing to carry */
        }
      }
      const doc = decodeState(blob, this.replica);
      const ops: Op[] = [];
      for (const c of textDiff(doc.text, merged.text)) {
        if (c.deleted) ops.push(...doc.delete(c.index, c.deleted));
        if (c.inserted) ops.push(...doc.insert(c.index, c.inserted));
      }
      this.carry = null;
      this.pending.clear();
      this.doc = doc;
      if (ops.length) this.submit(ops);
      changes = textDiff(before, doc.text);
    } else if (frame.state !== undefined && frame.state !== null) {
      const doc = decodeState(fromBase64(frame.state), this.replica);
      for (const [ref, ops] of [...this.pending]) {
        try {
          doc.apply(ops);
        } catch (exc) {
          if (!(exc instanceof CrdtError)) throw exc;
          // Its parents are not in the server's state: it can never be accepted.
          this.pending.delete(ref);
          events.push({ kind: "refused", code: exc.code, message: exc.message, ref, dropped: ops });
        }
      }
      this.doc = doc;
      changes = textDiff(before, doc.text);
    } else {
      changes = [];
      for (const entry of frame.ops ?? []) {
        if (entry.seq > this.since) {
          changes.push(...this.doc.applyAndDiff(entry.ops));
          this.since = entry.seq;
        }
      }
    }
    this.since = frame.seq;
    this.live = true;
    this.role = frame.role;
    this.peers.clear();
    for (const p of frame.peers) this.peers.set(p.replica, p);
    events.unshift({
      kind: "welcomed",
      seq: frame.seq,
      role: frame.role,
      user: frame.user,
      peers: [...frame.peers],
      changes,
    });
    return events;
  }
}
