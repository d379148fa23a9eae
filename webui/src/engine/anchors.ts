/**
 * Where a comment's anchor is in the text now: the twin of docstream/crdt/anchors.py.
 *
 * A comment names the ids of the first and last characters it was written on. Ids never change
 * and a deleted character stays as a tombstone, so the anchor keeps naming the same words while
 * anyone types before, after or inside them. The span runs from the first character still visible
 * at or after the start id to the last one visible at or before the end id (code point indexes,
 * end exclusive); when none is left the comment is "on deleted text", at the place it was.
 */
import type { CharId } from "./ids";
import type { Document } from "./rga";

export interface AnchorSpan {
  start: number;
  end: number;
  deleted: boolean;
}

/** The span of the anchor `start`..`end` in `doc` now; null if an id is unknown to `doc`. */
export function resolveAnchor(doc: Document, start: CharId, end: CharId): AnchorSpan | null {
  if (!doc.has(start) || !doc.has(end)) return null;
  let lo = doc.indexOf(start);
  let hi = doc.indexOf(end) + (doc.isVisible(end) ? 1 : 0);
  if (hi < lo) {
    lo = doc.indexOf(end);
    hi = doc.indexOf(start) + (doc.isVisible(start) ? 1 : 0);
  }
  if (hi <= lo) return { start: lo, end: lo, deleted: true };
  return { start: lo, end: hi, deleted: false };
}
