import { describe, expect, it } from "vitest";
import { Document, encodeState, toBase64 } from "../../src/engine";
import { colorFor, type Welcome } from "../../src/protocol/messages";
import { ClientSession, MAX_OPS_PER_MESSAGE, chunkOps, textDiff } from "../../src/protocol/session";

const user = { id: "u1", name: "Ada", color: "#E02424" };

function welcome(seq: number, extra: Partial<Welcome> = {}): Welcome {
  return { type: "welcome", doc_id: "d", seq, role: "editor", user, peers: [], ...extra };
}

describe("ClientSession (mirrors docstream/protocol/session.py)", () => {
  it("keeps edits pending until acked and sends nothing while offline", () => {
    const s = new ClientSession("replicaA");
    expect(s.insert(0, "hi")).toEqual([]); // not live yet
    expect(s.pending.size).toBe(1);
    expect(s.hello()).toEqual({ type: "hello", replica: "replicaA", since: 0, batch: true });
    const events = s.receive(welcome(0, { ops: [] }));
    expect(events[0]!.kind).toBe("welcomed");
    expect(s.resend()).toEqual([
      { type: "ops", ref: 1, ops: [{ kind: "ins", id: "replicaA:1", after: null, text: "hi" }] },
    ]);
    const frames = s.insert(2, "!");
    expect(frames).toEqual([
      { type: "ops", ref: 2, ops: [{ kind: "ins", id: "replicaA:3", after: "replicaA:2", text: "!" }] },
    ]);
    s.receive({ type: "ack", ref: 1, seq: 1 });
    s.receive({ type: "ack", ref: 2, seq: 2 });
    expect(s.pending.size).toBe(0);
    expect(s.since).toBe(2);
  });

  it("reads a batch in order, with an ack of several messages", () => {
    const other = new Document("replicaB");
    const s = new ClientSession("replicaA");
    s.hello();
    s.receive(welcome(0, { ops: [] }));
    s.insert(0, "a");
    s.insert(1, "b");
    s.insert(2, "c");
    expect([...s.pending.keys()]).toEqual([1, 2, 3]);
    // Messages 1 and 2 at seqs 1-2, someone else's entry at 3, message 3 at 4.
    const events = s.receive({
      type: "batch",
      frames: [
        { type: "ack", ref: 2, seq: 2, n: 2 },
        { type: "ops", seq: 3, author: "u2", replica: "replicaB", ops: other.insert(0, "X") },
        { type: "ack", ref: 3, seq: 4 },
      ],
    });
    expect(events.map((e) => e.kind)).toEqual(["acked", "acked", "remote", "acked"]);
    expect(events.filter((e) => e.kind === "acked")).toEqual([
      { kind: "acked", ref: 1, seq: 1 },
      { kind: "acked", ref: 2, seq: 2 },
      { kind: "acked", ref: 3, seq: 4 },
    ]);
    expect(s.pending.size).toBe(0);
    expect(s.since).toBe(4);
    expect(s.doc.text).toBe("Xabc");
  });

  it("applies remote ops in seq order, ignores old ones and reports a gap", () => {
    const other = new Document("replicaB");
    const s = new ClientSession("replicaA");
    s.hello();
    s.receive(welcome(0, { ops: [] }));
    const ev = s.receive({ type: "ops", seq: 1, author: "u2", replica: "replicaB", ops: other.insert(0, "yo") });
    expect(ev).toEqual([
      {
        kind: "remote",
        seq: 1,
        author: "u2",
        replica: "replicaB",
        changes: [{ index: 0, deleted: 0, inserted: "yo", from16: 0, deleted16: 0 }],
      },
    ]);
    expect(s.receive({ type: "ops", seq: 1, author: "u2", replica: "replicaB", ops: [] })).toEqual([]);
    expect(s.receive({ type: "ops", seq: 3, author: "u2", replica: "replicaB", ops: [] })[0]!.kind).toBe("desynced");
  });

  it("replaces its replica by a welcome state and re-applies pending edits on top", () => {
    const server = new Document("serverrep");
    server.insert(0, "server text");
    const s = new ClientSession("replicaA");
    s.insert(0, "mine ");
    s.hello();
    const events = s.receive(welcome(7, { state: toBase64(encodeState(server)) }));
    // both start at the document start: the larger id ("serverrep" > "replicaA") goes first
    expect(s.doc.text).toBe("server textmine ");
    expect(s.since).toBe(7);
    const w = events[0]!;
    expect(w.kind === "welcomed" && w.changes).toEqual([
      { index: 0, deleted: 0, inserted: "server text", from16: 0, deleted16: 0 },
    ]);
    expect(s.pending.size).toBe(1);
  });

  it("catches up from welcome ops after a reconnect", () => {
    const other = new Document("replicaB");
    const s = new ClientSession("replicaA");
    s.hello();
    s.receive(welcome(0, { ops: [] }));
    const e1 = other.insert(0, "ab");
    const e2 = other.insert(2, "c");
    s.hello();
    const ev = s.receive(
      welcome(2, {
        ops: [
          { seq: 1, author: "u2", ops: e1 },
          { seq: 2, author: "u2", ops: e2 },
        ],
      }),
    );
    expect(s.doc.text).toBe("abc");
    expect(ev[0]!.kind === "welcomed" && ev[0].changes.length).toBe(2);
  });

  it("drops a message refused for good, and resynchronises after a transient refusal", () => {
    const s = new ClientSession("replicaA");
    s.hello();
    s.receive(welcome(0, { ops: [] }));
    s.insert(0, "a");
    s.insert(1, "b");
    const ev = s.receive({ type: "error", code: "read_only", message: "viewers cannot edit", ref: 1 });
    expect(ev).toEqual([
      {
        kind: "refused",
        code: "read_only",
        message: "viewers cannot edit",
        ref: 1,
        dropped: [{ kind: "ins", id: "replicaA:1", after: null, text: "a" }],
      },
    ]);
    expect([...s.pending.keys()]).toEqual([2]);
    s.insert(2, "c");
    s.receive({ type: "error", code: "storage_unavailable", message: "db down", ref: 2 });
    expect(s.resync).toBe(true);
    // a later unknown_id on this connection is not final: it may depend on the refused one
    const later = s.receive({ type: "error", code: "unknown_id", message: "unknown parent", ref: 3 });
    expect(later[0]!.kind === "refused" && later[0].dropped).toBe(null);
    expect([...s.pending.keys()]).toEqual([2, 3]);
    s.hello();
    expect(s.resync).toBe(false);
  });

  it("anchors carets to the char before each end and finds them again", () => {
    const s = new ClientSession("replicaA");
    s.insert(0, "hello");
    const frame = s.cursor(0, 3);
    expect(frame).toEqual({ type: "cursor", anchor: null, head: "replicaA:3" });
    expect(s.indexOfAnchor("replicaA:3")).toBe(3);
    s.delete(1, 3); // "ho": the anchor char is a tombstone now
    expect(s.indexOfAnchor("replicaA:3")).toBe(1);
    expect(s.indexOfAnchor("nobodyxx:1")).toBe(0);
    expect(s.indexOfAnchor(null)).toBe(0);
  });

  it("splits a huge edit into messages within the frame limits", () => {
    const doc = new Document("replicaA");
    doc.insert(0, "x".repeat(10_000));
    for (let i = 9_998; i > 0; i -= 2) doc.delete(i, 1); // every other char: many runs
    const ops = doc.delete(0, doc.length);
    expect(ops.length).toBeGreaterThan(MAX_OPS_PER_MESSAGE);
    const chunks = chunkOps(ops);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(ops);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(MAX_OPS_PER_MESSAGE);
  });

  it("keeps every message within the server's 1 MiB of UTF-8, whatever the script", () => {
    for (const char of ["界", "😀", "é"]) {
      const doc = new Document("replicaA");
      // Many inserts of 40,000 characters each (below the server's 65,536 per insert).
      const ops = Array.from({ length: 20 }, () => doc.insert(doc.length, char.repeat(40_000 / char.length))).flat();
      for (const chunk of chunkOps(ops)) {
        const frame = JSON.stringify({ type: "ops", ref: 1_000_000, ops: chunk });
        expect(new TextEncoder().encode(frame).length).toBeLessThanOrEqual(1024 * 1024);
      }
    }
  });

  it("diffs texts without cutting surrogate pairs", () => {
    expect(textDiff("a😀b", "a😃b")).toEqual([{ index: 1, deleted: 1, inserted: "😃", from16: 1, deleted16: 2 }]);
    expect(textDiff("same", "same")).toEqual([]);
  });

  it("computes the protocol's colours like the server", () => {
    expect(colorFor("alice")).toBe("#D03801");
    expect(colorFor("user-1")).toBe("#0E9F6E");
    expect(colorFor("00000000-0000-0000-0000-000000000000")).toBe("#3F83F8");
    expect(colorFor("é😀")).toBe("#E02424");
  });

  it("carries a guest's unsaved edits to its next replica as new ops, keeping others' edits", () => {
    const server = new Document("serverrep");
    const guest = new ClientSession("guestone");
    guest.hello();
    guest.receive(welcome(0, { state: toBase64(encodeState(server)) }));
    guest.insert(0, "Hello");
    guest.receive({ type: "ack", ref: 1, seq: 1 });
    server.apply([{ kind: "ins", id: "guestone:1", after: null, text: "Hello" }]); // stored at seq 1
    guest.insert(5, " world"); // never acked: the connection dropped
    server.insert(0, ">> "); // someone else, meanwhile
    const next = guest.reincarnate("guesttwo");
    expect(next.hello()).toEqual({ type: "hello", replica: "guesttwo", since: 0, batch: true });
    const ev = next.receive(welcome(2, { state: toBase64(encodeState(server)) }));
    expect(next.doc.text).toBe(">> Hello world");
    const frames = next.resend();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.ops.every((op) => op.id.startsWith("guesttwo:"))).toBe(true);
    expect(ev[0]!.kind === "welcomed" && ev[0].changes.length).toBe(1);
    server.apply(frames[0]!.ops);
    expect(server.text).toBe(">> Hello world");
  });
});
