/**
 * The RGA sequence CRDT over Unicode code points: the TypeScript twin of docstream/crdt/rga.py.
 *
 * Model (docs/protocol.md §6): every element (one code point) has a unique id `(counter, replica)` and
 * a parent (the element it was inserted after, or the document start). The document is the
 * pre-order walk of that tree with siblings ordered by id descending; deleted elements stay as
 * tombstones. Integration is the linear skip rule: start right after the parent and skip every
 * element whose id is greater than the new id (rga.py's module docstring proves this equals the
 * tree order).
 *
 * Behaviour that must match the Python engine exactly (the shared vectors check it):
 * - local `insert(index, text)` takes the counters `maxCounter + 1 ..` and names as parent the
 *   element (visible or not) just before the visible char at `index` (at the end: the last
 *   element); inserts longer than MAX_INSERT_LENGTH code points become chained ops;
 * - local `delete` walks the newly deleted chars in document order and starts a new `del` op
 *   whenever a char's id is not the previous deleted char's id plus one (same replica);
 * - `apply` is atomic per op and idempotent, with the same error codes and checks in the same
 *   order; the state encoding is byte-for-byte docs/state-format.md.
 *
 * Storage (as in Python): runs of adjacent elements with consecutive ids of one replica and one
 * deleted state, at most RUN_MAX code points each, in blocks of at most BLOCK_MAX runs. Each
 * block keeps its visible length in code points and in UTF-16 units (order statistics for index
 * <-> position and code point <-> CodeMirror offset) and a lower bound of its run starts, so the
 * skip loop jumps over blocks of larger ids. A cursor caches where the last located block starts.
 * Per replica a RunIndex maps counters to runs.
 */
import { CrdtError, StateFormatError } from "./errors";
import { MAX_COUNTER, checkReplica, compareIds, parseId, wireId, type CharId } from "./ids";
import { MAX_INSERT_LENGTH, type Change, type DeleteOp, type InsertOp, type Op } from "./ops";
import { RunIndex } from "./runindex";
import { cpCount, cpLength, cpSlice, hasLoneSurrogate, hasSurrogates, unitOffset } from "./utf16";

const BLOCK_MAX = 64;
const RUN_MAX = 1024;

/** A maximal run as written by the state encoder: replica, counter, length, text or null. */
export type StateRun = [replica: string, counter: number, length: number, text: string | null];

class Block {
  runs: Run[];
  idx: number;
  constructor(runs: Run[], idx: number) {
    this.runs = runs;
    this.idx = idx;
  }
}

class Run {
  c: number;
  r: string;
  n: number;
  /** Visible content, or null for a tombstone. */
  text: string | null;
  /** UTF-16 length of `text` (0 for a tombstone). */
  u: number;
  /** Whether `text` has surrogates (code points and units differ). */
  astral: boolean;
  block: Block;

  constructor(c: number, r: string, n: number, text: string | null, block: Block, astral?: boolean) {
    this.c = c;
    this.r = r;
    this.n = n;
    this.text = text;
    this.u = text === null ? 0 : text.length;
    this.astral = text === null ? false : (astral ?? hasSurrogates(text));
    this.block = block;
  }

  setText(text: string | null, astral: boolean): void {
    this.text = text;
    this.u = text === null ? 0 : text.length;
    this.astral = text !== null && astral && hasSurrogates(text);
  }

  /** Code points `lo .. hi-1` of the visible text. */
  slice(lo: number, hi: number): string {
    return cpSlice(this.text!, lo, hi, this.astral);
  }
}

function unknownId(message: string): CrdtError {
  return new CrdtError(message, "unknown_id");
}

function duplicateId(message: string): CrdtError {
  return new CrdtError(message, "duplicate_id_conflict");
}

/** Code points of `text`, as an array only when needed. */
function codePoints(text: string, astral: boolean): { slice(lo: number, hi: number): string } {
  if (!astral) return { slice: (lo, hi) => text.slice(lo, hi) };
  const cps = Array.from(text);
  return { slice: (lo, hi) => cps.slice(lo, hi).join("") };
}

