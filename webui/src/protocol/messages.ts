/**
 * WebSocket frames of docs/protocol.md §5, as TypeScript types (tags are the protocol). A Python test
 * (tests/web/test_wire_types.py) compares them with the server's msgspec Structs field by field.
 */
import type { Op } from "../engine";

export type Role = "owner" | "editor" | "commenter" | "viewer";

export interface Peer {
  user_id: string;
  name: string;
  color: string;
  replica: string;
}

export interface UserInfo {
  id: string;
  name: string;
  color: string;
}

export interface SeqOps {
  seq: number;
  author: string;
  replica?: string;
  ops: Op[];
}

/** One comment (docs/protocol.md §5.4); `thread` is the id of the thread's first comment. */
export interface CommentInfo {
  id: string;
  thread: string;
  author_id: string;
  author_name: string;
  body: string;
  created_at: string;
  anchor_start: string;
  anchor_end: string;
  quote: string;
  mentions: string[];
  resolved: boolean;
  version: number;
  edited_at?: string | null;
}

// client -> server
export interface Hello {
  type: "hello";
  replica: string;
  since?: number;
  /** This client reads `batch` frames and acks of several messages (`ack.n`). */
  batch?: boolean;
}
export interface SubmitOps {
  type: "ops";
  ref: number;
  ops: Op[];
}
export interface SetCursor {
  type: "cursor";
  anchor?: string | null;
  head?: string | null;
}
export interface AddComment {
  type: "comment_add";
  id: string;
  body: string;
  start: string;
  end: string;
  quote?: string;
  mentions?: string[];
}
export interface ReplyComment {
  type: "comment_reply";
  id: string;
  thread: string;
  body: string;
  mentions?: string[];
}
export interface EditComment {
  type: "comment_edit";
  id: string;
  body: string;
  mentions?: string[];
}
export interface DeleteComment {
  type: "comment_delete";
  id: string;
}
export interface ResolveComment {
  type: "comment_resolve";
  id: string;
  resolved?: boolean;
}
export type CommentFrame = AddComment | ReplyComment | EditComment | DeleteComment | ResolveComment;
export type ClientFrame =
  Hello | SubmitOps | SetCursor | AddComment | ReplyComment | EditComment | DeleteComment | ResolveComment;

// server -> client
export interface Welcome {
  type: "welcome";
  doc_id: string;
  seq: number;
  role: Role;
  user: UserInfo;
  peers: Peer[];
  /** The replica's state, base64 (docs/state-format.md). */
  state?: string;
  ops?: SeqOps[];
}
export interface RemoteOps {
  type: "ops";
  seq: number;
  author: string;
  replica: string;
  ops: Op[];
}
/** Messages `ref - n + 1` .. `ref` are stored at seqs `seq - n + 1` .. `seq`. */
export interface Ack {
  type: "ack";
  ref: number;
  seq: number;
  /** How many consecutive messages the ack covers (1 when absent). */
  n?: number;
}
export interface Presence {
  type: "presence";
  action: "join" | "leave";
  peer: Peer;
}
export interface PeerCursor {
  type: "cursor";
  peer: Peer;
  anchor: string | null;
  head: string | null;
}
export interface RoleChanged {
  type: "role";
  role: Role;
}
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  ref?: number;
  /** The id of the refused comment frame. */
  comment?: string;
}
export interface CommentUpsert {
  type: "comment";
  comment: CommentInfo;
}
export interface CommentsRemoved {
  type: "comment_removed";
  ids: string[];
}
export interface CommentList {
  type: "comments";
  comments: CommentInfo[];
}
/** A frame that may travel inside a `batch`. */
export type SingleFrame =
  | Welcome
  | RemoteOps
  | Ack
  | Presence
  | PeerCursor
  | RoleChanged
  | ErrorFrame
  | CommentUpsert
  | CommentsRemoved
  | CommentList;
/** Several frames sent as one (after `hello.batch`), handled in order. */
export interface Batch {
  type: "batch";
  frames: SingleFrame[];
}
export type ServerFrame = SingleFrame | Batch;

/** Errors after which re-sending the same ops can never succeed. */
export const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  "bad_message",
  "read_only",
  "unknown_id",
  "duplicate_id_conflict",
  "forbidden_replica",
  "too_large",
]);

/** The deterministic peer colours (docs/protocol.md §5). */
export const COLORS = ["#E02424", "#3F83F8", "#0E9F6E", "#D03801", "#7E3AF2", "#ECE513", "#06B6D4", "#EC4899"] as const;

/** djb2 over the UTF-8 bytes of the user id, modulo the palette. */
export function colorFor(userId: string): string {
  let h = 5381;
  for (const byte of new TextEncoder().encode(userId)) h = (Math.imul(h, 33) + byte) >>> 0;
  return COLORS[h % COLORS.length]!;
}

/** Parse one server frame; throws on anything that is not a JSON object with a known tag. */
export function parseServerFrame(data: string): ServerFrame {
  const frame = JSON.parse(data) as { type?: unknown; frames?: unknown };
  if (frame?.type === "batch") {
    if (!Array.isArray(frame.frames)) throw new Error("batch without frames");
    for (const inner of frame.frames as unknown[]) single(inner as { type?: unknown } | null);
    return frame as Batch;
  }
  return single(frame);
}

function single(frame: { type?: unknown } | null): SingleFrame {
  if (frame === null || typeof frame !== "object") throw new Error("frame is not an object");
  switch (frame.type) {
    case "welcome":
    case "ops":
    case "ack":
    case "presence":
    case "cursor":
    case "role":
    case "error":
    case "comment":
    case "comment_removed":
    case "comments":
      return frame as SingleFrame;
    default:
      throw new Error(`unknown frame type ${JSON.stringify(frame.type)}`);
  }
}
