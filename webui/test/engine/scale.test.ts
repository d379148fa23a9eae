/**
 * Index <-> id and code point <-> UTF-16 lookups stay fast on a long document with many
 * tombstones (runs + blocks, no per-character walk). Generous bounds: this guards against an
 * accidental O(n) path, not against a slow machine.
 */
import { describe, expect, it } from "vitest";
import { Document, decodeState, encodeState } from "../../src/engine";
import { int, rng } from "./random";

function longDocument(): Document {
  const r = rng(11);
  const doc = new Document("scaleAAA");
  const other = new Document("scaleBBB");
  while (doc.length < 120_000) {
    const ops = other.insert(int(r, 0, other.length), "lorem ipsum dolor sit amet 😀 ".repeat(int(r, 1, 8)));
    doc.apply(ops);
  }
  while (doc.length > 100_000) {
    const i = int(r, 0, doc.length - 3);
    other.apply(doc.delete(i, int(r, 1, 3)));
  }
  return doc;
}

describe("scale", () => {
  it("edits and maps positions in a 100,000-character document with thousands of tombstones quickly", () => {
    const doc = longDocument();
    expect(doc.length).toBeLessThanOrEqual(100_000);
    const r = rng(5);
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++) {
      const index = int(r, 0, doc.length - 1);
      const id = doc.idAt(index);
      expect(doc.indexOf(id)).toBe(index);
      const u = doc.toUtf16(index);
      expect(doc.fromUtf16(u)).toBe(index);
    }
    for (let i = 0; i < 5_000; i++) {
      if (i % 3) doc.insert(int(r, 0, doc.length), "x");
      else doc.delete(int(r, 0, doc.length - 1), 1);
    }
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(5_000);
    const t1 = performance.now();
    const copy = decodeState(encodeState(doc), "scaleCCC");
    expect(copy.text).toBe(doc.text);
    expect(performance.now() - t1).toBeLessThan(2_000);
  });
});