function addChange(
  changes: Change[],
  index: number,
  deleted: number,
  inserted: string,
  from16: number,
  deleted16: number,
): void {
  const last = changes[changes.length - 1];
  if (last !== undefined && !inserted && !last.inserted && last.index === index) {
    last.deleted += deleted;
    last.deleted16 += deleted16;
    return;
  }
  changes.push({ index, deleted, inserted, from16, deleted16 });
}

export class Document {
  readonly replica: string;
  private blocks: Block[];
  private bvis: number[];
  private bvis16: number[];
  private bminC: number[];
  private bminR: string[];
  private size = 0;
  private size16 = 0;
  private max = 0;
  private reps = new Map<string, RunIndex<Run>>();
  // Cursor: a block and the visible code points / units before it.
  private cb = 0;
  private cvb = 0;
  private cvb16 = 0;

  constructor(replica: string) {
    this.replica = checkReplica(replica);
    this.blocks = [new Block([], 0)];
    this.bvis = [0];
    this.bvis16 = [0];
    this.bminC = [MAX_COUNTER + 1];
    this.bminR = [""];
  }

  // ---------------------------------------------------------------- read API

  /** The number of visible code points. */
  get length(): number {
    return this.size;
  }

  /** The number of visible UTF-16 units (the CodeMirror document length). */
  get length16(): number {
    return this.size16;
  }

  /** The Lamport clock: the largest counter seen (0 for a new document). */
  get maxCounter(): number {
    return this.max;
  }

  /** The visible text. */
  get text(): string {
    const parts: string[] = [];
    for (const b of this.blocks) for (const r of b.runs) if (r.text !== null) parts.push(r.text);
    return parts.join("");
  }

  /**
   * Who wrote what: the replicas of the visible text in the UTF-16 range [from16, to16), as
   * spans (adjacent runs of one replica merged). For the authorship colours; the caller consumes
   * it before the document changes.
   */
  *replicaSpans(from16: number, to16: number): Generator<[replica: string, from16: number, to16: number]> {
    if (from16 >= to16) return;
    let u = 0;
    let open: [string, number, number] | null = null;
    for (let b = 0; b < this.blocks.length && u < to16; b++) {
      const width = this.bvis16[b]!;
      if (u + width <= from16) {
        u += width;
        continue;
      }
      for (const run of this.blocks[b]!.runs) {
        if (run.u === 0) continue;
        const end = u + run.u;
        if (end > from16 && u < to16) {
          const lo = Math.max(u, from16);
          const hi = Math.min(end, to16);
          if (open && open[0] === run.r && open[2] === lo) open[2] = hi;
          else {
            if (open) yield open;
            open = [run.r, lo, hi];
          }
        }
        u = end;
        if (u >= to16) break;
      }
    }
    if (open) yield open;
  }

  /** Whether `id` (visible or deleted) is known. */
  has(id: CharId): boolean {
    return this.reps.get(id.replica)?.find(id.counter) !== undefined;
  }

  /** The id of the visible char at code point `index`. */
  idAt(index: number): CharId {
    if (!(index >= 0 && index < this.size)) {
      throw new RangeError(`index ${index} out of range for length ${this.size}`);
    }
    const [b, p, k] = this.locate(index);
    const run = this.blocks[b]!.runs[p]!;
    return { counter: run.c + k, replica: run.r };
  }

  /** The index of `id`; for a tombstone, the number of visible chars before it. */
  indexOf(id: CharId): number {
    const run = this.reps.get(id.replica)?.find(id.counter);
    if (run === undefined) throw unknownId(`unknown char id '${wireId(id.replica, id.counter)}'`);
    let index = this.visibleBefore(run.block, run.block.runs.indexOf(run))[0];
    if (run.text !== null) index += id.counter - run.c;
    return index;
  }

  /** Whether the char `id` is known and visible. */
  isVisible(id: CharId): boolean {
    const run = this.reps.get(id.replica)?.find(id.counter);
    return run !== undefined && run.text !== null;
  }

  /** The UTF-16 offset of code point `index` (0 .. length). */
  toUtf16(index: number): number {
    if (index <= 0) return 0;
    if (index >= this.size) return this.size16;
    const [b, p, k] = this.locate(index);
    const runs = this.blocks[b]!.runs;
    let u = this.cvb16;
    for (let q = 0; q < p; q++) u += runs[q]!.u;
    const run = runs[p]!;
    return u + unitOffset(run.text!, k, run.astral);
  }

