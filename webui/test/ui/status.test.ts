// The connection indicator counts edits as people see them: a run of typing or of deleting is one
// edit, however many keystrokes (protocol messages) it took.
import { describe, expect, it } from "vitest";
import { Document } from "../../src/engine";
import type { Op } from "../../src/engine/ops";
import { countEdits } from "../../src/ui/editor/status";

describe("countEdits", () => {
  it("counts a run of typing as one edit and a jump elsewhere as another", () => {
    const doc = new Document("replicaA");
    const messages: Op[][] = [];
    const text = "hello world";
    for (let i = 0; i < text.length; i++) messages.push(doc.insert(i, text[i]!));
    expect(countEdits(messages)).toBe(1);
    messages.push(doc.insert(0, "A"), doc.insert(1, "B"));
    expect(countEdits(messages)).toBe(2);
  });

  it("counts a run of deletions as one edit", () => {
    const doc = new Document("replicaA");
    const messages: Op[][] = [doc.insert(0, "abcdef")];
    for (let i = 6; i > 2; i--) messages.push(doc.delete(i - 1, 1));
    expect(countEdits(messages)).toBe(2);
    expect(countEdits([])).toBe(0);
  });

  it("counts a pasted block that follows typing as part of it", () => {
    const doc = new Document("replicaA");
    const messages: Op[][] = [doc.insert(0, "ab"), doc.insert(2, "pasted text")];
    expect(countEdits(messages)).toBe(1);
  });
});
