import { describe, expect, it } from "vitest";
import {
  Document,
  StateFormatError,
  decodeRuns,
  decodeState,
  encodeRuns,
  encodeState,
  toBase64,
} from "../../src/engine";

describe("state encoding", () => {
  it("round-trips documents with tombstones, astral text and counters above 2**32", () => {
    const a = new Document("replicaA");
    a.apply([{ kind: "ins", id: "replicaB:5000000000", after: null, text: "big😀" }]);
    a.insert(2, "mid");
    a.delete(0, 1);
    const blob = encodeState(a);
    const b = decodeState(blob, "replicaC");
    expect(b.text).toBe(a.text);
    expect(b.maxCounter).toBe(a.maxCounter);
    expect(encodeState(b)).toEqual(blob);
    expect(b.insert(0, "x")[0]!.id).toBe(`replicaC:${a.maxCounter + 1}`);
  });

  it("writes the documented layout for a small document", () => {
    // version 1; 1 replica "replicaA"; text "ac"; 3 runs: a (head 3: new replica 0, counter 1),
    // b (head 4: deleted, counter implied), c (head 0)
    const blob = encodeRuns([
      ["replicaA", 1, 1, "a"],
      ["replicaA", 2, 1, null],
      ["replicaA", 3, 1, "c"],
    ]);
    expect([...blob]).toEqual([1, 1, 8, ...new TextEncoder().encode("replicaA"), 2, 97, 99, 3, 3, 0, 1, 4, 0]);
  });

  it("gives the worked example of docs/state-format.md byte for byte", () => {
    const a = new Document("Ab3xQ9kZ");
    a.insert(0, "hello");
    a.delete(2, 2);
    const z = new Document("Zz81mmQa");
    z.apply([
      { kind: "ins", id: "Ab3xQ9kZ:1", after: null, text: "hello" },
      { kind: "del", id: "Ab3xQ9kZ:3", len: 2 },
    ]);
    const ops = z.insert(3, "é!");
    expect(ops).toEqual([{ kind: "ins", id: "Zz81mmQa:6", after: "Ab3xQ9kZ:5", text: "é!" }]);
    a.apply(ops);
    expect(a.text).toBe("heoé!");
    expect(toBase64(encodeState(a))).toBe("AQIIQWIzeFE5a1oIWno4MW1tUWEGaGVvw6khBAsAAQwACwEG");
    expect(toBase64(encodeState(z))).toBe("AQIIQWIzeFE5a1oIWno4MW1tUWEGaGVvw6khBAsAAQwACwEG");
    expect(toBase64(encodeState(new Document("emptyrep")))).toBe("AQAAAA==");
    // non-canonical input (explicit counter equal to the expected one) is accepted and re-encoded canonically
    const loose = decodeState(
      new Uint8Array([1, 1, 8, ...new TextEncoder().encode("Ab3xQ9kZ"), 1, 104, 1, 3, 0, 1]),
      "readerrr",
    );
    expect(toBase64(encodeState(loose))).toBe(toBase64(encodeRuns([["Ab3xQ9kZ", 1, 1, "h"]])));
  });

  it("refuses varints that are too long or too large", () => {
    expect(() => decodeRuns(new Uint8Array([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(
      /too long/,
    );
    expect(() => decodeRuns(new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toThrow(
      /out of range/,
    );
  });

  it("refuses malformed states", () => {
    const good = encodeState(new Document("replicaA"));
    expect(() => decodeRuns(new Uint8Array())).toThrow(StateFormatError);
    expect(() => decodeRuns(new Uint8Array([2, 0, 0, 0]))).toThrow(/unknown state version/);
    expect(() => decodeRuns(new Uint8Array([...good, 0]))).toThrow(/trailing/);
    expect(() => decodeRuns(new Uint8Array([1, 0x80, 0x00, 0, 0]))).toThrow(/non-minimal/);
    expect(() => decodeRuns(new Uint8Array([1, 0, 0, 1, 0]))).toThrow(/must name its replica/);
    expect(() => decodeRuns(new Uint8Array([1, 0, 2, 0xff, 0xfe, 0]))).toThrow(/UTF-8/);
    expect(() => decodeRuns(new Uint8Array([1, 1, 3, 97, 98, 99, 0, 0]))).toThrow(/invalid replica/);
    const dup = encodeRuns([
      ["replicaA", 1, 2, "ab"],
      ["replicaA", 2, 1, "c"],
    ]);
    expect(() => decodeState(dup, "replicaB")).toThrow(/twice/);
  });
});
