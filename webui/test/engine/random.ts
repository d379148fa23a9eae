/** A small seeded PRNG (mulberry32) for reproducible property tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

const ALPHABET = ["a", "b", "c", " ", "\n", "é", "中", "😀", "𝄞", "🎉"];

export function randomText(r: () => number, max = 6): string {
  let s = "";
  const n = int(r, 1, max);
  for (let i = 0; i < n; i++) s += pick(r, ALPHABET);
  return s;
}
