/**
 * Code points vs UTF-16 units. The CRDT's elements are code points (Python `str` indexes);
 * JavaScript strings and CodeMirror positions are UTF-16 units. Every helper has an O(1) path
 * for text without surrogates, which is almost all text.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/** Whether `s` contains any surrogate unit (so code points and units differ). */
export function hasSurrogates(s: string): boolean {
  return SURROGATE.test(s);
}

/** The number of code points of `s` (a lone surrogate counts as one, as in Python). */
export function cpLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
      const v = s.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The UTF-16 offset of code point `k` of `s` (`k` may equal the code point length). */
export function unitOffset(s: string, k: number, astral: boolean): number {
  if (!astral) return k;
  let i = 0;
  for (let n = 0; n < k; n++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
      const v = s.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) i++;
    }
    i++;
  }
  return i;
}

/** The number of code points in the first `units` UTF-16 units of `s` (a split pair counts). */
export function cpCount(s: string, units: number, astral: boolean): number {
  if (!astral) return units;
  let n = 0;
  let i = 0;
  while (i < units) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
      const v = s.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) i++;
    }
    i++;
    n++;
  }
  return n;
}

/** Code points `lo .. hi-1` of `s`. */
export function cpSlice(s: string, lo: number, hi: number, astral: boolean): string {
  if (!astral) return s.slice(lo, hi);
  const a = unitOffset(s, lo, true);
  return s.slice(a, a + unitOffset(s.slice(a), hi - lo, true));
}

/** Whether `s` has an unpaired surrogate (not encodable as UTF-8; Python refuses it). */
export function hasLoneSurrogate(s: string): boolean {
  if (!SURROGATE.test(s)) return false;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff) {
      const v = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (v >= 0xdc00 && v <= 0xdfff) {
        i++;
        continue;
      }
      return true;
    }
    if (u >= 0xdc00 && u <= 0xdfff) return true;
  }
  return false;
}