  /** The code point index at UTF-16 offset `pos` (0 .. length16). */
  fromUtf16(pos: number): number {
    if (pos <= 0) return 0;
    if (pos >= this.size16) return this.size;
    const bvis16 = this.bvis16;
    let b = this.cb;
    let vb = this.cvb;
    let vb16 = this.cvb16;
    while (pos < vb16) {
      b--;
      vb -= this.bvis[b]!;
      vb16 -= bvis16[b]!;
    }
    while (pos >= vb16 + bvis16[b]!) {
      vb += this.bvis[b]!;
      vb16 += bvis16[b]!;
      b++;
    }
    this.cb = b;
    this.cvb = vb;
    this.cvb16 = vb16;
    let rel = pos - vb16;
    let index = vb;
    for (const run of this.blocks[b]!.runs) {
      if (run.text === null) continue;
      if (rel < run.u) return index + cpCount(run.text, rel, run.astral);
      rel -= run.u;
      index += run.n;
    }
    return index;
  }

  // ---------------------------------------------------------------- local edits

  /**
   * Insert `text` so that it starts at code point `index`; return the ops to send.
   * @throws RangeError if `index` is not in `0 .. length`; CrdtError for unpaired surrogates.
   */
  insert(index: number, text: string): Op[] {
    if (!(index >= 0 && index <= this.size)) {
      throw new RangeError(`insert index ${index} out of range for length ${this.size}`);
    }
    if (!text) return [];
    if (hasLoneSurrogate(text)) throw new CrdtError("text contains unpaired surrogates");
    const n = cpLength(text);
    const c = this.max + 1;
    if (c + n - 1 > MAX_COUNTER) throw new CrdtError("the Lamport counter would pass 2**53 - 1");
    let blk: Block;
    let q: number;
    if (index === this.size) {
      blk = this.blocks[this.blocks.length - 1]!;
      q = blk.runs.length;
    } else {
      const [b, p, k] = this.locate(index);
      blk = this.blocks[b]!;
      if (k) {
        this.split(blk, p, k);
        q = p + 1;
      } else {
        q = p;
      }
    }
    if (q === 0 && blk.idx > 0) {
      blk = this.blocks[blk.idx - 1]!;
      q = blk.runs.length;
    }
    const me = this.replica;
    let after: string | null = null;
    if (q > 0) {
      const prev = blk.runs[q - 1]!;
      after = wireId(prev.r, prev.c + prev.n - 1);
      if (!this.extend(prev, me, c, n, text)) this.put(blk, q, me, c, n, text);
    } else {
      this.put(blk, q, me, c, n, text);
    }
    return this.insertOps(c, after, text, n);
  }

  private insertOps(c: number, after: string | null, text: string, n: number): Op[] {
    const me = this.replica;
    if (n <= MAX_INSERT_LENGTH) return [{ kind: "ins", id: wireId(me, c), after, text }];
    const cps = codePoints(text, hasSurrogates(text));
    const ops: Op[] = [];
    for (let start = 0; start < n; start += MAX_INSERT_LENGTH) {
      const stop = Math.min(start + MAX_INSERT_LENGTH, n);
      ops.push({ kind: "ins", id: wireId(me, c + start), after, text: cps.slice(start, stop) });
      after = wireId(me, c + stop - 1);
    }
    return ops;
  }

