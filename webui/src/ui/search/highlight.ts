/**
 * A search snippet or title with its matches marked, built from text nodes and <mark> elements.
 * The server sends plain text plus `[start, end)` UTF-16 ranges, never HTML: nothing here parses
 * markup, so a document that says `<img onerror=…>` shows exactly that, as text. Ranges that are
 * out of bounds, reversed or overlapping are ignored (a misbehaving server cannot break the page).
 */
import { h } from "../dom";

export type Range = [number, number];

/** The valid ranges, sorted and without overlaps. */
export function cleanRanges(text: string, ranges: readonly unknown[]): Range[] {
  const valid: Range[] = [];
  for (const r of ranges) {
    if (!Array.isArray(r) || r.length !== 2) continue;
    const [s, e] = r as unknown[];
    if (!Number.isInteger(s) || !Number.isInteger(e)) continue;
    const start = Number(s);
    const end = Number(e);
    if (0 <= start && start < end && end <= text.length) valid.push([start, end]);
  }
  valid.sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of valid) if (!out.length || r[0] >= out[out.length - 1]![1]) out.push(r);
  return out;
}

/** `text` as text nodes with each range wrapped in <mark>. */
export function highlighted(text: string, ranges: readonly unknown[]): (string | HTMLElement)[] {
  const parts: (string | HTMLElement)[] = [];
  let at = 0;
  for (const [start, end] of cleanRanges(text, ranges)) {
    if (start > at) parts.push(text.slice(at, start));
    parts.push(h("mark", {}, text.slice(start, end)));
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
