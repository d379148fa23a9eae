// Who wrote what: the replicas of the visible text over a UTF-16 range, as the authorship colours
// read them, checked against a per-character walk (idAt) on text typed by two replicas.
import { describe, expect, it } from "vitest";
import { Document } from "../../src/engine";

function naive(doc: Document, from16: number, to16: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let i = 0; i < doc.length; i++) {
    const lo = doc.toUtf16(i);
    const hi = doc.toUtf16(i + 1);
    if (hi <= from16 || lo >= to16) continue;
    const r = doc.idAt(i).replica;
    const last = out[out.length - 1];
    const a = Math.max(lo, from16);
    const b = Math.min(hi, to16);
    if (last && last[0] === r && last[2] === a) last[2] = b;
    else out.push([r, a, b]);
  }
  return out;
}

describe("replicaSpans", () => {
  it("names the replica of every visible character, merged into spans", () => {
    const ann = new Document("annReplica01");
    const bob = new Document("bobReplica01");
    const sync = (from: Document, to: Document, ops: ReturnType<Document["insert"]>): void => {
      to.apply(ops);
      void from;
    };
    sync(ann, bob, ann.insert(0, "Hello world"));
    sync(bob, ann, bob.insert(5, ", dear 😀"));
    sync(ann, bob, ann.delete(0, 2));
    sync(bob, ann, bob.insert(bob.length, "!"));
    expect(ann.text).toBe(bob.text);
    expect(ann.text).toBe("llo, dear 😀 world!");
    const all = [...ann.replicaSpans(0, ann.length16)];
    expect(all).toEqual(naive(ann, 0, ann.length16));
    expect(all.map(([r]) => r)).toEqual(["annReplica01", "bobReplica01", "annReplica01", "bobReplica01"]);
    for (const [from, to] of [
      [0, 1],
      [2, 7],
      [10, 12],
      [11, 20],
      [5, 5],
    ] as const)
      expect([...ann.replicaSpans(from, to)]).toEqual(naive(ann, from, to));
  });

  it("walks a long document's blocks", () => {
    const doc = new Document("annReplica01");
    const other = new Document("bobReplica01");
    for (let i = 0; i < 300; i++) {
      const ops = (i % 2 ? other : doc).insert((i % 2 ? other : doc).length, `chunk ${i} `);
      (i % 2 ? doc : other).apply(ops);
    }
    const len = doc.length16;
    expect([...doc.replicaSpans(0, len)]).toEqual(naive(doc, 0, len));
    expect([...doc.replicaSpans(1000, 1100)]).toEqual(naive(doc, 1000, 1100));
  });
});