  /**
   * Delete `length` visible code points from `index`; return the ops to send.
   * @throws RangeError if the range is not inside `0 .. length`.
   */
  delete(index: number, length: number): Op[] {
    if (!(length >= 0 && index >= 0 && index + length <= this.size)) {
      throw new RangeError(`delete range ${index}+${length} out of range for length ${this.size}`);
    }
    if (length === 0) return [];
    const located = this.locate(index);
    let b = located[0];
    let p = located[1];
    let k = located[2];
    let blk = this.blocks[b]!;
    const ops: Op[] = [];
    let pr = "";
    let ps = 0;
    let pn = 0;
    let remaining = length;
    const grown: Block[] = [];
    while (remaining) {
      if (p === blk.runs.length) {
        if (p > BLOCK_MAX) grown.push(blk);
        b++;
        blk = this.blocks[b]!;
        p = 0;
      }
      const run = blk.runs[p]!;
      if (run.text === null) {
        p++;
        continue;
      }
      const take = Math.min(run.n - k, remaining);
      const start = run.c + k;
      if (pn && start === ps + pn && run.r === pr) {
        pn += take;
      } else {
        if (pn) ops.push({ kind: "del", id: wireId(pr, ps), len: pn });
        pr = run.r;
        ps = start;
        pn = take;
      }
      p = this.tombstone(blk, p, k, k + take);
      k = 0;
      remaining -= take;
    }
    ops.push({ kind: "del", id: wireId(pr, ps), len: pn });
    if (blk.runs.length > BLOCK_MAX) grown.push(blk);
    for (const g of grown) this.splitBlock(g);
    return ops;
  }

  // ---------------------------------------------------------------- remote ops

  /**
   * Integrate ops (local or remote) by id; idempotent. Atomic per op: when op `i` is refused,
   * ops before it stay applied, the error message starts with `"op i: "`.
   */
  apply(ops: readonly Op[]): void {
    this.applyAll(ops, null);
  }

  /** Like `apply`, and return the visible changes in order. */
  applyAndDiff(ops: readonly Op[]): Change[] {
    const changes: Change[] = [];
    this.applyAll(ops, changes);
    return changes;
  }

  private applyAll(ops: readonly Op[], changes: Change[] | null): void {
    let i = 0;
    try {
      for (const op of ops) {
        const kind = (op as { kind?: unknown } | null)?.kind;
        if (kind === "ins") this.applyInsert(op as InsertOp, changes);
        else if (kind === "del") this.applyDelete(op as DeleteOp, changes);
        else throw new CrdtError(`not an op: ${JSON.stringify(op)}`);
        i++;
      }
    } catch (exc) {
      if (exc instanceof CrdtError) {
        const wrapped = new CrdtError(`op ${i}: ${exc.message}`, exc.code);
        throw wrapped;
      }
      throw exc;
    }
  }

  private applyInsert(op: InsertOp, changes: Change[] | null): void {
    const wire = op.id;
    const { replica: r, counter: c } = parseId(wire);
    const text: unknown = op.text;
    if (typeof text !== "string") throw new CrdtError(`ins '${wire}': text must be a string`);
    if (!text) throw new CrdtError(`ins '${wire}': empty text`);
    const n = cpLength(text);
    if (c + n - 1 > MAX_COUNTER) throw new CrdtError(`ins '${wire}': counters would pass ${MAX_COUNTER}`);
    const after: unknown = op.after;
    let parent: Run | undefined;
    let pc = -1;
    if (after !== null) {
      const pid = parseId(after);
      const afterWire = wireId(pid.replica, pid.counter); // parseId accepts the canonical form only
      pc = pid.counter;
      parent = this.reps.get(pid.replica)?.find(pc);
      if (parent === undefined) throw unknownId(`ins '${wire}': unknown parent '${afterWire}'`);
      if (c <= pc) {
        throw new CrdtError(
          `ins '${wire}': counter ${c} is not larger than its parent's ('${afterWire}'); Lamport clocks must increase`,
        );
      }
    }
    if (hasLoneSurrogate(text)) throw new CrdtError("text contains unpaired surrogates");
    const rep = this.reps.get(r);
    if (rep !== undefined && c < rep.end && this.knownInsert(rep, c, text, n, wire)) return;
    const blocks = this.blocks;
    let blk: Block;
    let q: number;
    if (parent === undefined) {
      blk = blocks[0]!;
      q = 0;
    } else {
      blk = parent.block;
      q = blk.runs.indexOf(parent);
      const nc = pc + 1;
      if (nc - parent.c < parent.n && compareIds(nc, parent.r, c, r) < 0) {
        // The element after the parent, inside its run, is smaller: split, go between.
        this.split(blk, q, nc - parent.c);
        this.insertAt(blk, q + 1, r, c, n, text, changes);
        return;
      }
      q++;
    }
    // The skip loop: pass every run whose first id is greater than (c, r).
    for (;;) {
      const runs = blk.runs;
      const m = runs.length;
      while (q < m) {
        const run = runs[q]!;
        if (run.c < c || (run.c === c && run.r < r)) break;
        q++;
      }
      if (q < m) break;
      let nb = blk.idx + 1;
      if (nb === blocks.length) break;
      const bminC = this.bminC;
      const bminR = this.bminR;
      while (nb < blocks.length && (bminC[nb]! > c || (bminC[nb] === c && bminR[nb]! > r))) nb++;
      if (nb === blocks.length) {
        blk = blocks[blocks.length - 1]!;
        q = blk.runs.length;
        break;
      }
      blk = blocks[nb]!;
      q = 0;
    }
    if (q === 0 && blk.idx > 0) {
      blk = blocks[blk.idx - 1]!;
      q = blk.runs.length;
    }
    if (q > 0) {
      const prev = blk.runs[q - 1]!;
      if (prev.c + prev.n === c && prev.text !== null && prev.r === r && prev.n + n <= RUN_MAX) {
        if (changes !== null) {
          const [v, v16] = this.visibleBefore(blk, q);
          addChange(changes, v, 0, text, v16, 0);
        }
        this.extend(prev, r, c, n, text);
        return;
      }
    }
    this.insertAt(blk, q, r, c, n, text, changes);
  }

