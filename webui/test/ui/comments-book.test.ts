/**
 * The comments outbox (ui/comments/book.ts): queued frames show at once, survive a new page
 * (storage), are answered by the server's frames in order, and a permanent refusal drops one
 * while a transient one keeps it for the next send.
 */
import { describe, expect, it } from "vitest";
import { CommentBook, newCommentId } from "../../src/ui/comments/book";
import type { CommentInfo } from "../../src/protocol/messages";

class MemoryStorage implements Storage {
  private data = new Map<string, string>();
  get length(): number {
    return this.data.size;
  }
  clear(): void {
    this.data.clear();
  }
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.data.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.data.delete(key);
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
}

const me = { id: "u-ada", name: "Ada" };

function stored(id: string, extra: Partial<CommentInfo> = {}): CommentInfo {
  return {
    id,
    thread: id,
    author_id: me.id,
    author_name: me.name,
    body: "hello",
    created_at: "2026-01-01T00:00:00Z",
    anchor_start: "r:1",
    anchor_end: "r:2",
    quote: "hi",
    mentions: [],
    resolved: false,
    version: 1,
    ...extra,
  };
}

describe("the comment book", () => {
  it("makes ids the server accepts", () => {
    const ids = new Set(Array.from({ length: 50 }, newCommentId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  });

  it("shows a queued comment at once, keeps it across a reload, and clears it when answered", () => {
    const storage = new MemoryStorage();
    const book = new CommentBook(me, "doc1", () => undefined, storage);
    book.queue({ type: "comment_add", id: "c-000001", body: "offline", start: "r:1", end: "r:2", quote: "hi" });
    expect(book.threads().map((t) => [t.root.id, t.root.version])).toEqual([["c-000001", 0]]);
    const reloaded = new CommentBook(me, "doc1", () => undefined, storage);
    expect(reloaded.toSend()).toHaveLength(1);
    reloaded.receive({ type: "comments", comments: [] });
    expect(reloaded.threads()).toHaveLength(1); // still pending on top of the server's list
    reloaded.receive({ type: "comment", comment: stored("c-000001", { body: "offline" }) });
    expect(reloaded.toSend()).toEqual([]);
    expect(storage.length).toBe(0);
    expect(reloaded.threads()[0]!.root.version).toBe(1);
  });

  it("keeps the newer copy of a comment and applies deletes", () => {
    const book = new CommentBook(me, "doc1", () => undefined, new MemoryStorage());
    book.receive({ type: "comments", comments: [stored("t-1"), stored("r-1", { thread: "t-1", author_id: "u-bob" })] });
    book.receive({ type: "comment", comment: stored("t-1", { body: "new", version: 3 }) });
    book.receive({ type: "comment", comment: stored("t-1", { body: "old", version: 2 }) });
    expect(book.threads()[0]!.root.body).toBe("new");
    expect(book.threads()[0]!.replies.map((r) => r.id)).toEqual(["r-1"]);
    book.queue({ type: "comment_delete", id: "t-1" });
    expect(book.threads()).toEqual([]); // shown deleted at once, replies too
    book.receive({ type: "comment_removed", ids: ["r-1", "t-1"] });
    expect(book.toSend()).toEqual([]);
  });

  it("drops a frame refused for good and keeps one refused for now", () => {
    const refusals: string[] = [];
    const book = new CommentBook(me, "doc1", (r) => r && refusals.push(r), new MemoryStorage());
    book.queue({ type: "comment_reply", id: "r-000001", thread: "t-9", body: "to nothing" });
    book.queue({ type: "comment_edit", id: "c-000002", body: "later" });
    book.receive({ type: "error", code: "rate_limited", message: "slow down", comment: "c-000002" });
    book.receive({ type: "error", code: "not_found", message: "no such thread", comment: "r-000001" });
    expect(book.toSend().map((f) => f.id)).toEqual(["c-000002"]);
    expect(refusals).toEqual(["Your comment could not be saved: no such thread"]);
  });
});
