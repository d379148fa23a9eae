/**
 * WebSocket frames of docs/protocol.md §5, as TypeScript types (tags are the protocol). A Python test
 * (tests/web/test_wire_types.py) compares them with the server's msgspec Structs field by field.
 */
import type { Op } from "../engine";

export type Role = "owner" | "editor" | "viewer";

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

// client -> server
export interface Hello {
  type: "hello";
  replica: string;
  since?: number;
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
export type ClientFrame = Hello | SubmitOps | SetCursor;

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
export interface Ack {
  type: "ack";
  ref: number;
  seq: number;
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
}
export type ServerFrame = Welcome | RemoteOps | Ack | Presence | PeerCursor | RoleChanged | ErrorFrame;

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
  const frame = JSON.parse(data) as { type?: unknown };
  if (frame === null || typeof frame !== "object") throw new Error("frame is not an object");
  switch (frame.type) {
    case "welcome":
    case "ops":
    case "ack":
    case "presence":
    case "cursor":
    case "role":
    case "error":
      return frame as ServerFrame;
    default:
      throw new Error(`unknown frame type ${JSON.stringify(frame.type)}`);
  }
}