  private insertAt(
    blk: Block,
    q: number,
    r: string,
    c: number,
    n: number,
    text: string,
    changes: Change[] | null,
  ): void {
    if (changes !== null) {
      const [v, v16] = this.visibleBefore(blk, q);
      addChange(changes, v, 0, text, v16, 0);
    }
    this.put(blk, q, r, c, n, text);
  }

  /** True if `[c, c+n)` is known with the same content; throws on a conflict. */
  private knownInsert(rep: RunIndex<Run>, c: number, text: string, n: number, wire: string): boolean {
    const end = c + n;
    let run = rep.find(c);
    if (run === undefined) {
      const nxt = rep.ceiling(c);
      if (nxt === undefined || nxt.c >= end) return false;
      throw duplicateId(`ins '${wire}': overlaps known ids only partly`);
    }
    const mine = codePoints(text, hasSurrogates(text));
    let pos = c;
    for (;;) {
      const hi = Math.min(end, run.c + run.n);
      if (run.text !== null && run.slice(pos - run.c, hi - run.c) !== mine.slice(pos - c, hi - c)) {
        throw duplicateId(`ins '${wire}': ids already used for other text`);
      }
      pos = hi;
      if (pos === end) return true;
      const next: Run | undefined = rep.find(pos);
      if (next === undefined) throw duplicateId(`ins '${wire}': overlaps known ids only partly`);
      run = next;
    }
  }

  private applyDelete(op: DeleteOp, changes: Change[] | null): void {
    const wire = op.id;
    const { replica: r, counter: c } = parseId(wire);
    const n: unknown = op.len;
    if (typeof n !== "number" || !Number.isInteger(n)) throw new CrdtError(`del '${wire}': len must be an integer`);
    if (n < 1) throw unknownId(`del '${wire}': len must be at least 1, got ${n}`);
    const end = c + n;
    const rep = this.reps.get(r);
    const first = rep?.find(c);
    if (rep === undefined || first === undefined) {
      throw unknownId(`del '${wire}' len ${n}: names ids this replica does not know`);
    }
    const targets = [first];
    let pos = first.c + first.n;
    while (pos < end) {
      const nxt = rep.find(pos);
      if (nxt === undefined) throw unknownId(`del '${wire}' len ${n}: names ids this replica does not know`);
      targets.push(nxt);
      pos = nxt.c + nxt.n;
    }
    for (const run of targets) {
      if (run.text === null) continue;
      const lo = Math.max(0, c - run.c);
      const hi = Math.min(end - run.c, run.n);
      const blk = run.block;
      const p = blk.runs.indexOf(run);
      if (changes !== null) {
        const [v, v16] = this.visibleBefore(blk, p);
        const a = unitOffset(run.text, lo, run.astral);
        const z = unitOffset(run.text, hi, run.astral);
        addChange(changes, v + lo, hi - lo, "", v16 + a, z - a);
      }
      this.tombstone(blk, p, lo, hi);
      if (blk.runs.length > BLOCK_MAX) this.splitBlock(blk);
    }
  }

