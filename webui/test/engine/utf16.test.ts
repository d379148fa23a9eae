import { describe, expect, it } from "vitest";
import { Document, decodeState, encodeState } from "../../src/engine";
import { cpCount, cpLength, cpSlice, hasLoneSurrogate, unitOffset } from "../../src/engine/utf16";
import { int, randomText, rng } from "./random";

/** Naive reference: code point index -> UTF-16 offset in `text`. */
function naiveTo16(text: string, index: number): number {
  return Array.from(text).slice(0, index).join("").length;
}

describe("code points and UTF-16 units", () => {
  it("counts astral characters as one code point and two units", () => {
    expect(cpLength("a😀b")).toBe(3);
    expect(unitOffset("a😀b", 2, true)).toBe(3);
    expect(cpCount("a😀b", 3, true)).toBe(2);
    expect(cpSlice("a😀b𝄞", 1, 3, true)).toBe("😀b");
    expect(hasLoneSurrogate("ok😀")).toBe(false);
    expect(hasLoneSurrogate("bad\ud83d")).toBe(true);
    expect(hasLoneSurrogate("\ude00bad")).toBe(true);
  });

  it("maps indexes to CodeMirror offsets and back on a long edited document with emoji", () => {
    const r = rng(7);
    const doc = new Document("utf16test");
    for (let step = 0; step < 3000; step++) {
      if (doc.length > 0 && r() < 0.35) {
        const i = int(r, 0, doc.length - 1);
        doc.delete(i, Math.min(doc.length - i, int(r, 1, 5)));
      } else {
        doc.insert(int(r, 0, doc.length), randomText(r, 8));
      }
    }
    const text = doc.text;
    expect(doc.length16).toBe(text.length);
    expect(doc.length).toBe(Array.from(text).length);
    const cps = Array.from(text);
    let u = 0;
    for (let i = 0; i <= cps.length; i += 1) {
      expect(doc.toUtf16(i)).toBe(u);
      expect(doc.fromUtf16(u)).toBe(i);
      if (i < cps.length) u += cps[i]!.length;
    }
    // positions inside a surrogate pair round up to after the character
    const astral = cps.findIndex((c) => c.length === 2);
    if (astral >= 0) expect(doc.fromUtf16(naiveTo16(text, astral) + 1)).toBe(astral + 1);
    // and the decoded state agrees
    const copy = decodeState(encodeState(doc), "otherrep");
    expect(copy.length16).toBe(doc.length16);
    expect(copy.toUtf16(cps.length >> 1)).toBe(naiveTo16(text, cps.length >> 1));
  });

  it("reports remote changes in both units", () => {
    const a = new Document("replicaA");
    const b = new Document("replicaB");
    b.apply(a.insert(0, "😀😀"));
    const ops = a.insert(1, "x🎉");
    const changes = b.applyAndDiff(ops);
    expect(changes).toEqual([{ index: 1, deleted: 0, inserted: "x🎉", from16: 2, deleted16: 0 }]);
    const del = a.delete(0, 3);
    // two del ops at the same index merge into one change, as in the Python engine
    expect(del.length).toBe(2);
    expect(b.applyAndDiff(del).map((c) => [c.index, c.deleted, c.from16, c.deleted16])).toEqual([[0, 3, 0, 5]]);
    expect(b.text).toBe(a.text);
  });
});
