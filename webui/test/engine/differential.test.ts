/**
 * Differential test against the Python CRDT: random three-replica sessions are run through
 * docstream.crdt by test/fixtures/gen_trace.py; the TypeScript engine replays the same local
 * edits and deliveries and must emit the same ops, the same diffs, the same texts and the same
 * state bytes. Needs the project's virtualenv (../.venv); without it the test is reported as
 * skipped with the reason (and fails when CI is set).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Document, decodeState, encodeState, fromBase64, toBase64, type Op } from "../../src/engine";

const ROOT = resolve(__dirname, "../../..");
const PYTHON = resolve(ROOT, ".venv/bin/python");
const HAVE_PYTHON = existsSync(PYTHON);

interface Command {
  do: "insert" | "delete" | "apply" | "check";
  who: number;
  index?: number;
  length?: number;
  text?: string;
  ops?: Op[];
  changes?: { index: number; deleted: number; inserted: string }[];
  state?: string;
  max?: number;
}

function trace(seed: number, steps: number): { replicas: string[]; commands: Command[] } {
  const out = spawnSync(PYTHON, [resolve(__dirname, "../fixtures/gen_trace.py"), String(seed), String(steps)], {
    cwd: ROOT,
    encoding: "utf-8",
    maxBuffer: 1 << 28,
  });
  if (out.status !== 0) throw new Error(`gen_trace.py failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as { replicas: string[]; commands: Command[] };
}

if (!HAVE_PYTHON && process.env["CI"]) {
  throw new Error(`the differential test needs the project's virtualenv at ${PYTHON}`);
}

describe.skipIf(!HAVE_PYTHON)("the TypeScript engine against the Python engine", () => {
  for (const [seed, steps] of [
    [1, 400],
    [2, 400],
    [3, 1500],
    [4, 3000],
    [5, 800],
  ] as const) {
    it(`replays random session ${seed} (${steps} steps) with identical ops, diffs and states`, () => {
      const { replicas, commands } = trace(seed, steps);
      const docs = replicas.map((r) => new Document(r));
      commands.forEach((cmd, step) => {
        const doc = docs[cmd.who]!;
        const where = `step ${step} (${cmd.do} on ${cmd.who})`;
        if (cmd.do === "insert") {
          expect(doc.insert(cmd.index!, cmd.text!), where).toEqual(cmd.ops);
        } else if (cmd.do === "delete") {
          expect(doc.delete(cmd.index!, cmd.length!), where).toEqual(cmd.ops);
        } else if (cmd.do === "apply") {
          const changes = doc
            .applyAndDiff(cmd.ops!)
            .map(({ index, deleted, inserted }) => ({ index, deleted, inserted }));
          expect(changes, where).toEqual(cmd.changes);
        } else {
          expect(doc.text, where).toBe(cmd.text);
          expect(doc.maxCounter, where).toBe(cmd.max);
          expect(toBase64(encodeState(doc)), where).toBe(cmd.state);
          const copy = decodeState(fromBase64(cmd.state!), replicas[cmd.who]!);
          expect(copy.text, where).toBe(cmd.text);
          expect(toBase64(encodeState(copy)), where).toBe(cmd.state);
        }
      });
    });
  }
});
