/**
 * Comment anchors follow their words through concurrent edits on two replicas (the twin of
 * tests/crdt/test_anchors.py): typing before, after and inside, deleting part or all of them.
 */
import { describe, expect, it } from "vitest";
import { Document, resolveAnchor, type AnchorSpan, type CharId } from "../../src/engine";

function pair(text: string): [Document, Document] {
  const a = new Document("alice001");
  const b = new Document("bob00001");
  b.apply(a.insert(0, text));
  return [a, b];
}

function anchor(doc: Document, word: string): [CharId, CharId] {
  const at = doc.text.indexOf(word);
  return [doc.idAt(at), doc.idAt(at + word.length - 1)];
}

function spanText(doc: Document, span: AnchorSpan | null): string {
  if (span === null) throw new Error("unknown anchor");
  return doc.text.slice(span.start, span.end);
}

describe("comment anchors", () => {
  it("follow their words while both replicas edit concurrently", () => {
    const [a, b] = pair("the quick brown fox");
    const [start, end] = anchor(a, "quick");
    const opsA = a.insert(0, "Look: ");
    const opsB = [...b.insert(b.text.length, " jumps"), ...b.delete(b.text.indexOf("brown"), "brown ".length)];
    a.apply(opsB);
    b.apply(opsA);
    expect(a.text).toBe("Look: the quick fox jumps");
    expect(b.text).toBe(a.text);
    for (const doc of [a, b]) {
      const span = resolveAnchor(doc, start, end);
      expect(spanText(doc, span)).toBe("quick");
      expect(span?.deleted).toBe(false);
    }
  });

  it("shrink to what is left when their edges are deleted", () => {
    const [a, b] = pair("alpha beta gamma");
    const [start, end] = anchor(a, "beta gamma");
    a.apply(b.delete(b.text.indexOf("beta"), 2));
    a.apply(b.delete(b.text.length - 2, 2));
    expect(spanText(a, resolveAnchor(a, start, end))).toBe("ta gam");
  });

  it("are on deleted text, where it was, when all of it is gone", () => {
    const [a, b] = pair("keep this gone keep");
    const [start, end] = anchor(a, "this gone");
    const ops = [...b.delete(b.text.indexOf("this"), "this gone ".length), ...b.insert(0, ">> ")];
    a.apply(ops);
    expect(a.text).toBe(">> keep keep");
    expect(resolveAnchor(a, start, end)).toEqual({ start: 8, end: 8, deleted: true });
  });

  it("agree on both replicas after concurrent deletes of the whole anchor", () => {
    const [a, b] = pair("x target y");
    const [start, end] = anchor(a, "target");
    const opsA = a.delete(2, 3);
    const opsB = b.delete(4, 5);
    a.apply(opsB);
    b.apply(opsA);
    expect(a.text).toBe("x y");
    expect(resolveAnchor(a, start, end)).toEqual({ start: 2, end: 2, deleted: true });
    expect(resolveAnchor(b, start, end)).toEqual({ start: 2, end: 2, deleted: true });
  });

  it("are null for ids the replica does not know", () => {
    const [a] = pair("abc");
    expect(resolveAnchor(a, { replica: "zzzzzzzz", counter: 9 }, a.idAt(0))).toBeNull();
  });
});
