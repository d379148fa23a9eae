// Recent edits read as runs of typing or deleting, not one line per keystroke.
import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/protocol/rest";
import { editRuns } from "../../src/ui/history-runs";

let seq = 0;
function entry(
  author: string,
  kind: string,
  position: number,
  text: string,
  length = text.length,
  at = 0,
): HistoryEntry {
  seq += 1;
  const created_at = new Date(Date.UTC(2026, 0, 1) + at * 1000).toISOString();
  return { seq, author, user_name: author.toUpperCase(), kind, text, position, length, created_at };
}

describe("editRuns", () => {
  it("joins a run of typing and a run of backspacing, and keeps other people apart", () => {
    const oldestFirst = [
      entry("ann", "insert", 0, "h"),
      entry("ann", "insert", 1, "e"),
      entry("ann", "insert", 2, "y"),
      entry("bob", "insert", 3, "!"),
      entry("ann", "delete", 2, "", 1),
      entry("ann", "delete", 1, "", 1),
      entry("ann", "insert", 0, "X", 1, 500), // much later, elsewhere
    ];
    const runs = editRuns([...oldestFirst].reverse());
    expect(runs.map((r) => [r.user_name, r.kind, r.text, r.length])).toEqual([
      ["ANN", "insert", "X", 1],
      ["ANN", "delete", "", 2],
      ["BOB", "insert", "!", 1],
      ["ANN", "insert", "hey", 3],
    ]);
  });

  it("does not join typing in two places", () => {
    const runs = editRuns([entry("ann", "insert", 0, "b"), entry("ann", "insert", 5, "a")].reverse());
    expect(runs).toHaveLength(2);
  });
});
