/**
 * Property tests of the TypeScript engine on its own: replicas editing concurrently converge
 * whatever the delivery order and duplicates; integration is idempotent; errors are atomic.
 */
import { describe, expect, it } from "vitest";
import { CrdtError, Document, encodeState, toBase64, type Op } from "../../src/engine";
import { int, randomText, rng } from "./random";

interface Msg {
  from: number;
  ops: Op[];
}

function simulate(seed: number, replicas: number, steps: number): Document[] {
  const r = rng(seed);
  const docs = Array.from({ length: replicas }, (_, i) => new Document(`replica${seed}x${i}`));
  const inbox: Msg[][] = docs.map(() => []);
  const deliver = (to: number): void => {
    const queue = inbox[to]!;
    if (!queue.length) return;
    // any message may arrive next; one whose parents are missing waits (causal delivery)
    const k = int(r, 0, queue.length - 1);
    const msg = queue[k]!;
    try {
      docs[to]!.apply(msg.ops);
      queue.splice(k, 1);
      if (r() < 0.1) docs[to]!.apply(msg.ops); // duplicates change nothing
    } catch (exc) {
      expect(exc).toBeInstanceOf(CrdtError);
      expect((exc as CrdtError).code).toBe("unknown_id");
    }
  };
  for (let step = 0; step < steps; step++) {
    const who = int(r, 0, replicas - 1);
    const doc = docs[who]!;
    const roll = r();
    let ops: Op[] | null = null;
    if (roll < 0.45 || doc.length === 0) ops = doc.insert(int(r, 0, doc.length), randomText(r, r() < 0.05 ? 300 : 5));
    else if (roll < 0.65) {
      const i = int(r, 0, doc.length - 1);
      ops = doc.delete(i, Math.min(doc.length - i, int(r, 1, 8)));
    } else deliver(who);
    if (ops) for (let j = 0; j < replicas; j++) if (j !== who) inbox[j]!.push({ from: who, ops });
  }
  // drain
  for (let guard = 0; inbox.some((q) => q.length) && guard < 1e6; guard++) deliver(guard % replicas);
  return docs;
}

describe("convergence", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`replicas converge after random concurrent edits and deliveries (seed ${seed})`, () => {
      const docs = simulate(seed, 4, 1500);
      const text = docs[0]!.text;
      const state = toBase64(encodeState(docs[0]!));
      for (const d of docs) {
        expect(d.text).toBe(text);
        expect(toBase64(encodeState(d))).toBe(state);
      }
    });
  }

  it("orders concurrent siblings by id descending, comparing counters as numbers", () => {
    const a = new Document("aaaaaaaa");
    const b = new Document("bbbbbbbb");
    // make b's counter reach 10 first so that "b:10" vs "a:9" would sort wrongly as strings
    for (let i = 0; i < 9; i++) b.apply(a.insert(a.length, "x"));
    b.apply(a.delete(0, 9));
    const opA = a.insert(0, "A"); // a:10
    const opB = b.insert(0, "B"); // b:10 -> larger replica wins: B first
    a.apply(opB);
    b.apply(opA);
    expect(a.text).toBe("BA");
    expect(b.text).toBe("BA");
  });

  it("refuses bad ops atomically and with the protocol's codes", () => {
    const a = new Document("replicaA");
    const ops = a.insert(0, "hi");
    const b = new Document("replicaB");
    expect(() => b.apply([{ kind: "del", id: "replicaA:1", len: 1 }])).toThrowError(/op 0: .*does not know/);
    try {
      b.apply([ops[0]!, { kind: "ins", id: "replicaA:9", after: "nobodyxx:3", text: "z" }]);
    } catch (exc) {
      expect((exc as CrdtError).code).toBe("unknown_id");
      expect((exc as CrdtError).message).toMatch(/^op 1: /);
    }
    expect(b.text).toBe("hi"); // op 0 stayed applied
    expect(() => b.apply([{ kind: "ins", id: "replicaA:1", after: null, text: "X" }])).toThrow(
      expect.objectContaining({ code: "duplicate_id_conflict" }),
    );
    expect(() => b.apply([{ kind: "ins", id: "replicaA:2", after: "replicaA:2", text: "X" }])).toThrow(/Lamport/);
    expect(() => b.apply([{ kind: "ins", id: "bad id:1", after: null, text: "X" }])).toThrow(
      expect.objectContaining({ code: "bad_message" }),
    );
    expect(() => b.apply([{ kind: "ins", id: "replicaC:1", after: null, text: "\ud800" }])).toThrow(/surrogates/);
    expect(() => b.apply([{ kind: "ins", id: "replicaC:01", after: null, text: "x" }])).toThrow(/leading zeros/);
    expect(b.text).toBe("hi");
  });

  it("splits long inserts into chained ops of at most 65,536 code points", () => {
    const a = new Document("replicaA");
    const text = "😀".repeat(70_000);
    const ops = a.insert(0, text);
    expect(ops.map((o) => (o.kind === "ins" ? [o.id, o.after, Array.from(o.text).length] : null))).toEqual([
      ["replicaA:1", null, 65_536],
      ["replicaA:65537", "replicaA:65536", 4464],
    ]);
    const b = new Document("replicaB");
    b.apply(ops);
    expect(b.text).toBe(text);
  });
});