  // ---------------------------------------------------------------- internals

  private bump(b: number, d: number, d16: number): void {
    this.bvis[b]! += d;
    this.bvis16[b]! += d16;
    this.size += d;
    this.size16 += d16;
    if (b < this.cb) {
      this.cvb += d;
      this.cvb16 += d16;
    }
  }

  /** Move the cursor to block `b`; return the visible code points and units before it. */
  private blockStart(b: number): [number, number] {
    let cb = this.cb;
    let vb = this.cvb;
    let vb16 = this.cvb16;
    while (cb < b) {
      vb += this.bvis[cb]!;
      vb16 += this.bvis16[cb]!;
      cb++;
    }
    while (cb > b) {
      cb--;
      vb -= this.bvis[cb]!;
      vb16 -= this.bvis16[cb]!;
    }
    this.cb = cb;
    this.cvb = vb;
    this.cvb16 = vb16;
    return [vb, vb16];
  }

  /** Visible code points and units before position `p` of `blk`. */
  private visibleBefore(blk: Block, p: number): [number, number] {
    let [v, v16] = this.blockStart(blk.idx);
    const runs = blk.runs;
    for (let q = 0; q < p; q++) {
      const run = runs[q]!;
      v += run.text === null ? 0 : run.n;
      v16 += run.u;
    }
    return [v, v16];
  }

  /** Block, run position and offset of the visible char at `0 <= index < length`. */
  private locate(index: number): [number, number, number] {
    const bvis = this.bvis;
    let b = this.cb;
    let vb = this.cvb;
    let vb16 = this.cvb16;
    while (index < vb) {
      b--;
      vb -= bvis[b]!;
      vb16 -= this.bvis16[b]!;
    }
    while (index >= vb + bvis[b]!) {
      vb += bvis[b]!;
      vb16 += this.bvis16[b]!;
      b++;
    }
    this.cb = b;
    this.cvb = vb;
    this.cvb16 = vb16;
    const runs = this.blocks[b]!.runs;
    let rel = index - vb;
    for (let p = 0; ; p++) {
      const run = runs[p]!;
      if (run.text === null) continue;
      if (rel < run.n) return [b, p, rel];
      rel -= run.n;
    }
  }

  /** Append `text` (ids `c ..`) to `prev` if it is the same replica's visible run ending at `c`. */
  private extend(prev: Run, r: string, c: number, n: number, text: string): boolean {
    if (!(prev.c + prev.n === c && prev.text !== null && prev.r === r && prev.n + n <= RUN_MAX)) return false;
    prev.text += text;
    prev.n += n;
    prev.u += text.length;
    if (!prev.astral && hasSurrogates(text)) prev.astral = true;
    this.reps.get(r)!.end = c + n;
    this.bump(prev.block.idx, n, text.length);
    if (c + n - 1 > this.max) this.max = c + n - 1;
    return true;
  }

  /** Split run `p` of `blk` after its first `k` elements (0 < k < length). */
  private split(blk: Block, p: number, k: number): void {
    const run = blk.runs[p]!;
    const text = run.text;
    let right: Run;
    if (text === null) {
      right = new Run(run.c + k, run.r, run.n - k, null, blk);
    } else {
      const cut = unitOffset(text, k, run.astral);
      right = new Run(run.c + k, run.r, run.n - k, text.slice(cut), blk, run.astral);
      run.setText(text.slice(0, cut), run.astral);
    }
    run.n = k;
    blk.runs.splice(p + 1, 0, right);
    this.reps.get(run.r)!.add(right);
  }

