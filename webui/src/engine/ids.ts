/**
 * Char ids `(counter, replica)` and their wire form `"{replica}:{counter}"` (docs/protocol.md §6).
 *
 * Ids order as a tuple -- counter first (a number), then the replica string compared by code
 * unit, which for the ASCII alphabet of replica ids is Python's string order. Never compare the
 * wire strings.
 */
import { CrdtError } from "./errors";

/** The largest counter an id may carry: `Number.MAX_SAFE_INTEGER`. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

const REPLICA_RE = /^[A-Za-z0-9_-]{8,64}$/;
const COUNTER_RE = /^(0|[1-9][0-9]{0,15})$/;

export interface CharId {
  readonly counter: number;
  readonly replica: string;
}

export function isReplica(value: unknown): value is string {
  return typeof value === "string" && REPLICA_RE.test(value);
}

export function checkReplica(value: unknown): string {
  if (!isReplica(value)) {
    throw new CrdtError(`invalid replica id ${JSON.stringify(value)}: expected 8 to 64 characters from [A-Za-z0-9_-]`);
  }
  return value;
}

/** The wire form of an id. */
export function wireId(replica: string, counter: number): string {
  return `${replica}:${counter}`;
}

/** Parse `"{replica}:{counter}"` strictly (split on the last `:`), like `CharId.parse`. */
export function parseId(text: unknown): CharId {
  if (typeof text !== "string") {
    throw new CrdtError(`invalid char id ${JSON.stringify(text)}: expected a string`);
  }
  const cut = text.lastIndexOf(":");
  if (cut < 0) {
    throw new CrdtError(`invalid char id ${JSON.stringify(text)}: expected the form '{replica}:{counter}'`);
  }
  const replica = text.slice(0, cut);
  const digits = text.slice(cut + 1);
  if (!REPLICA_RE.test(replica)) {
    throw new CrdtError(
      `invalid char id ${JSON.stringify(text)}: the replica part must be 8 to 64 characters from [A-Za-z0-9_-]`,
    );
  }
  if (!COUNTER_RE.test(digits)) {
    throw new CrdtError(
      `invalid char id ${JSON.stringify(text)}: the counter must be a non-negative integer written in decimal without leading zeros`,
    );
  }
  const counter = Number(digits);
  if (counter > MAX_COUNTER) {
    throw new CrdtError(`invalid char id ${JSON.stringify(text)}: counter above ${MAX_COUNTER}`);
  }
  return { counter, replica };
}

/** -1, 0 or 1 as `(c1, r1)` is smaller than, equal to or greater than `(c2, r2)`. */
export function compareIds(c1: number, r1: string, c2: number, r2: string): number {
  if (c1 !== c2) return c1 < c2 ? -1 : 1;
  if (r1 === r2) return 0;
  return r1 < r2 ? -1 : 1;
}

/** A fresh random replica id (96 bits, URL-safe base64: 16 characters). */
export function newReplicaId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
