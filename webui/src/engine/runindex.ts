/**
 * Id -> run lookups for one replica: a chunked sorted list of run starts (a port of
 * docstream/crdt/runindex.py). The runs of one replica never overlap, so the run holding counter
 * `c` is the one with the largest start `<= c`: two binary searches. Chunks keep a split (a new
 * start in the middle) from moving the whole array.
 */

export interface Keyed {
  c: number;
  n: number;
}

const CHUNK = 256;

/** The index of the first element of sorted `a` that is greater than `x`. */
function bisectRight(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < a[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The index of the first element of sorted `a` that is `>= x`. */
function bisectLeft(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RunIndex<R extends Keyed> {
  readonly name: string;
  /** One past the largest known counter. */
  end = 0;
  private keys: number[][] = [];
  private vals: R[][] = [];
  private mins: number[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** The run holding `counter`, or undefined. */
  find(counter: number): R | undefined {
    const ci = bisectRight(this.mins, counter) - 1;
    if (ci < 0) return undefined;
    const keys = this.keys[ci]!;
    const run = this.vals[ci]![bisectRight(keys, counter) - 1]!;
    return counter < run.c + run.n ? run : undefined;
  }

  /** The run with the smallest start `>= counter`, or undefined. */
  ceiling(counter: number): R | undefined {
    let ci = bisectRight(this.mins, counter) - 1;
    if (ci < 0) ci = 0;
    while (ci < this.keys.length) {
      const keys = this.keys[ci]!;
      const j = bisectLeft(keys, counter);
      if (j < keys.length) return this.vals[ci]![j];
      ci++;
    }
    return undefined;
  }

  /** Register `run` under `run.c` (not registered yet). */
  add(run: R): void {
    const key = run.c;
    const end = key + run.n;
    if (end > this.end) this.end = end;
    if (this.keys.length === 0) {
      this.keys.push([key]);
      this.vals.push([run]);
      this.mins.push(key);
      return;
    }
    let ci = bisectRight(this.mins, key) - 1;
    if (ci < 0) ci = 0;
    const keys = this.keys[ci]!;
    const vals = this.vals[ci]!;
    if (key > keys[keys.length - 1]!) {
      keys.push(key);
      vals.push(run);
    } else {
      const j = bisectLeft(keys, key);
      keys.splice(j, 0, key);
      vals.splice(j, 0, run);
      if (j === 0) this.mins[ci] = key;
    }
    if (keys.length > 2 * CHUNK) {
      this.keys.splice(ci + 1, 0, keys.splice(CHUNK));
      this.vals.splice(ci + 1, 0, vals.splice(CHUNK));
      this.mins.splice(ci + 1, 0, this.keys[ci + 1]![0]!);
    }
  }

  private slot(key: number): [number, number] {
    const ci = bisectRight(this.mins, key) - 1;
    return [ci, bisectLeft(this.keys[ci]!, key)];
  }

  /** Forget `run` (registered under its current `run.c`). */
  remove(run: R): void {
    const [ci, j] = this.slot(run.c);
    const keys = this.keys[ci]!;
    keys.splice(j, 1);
    this.vals[ci]!.splice(j, 1);
    if (keys.length === 0) {
      this.keys.splice(ci, 1);
      this.vals.splice(ci, 1);
      this.mins.splice(ci, 1);
    } else if (j === 0) {
      this.mins[ci] = keys[0]!;
    }
  }

  /** `run` was registered under `old` and now starts at `run.c` (no start lies between). */
  rekey(old: number, run: R): void {
    const [ci, j] = this.slot(old);
    this.keys[ci]![j] = run.c;
    if (j === 0) this.mins[ci] = run.c;
  }

  /** Fill an empty index from runs sorted by counter. */
  bulkLoad(runs: R[]): void {
    for (let i = 0; i < runs.length; i += CHUNK) {
      const chunk = runs.slice(i, i + CHUNK);
      this.keys.push(chunk.map((r) => r.c));
      this.vals.push(chunk);
      this.mins.push(chunk[0]!.c);
    }
    if (runs.length) {
      const last = runs[runs.length - 1]!;
      this.end = Math.max(this.end, last.c + last.n);
    }
  }
}