  /** Store new visible `text` with ids from `(c, r)` at position `q` of `blk`. */
  private put(blk: Block, q: number, r: string, c: number, n: number, text: string): void {
    let rep = this.reps.get(r);
    if (rep === undefined) {
      rep = new RunIndex<Run>(r);
      this.reps.set(r, rep);
    }
    const runs = blk.runs;
    if (n <= RUN_MAX) {
      const run = new Run(c, r, n, text, blk);
      runs.splice(q, 0, run);
      rep.add(run);
    } else {
      const cps = codePoints(text, hasSurrogates(text));
      const made: Run[] = [];
      for (let i = 0; i < n; i += RUN_MAX) {
        const m = Math.min(RUN_MAX, n - i);
        made.push(new Run(c + i, r, m, cps.slice(i, i + m), blk));
      }
      runs.splice(q, 0, ...made);
      for (const run of made) rep.add(run);
    }
    const b = blk.idx;
    this.bump(b, n, text.length);
    if (c + n - 1 > this.max) this.max = c + n - 1;
    if (c < this.bminC[b]! || (c === this.bminC[b] && r < this.bminR[b]!)) {
      this.bminC[b] = c;
      this.bminR[b] = r;
    }
    if (runs.length > BLOCK_MAX) this.splitBlock(blk);
  }

  private forget(run: Run): void {
    this.reps.get(run.r)!.remove(run);
  }

  /**
   * Delete elements `lo .. hi-1` of the visible run `p` of `blk`, merging the new tombstone with
   * an adjacent tombstone run of consecutive ids. Returns the position of the first run after the
   * deleted elements. Does not split the block.
   */
  private tombstone(blk: Block, p: number, lo: number, hi: number): number {
    const runs = blk.runs;
    const run = runs[p]!;
    const length = run.n;
    const c0 = run.c;
    const r = run.r;
    const text = run.text!;
    const astral = run.astral;
    const a = unitOffset(text, lo, astral);
    const z = unitOffset(text, hi, astral);
    const d = hi - lo;
    this.bump(blk.idx, -d, -(z - a));
    const rep = this.reps.get(r)!;
    if (!lo && p) {
      const prev = runs[p - 1]!;
      if (prev.text === null && prev.c + prev.n === c0 && prev.r === r) {
        prev.n += hi;
        if (hi < length) {
          run.c = c0 + hi;
          run.n = length - hi;
          run.setText(text.slice(z), astral);
          rep.rekey(c0, run);
          return p;
        }
        runs.splice(p, 1);
        this.forget(run);
        if (p < runs.length) {
          const nxt = runs[p]!;
          if (nxt.text === null && nxt.c === c0 + length && nxt.r === r) {
            prev.n += nxt.n;
            runs.splice(p, 1);
            this.forget(nxt);
          }
        }
        return p;
      }
    }
    if (hi === length && p + 1 < runs.length) {
      const nxt = runs[p + 1]!;
      if (nxt.text === null && nxt.c === c0 + length && nxt.r === r) {
        if (lo) {
          run.setText(text.slice(0, a), astral);
          run.n = lo;
          nxt.c = c0 + lo;
          nxt.n += d;
          rep.rekey(c0 + length, nxt);
          return p + 2;
        }
        run.setText(null, false);
        run.n += nxt.n;
        runs.splice(p + 1, 1);
        this.forget(nxt);
        return p + 1;
      }
    }
    if (!lo) {
      if (hi === length) {
        run.setText(null, false);
        return p + 1;
      }
      const right = new Run(c0 + hi, r, length - hi, text.slice(z), blk, astral);
      run.n = hi;
      run.setText(null, false);
      runs.splice(p + 1, 0, right);
      rep.add(right);
      return p + 1;
    }
    run.setText(text.slice(0, a), astral);
    run.n = lo;
    const mid = new Run(c0 + lo, r, d, null, blk);
    if (hi === length) {
      runs.splice(p + 1, 0, mid);
      rep.add(mid);
      return p + 2;
    }
    const right = new Run(c0 + hi, r, length - hi, text.slice(z), blk, astral);
    runs.splice(p + 1, 0, mid, right);
    rep.add(mid);
    rep.add(right);
    return p + 2;
  }

  /** Cut an over-full block into blocks of BLOCK_MAX / 2 runs. */
  private splitBlock(blk: Block): void {
    const half = BLOCK_MAX / 2;
    const runs = blk.runs;
    const b = blk.idx;
    const made: Block[] = [];
    for (let i = half; i < runs.length; i += half) {
      const nb = new Block(runs.slice(i, i + half), b + 1 + made.length);
      for (const run of nb.runs) run.block = nb;
      made.push(nb);
    }
    runs.length = half;
    const blocks = this.blocks;
    blocks.splice(b + 1, 0, ...made);
    for (let i = b + 1 + made.length; i < blocks.length; i++) blocks[i]!.idx = i;
    const all = [blk, ...made];
    this.bvis.splice(b, 1, ...all.map((x) => visible(x.runs)));
    this.bvis16.splice(b, 1, ...all.map((x) => visible16(x.runs)));
    const mins = all.map((x) => least(x.runs));
    this.bminC.splice(b, 1, ...mins.map((x) => x[0]));
    this.bminR.splice(b, 1, ...mins.map((x) => x[1]));
    if (this.cb > b) this.cb += made.length;
  }

