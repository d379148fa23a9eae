// The status bar's counts: words as a writer counts them (contractions, numbers, accents, any
// script) and characters as code points; the history's session summary.
import { describe, expect, it } from "vitest";
import { countChars, countWords } from "../../src/ui/editor/writing";
import { summary } from "../../src/ui/history/sessions";

describe("counts", () => {
  it("counts words", () => {
    expect(countWords("")).toBe(0);
    expect(countWords("  \n\t ")).toBe(0);
    expect(countWords("Hello brave new world, it’s déjà vu 😀")).toBe(7);
    expect(countWords("well-known e.g. 3.14 and 1,000 — done")).toBe(6);
    expect(countWords("Привет мир")).toBe(2);
    expect(countWords("# Title\n\n- item one\n- item two")).toBe(5);
  });
  it("counts characters as code points", () => {
    expect(countChars("abc")).toBe(3);
    expect(countChars("😀é")).toBe(2);
    expect(countChars("")).toBe(0);
  });
  it("summarises a session", () => {
    expect(summary({ inserted: 312, deleted: 40 })).toBe("+312 \u221240 characters");
    expect(summary({ inserted: 1, deleted: 0 })).toBe("+1 character");
    expect(summary({ inserted: 1200, deleted: 0 })).toBe("+1,200 characters");
  });
});
