/**
 * Tabs that share one refresh token must take turns: a refresh token works once, and a tab that
 * reuses the token another tab already swapped signs the whole session out. Here several "tabs"
 * (concurrent callers) refresh at once against a fake server that enforces single use, through
 * the IndexedDB lease (Node has no Web Locks) and the IndexedDB token store.
 */
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";

class MemoryStorage {
  private data = new Map<string, string>();
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.data.set(k, v);
  }
  removeItem(k: string): void {
    this.data.delete(k);
  }
}
(globalThis as unknown as { localStorage: MemoryStorage }).localStorage = new MemoryStorage();

const { readRefreshToken, withRefreshLock, writeRefreshToken } = await import("../../src/tokens");

describe("refreshes across tabs", () => {
  it("never present a used-up refresh token when many tabs refresh at once", async () => {
    expect(typeof navigator === "undefined" || !("locks" in navigator) || !navigator.locks).toBe(true);
    let current = "t0";
    let next = 1;
    const used = new Set<string>();
    let reuse = 0;
    const server = async (token: string): Promise<string> => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      if (token !== current) {
        if (used.has(token)) reuse++;
        throw new Error("refused");
      }
      used.add(token);
      current = `t${next++}`;
      return current;
    };
    await writeRefreshToken("t0");
    const tab = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        await withRefreshLock(async () => {
          const token = await readRefreshToken();
          await writeRefreshToken(await server(token!));
        });
      }
    };
    await Promise.all([tab(), tab(), tab(), tab()]);
    expect(reuse).toBe(0);
    expect(next).toBe(21);
    expect(await readRefreshToken()).toBe(current);
  });

  it("a signed-out tab's token is gone for every tab", async () => {
    await writeRefreshToken("abc");
    expect(await readRefreshToken()).toBe("abc");
    await writeRefreshToken(null);
    expect(await readRefreshToken()).toBeNull();
    expect(localStorage.getItem("docstream.refresh")).toBeNull();
  });
});
