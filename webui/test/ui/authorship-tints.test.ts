import { describe, expect, it } from "vitest";
import { COLORS, colorFor } from "../../src/protocol/messages";
import { authorTints } from "../../src/ui/editor/authorship";

/** Two user ids whose caret colours are the same (one pair in eight is). */
function clashing(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const id = `user-${i}`;
    const other = seen.get(colorFor(id));
    if (other) return [other, id];
    seen.set(colorFor(id), id);
  }
}

describe("authorship tints", () => {
  it("keeps each author's caret colour when they differ", () => {
    const ids = ["user-a", "user-b"].filter((id, _, all) => colorFor(id) !== colorFor(all[0]!) || id === all[0]);
    const tints = authorTints(ids);
    for (const id of ids) expect(tints.get(id)).toBe(COLORS.indexOf(colorFor(id) as (typeof COLORS)[number]));
  });

  it("gives two authors with the same caret colour different tints, the same for every viewer", () => {
    const [a, b] = clashing();
    const one = authorTints([a, b]);
    const other = authorTints([b, a, b]);
    expect(one.get(a)).not.toBe(one.get(b));
    expect([...one.entries()].sort()).toEqual([...other.entries()].sort());
  });

  it("reuses colours only beyond the palette", () => {
    const ids = Array.from({ length: COLORS.length }, (_, i) => `person-${i}`);
    expect(new Set(authorTints(ids).values()).size).toBe(COLORS.length);
  });
});