  // ---------------------------------------------------------------- state

  /** The sequence as maximal runs (what the state encoder writes), whatever the internal cuts. */
  *runs(): Generator<StateRun> {
    let curR = "";
    let curC = 0;
    let curN = 0;
    let curT: string[] | null = null;
    for (const blk of this.blocks) {
      for (const run of blk.runs) {
        const t = run.text;
        if (curN && run.c === curC + curN && (t === null) === (curT === null) && run.r === curR) {
          curN += run.n;
          if (t !== null) curT!.push(t);
          continue;
        }
        if (curN) yield [curR, curC, curN, curT === null ? null : curT.join("")];
        curR = run.r;
        curC = run.c;
        curN = run.n;
        curT = t === null ? null : [t];
      }
    }
    if (curN) yield [curR, curC, curN, curT === null ? null : curT.join("")];
  }

  /** Fill this new, empty document with `runs` in sequence order. */
  load(runs: Iterable<StateRun>): void {
    const half = BLOCK_MAX / 2;
    const blocks: Block[] = [];
    const byReplica = new Map<string, Run[]>();
    let blk = new Block([], 0);
    const add = (run: Run): void => {
      if (blk.runs.length >= half) {
        blocks.push(blk);
        blk = new Block([], blocks.length);
      }
      run.block = blk;
      blk.runs.push(run);
      let rl = byReplica.get(run.r);
      if (rl === undefined) byReplica.set(run.r, (rl = []));
      rl.push(run);
    };
    for (const [r, c, n, t] of runs) {
      if (n <= RUN_MAX) {
        add(new Run(c, r, n, t, blk));
        continue;
      }
      const cps = t === null ? null : codePoints(t, hasSurrogates(t));
      for (let i = 0; i < n; i += RUN_MAX) {
        const m = Math.min(RUN_MAX, n - i);
        add(new Run(c + i, r, m, cps === null ? null : cps.slice(i, i + m), blk));
      }
    }
    blocks.push(blk);
    for (const [r, rl] of byReplica) {
      rl.sort((x, y) => x.c - y.c);
      let end = -1;
      for (const run of rl) {
        if (run.c < end) throw new StateFormatError(`state lists id ${r}:${run.c} twice`);
        end = run.c + run.n;
      }
    }
    this.blocks = blocks;
    this.bvis = blocks.map((x) => visible(x.runs));
    this.bvis16 = blocks.map((x) => visible16(x.runs));
    const mins = blocks.map((x) => least(x.runs));
    this.bminC = mins.map((x) => x[0]);
    this.bminR = mins.map((x) => x[1]);
    this.size = this.bvis.reduce((s, x) => s + x, 0);
    this.size16 = this.bvis16.reduce((s, x) => s + x, 0);
    this.reps = new Map();
    this.max = 0;
    for (const [r, rl] of byReplica) {
      const rep = new RunIndex<Run>(r);
      rep.bulkLoad(rl);
      this.reps.set(r, rep);
      if (rep.end - 1 > this.max) this.max = rep.end - 1;
    }
    this.cb = 0;
    this.cvb = 0;
    this.cvb16 = 0;
  }
}

function visible(runs: Run[]): number {
  let s = 0;
  for (const r of runs) if (r.text !== null) s += r.n;
  return s;
}

function visible16(runs: Run[]): number {
  let s = 0;
  for (const r of runs) s += r.u;
  return s;
}

function least(runs: Run[]): [number, string] {
  let c = MAX_COUNTER + 1;
  let r = "";
  for (const run of runs) {
    if (run.c < c || (run.c === c && run.r < r)) {
      c = run.c;
      r = run.r;
    }
  }
  return [c, r];
}
