/**
 * The shared CRDT vectors (tests/vectors/, format in its README), read in place: the TypeScript
 * engine must pass them unchanged, byte for byte, like the Python engine.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CrdtError,
  Document,
  decodeState,
  encodeState,
  fromBase64,
  toBase64,
  type Change,
  type Op,
} from "../../src/engine";

const DIR = resolve(__dirname, "../../../tests/vectors");

interface VectorFile<T> {
  format: string;
  version: number;
  cases: T;
}

function load<T>(name: string): T {
  const data = JSON.parse(readFileSync(resolve(DIR, name), "utf-8")) as VectorFile<T>;
  expect(data.format).toBe("docstream-crdt-vectors");
  expect(data.version).toBe(1);
  return data.cases;
}

const triples = (changes: Change[]): [number, number, string][] => changes.map((c) => [c.index, c.deleted, c.inserted]);

if (!existsSync(DIR)) throw new Error(`the shared vectors are missing: ${DIR}`);

describe("shared vectors: integration.json", () => {
  interface Step {
    replica: string;
    message: string;
    text: string;
    local?: boolean;
    changes?: [number, number, string][];
  }
  interface Case {
    name: string;
    replicas: string[];
    messages: Record<string, { from: string; ops: Op[] }>;
    schedule: Step[];
    expected: { text: string; state: string };
  }
  for (const c of load<Case[]>("integration.json")) {
    it(c.name, () => {
      const docs = new Map(c.replicas.map((r) => [r, new Document(r)]));
      c.schedule.forEach((step, i) => {
        const doc = docs.get(step.replica)!;
        const ops = c.messages[step.message]!.ops;
        if (step.local) doc.apply(ops);
        else expect(triples(doc.applyAndDiff(ops)), `step ${i}`).toEqual(step.changes);
        expect(doc.text, `step ${i}`).toBe(step.text);
      });
      for (const doc of docs.values()) {
        expect(doc.text).toBe(c.expected.text);
        expect(toBase64(encodeState(doc))).toBe(c.expected.state);
      }
    });
  }
});

describe("shared vectors: local_edits.json", () => {
  interface Edit {
    insert?: [number, string];
    delete?: [number, number];
    ops: Op[];
    text?: string;
    max_counter: number;
  }
  interface Case {
    name: string;
    replica: string;
    start: Op[];
    edits: Edit[];
  }
  for (const c of load<Case[]>("local_edits.json")) {
    it(c.name, () => {
      const doc = new Document(c.replica);
      doc.apply(c.start);
      c.edits.forEach((e, i) => {
        const ops = e.insert ? doc.insert(e.insert[0], e.insert[1]) : doc.delete(e.delete![0], e.delete![1]);
        expect(ops, `edit ${i}`).toEqual(e.ops);
        expect(doc.maxCounter, `edit ${i}`).toBe(e.max_counter);
        if (e.text !== undefined) expect(doc.text, `edit ${i}`).toBe(e.text);
      });
    });
  }
});

describe("shared vectors: state.json", () => {
  interface Cases {
    encode: { name: string; ops: Op[]; text: string; max_counter: number; state: string }[];
    refuse: { name: string; state: string }[];
  }
  const cases = load<Cases>("state.json");
  for (const c of cases.encode) {
    it(`encodes ${c.name}`, () => {
      const doc = new Document("vectorsA");
      doc.apply(c.ops);
      expect(doc.text).toBe(c.text);
      expect(toBase64(encodeState(doc))).toBe(c.state);
      const back = decodeState(fromBase64(c.state), "vectorsB");
      expect(back.text).toBe(c.text);
      expect(back.maxCounter).toBe(c.max_counter);
      expect(toBase64(encodeState(back))).toBe(c.state);
    });
  }
  for (const c of cases.refuse) {
    it(`refuses ${c.name}`, () => {
      let blob: Uint8Array;
      try {
        blob = fromBase64(c.state);
      } catch {
        return; // not even base64: refused
      }
      expect(() => decodeState(blob, "vectorsB")).toThrow(CrdtError);
    });
  }
});

describe("shared vectors: errors.json", () => {
  interface Case {
    name: string;
    start: Op[];
    apply: Op[];
    error: string | null;
    op_index?: number;
    text: string;
  }
  for (const c of load<Case[]>("errors.json")) {
    it(c.name, () => {
      const doc = new Document("vectorsZ");
      doc.apply(c.start);
      if (c.error === null) {
        doc.apply(c.apply);
      } else {
        let caught: unknown = null;
        try {
          doc.apply(c.apply);
        } catch (exc) {
          caught = exc;
        }
        expect(caught).toBeInstanceOf(CrdtError);
        expect((caught as CrdtError).code).toBe(c.error);
        expect((caught as CrdtError).message).toMatch(new RegExp(`^op ${c.op_index ?? 0}: `));
      }
      expect(doc.text).toBe(c.text);
    });
  }
});
