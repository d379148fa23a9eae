import { describe as suite, expect, it } from "vitest";
import type { NotificationItem } from "../../src/protocol/rest";
import { describe, target } from "../../src/ui/notifications/describe";
import { positionFromAddress } from "../../src/ui/notifications/jump";

function item(over: Partial<NotificationItem>): NotificationItem {
  return {
    id: 1,
    kind: "share",
    doc_id: "d1",
    doc_title: "Plans",
    actor_id: "a",
    actor_name: "Ann",
    detail: {},
    created_at: "2026-01-01T00:00:00Z",
    read: false,
    ...over,
  };
}

suite("notification texts", () => {
  it("says who did what where", () => {
    expect(describe(item({ detail: { role: "editor" } }))).toBe("Ann shared “Plans” with you (editor)");
    expect(describe(item({ kind: "mention" }))).toBe("Ann mentioned you in “Plans”");
    expect(describe(item({ kind: "comment_mention" }))).toBe("Ann mentioned you in a comment on “Plans”");
    expect(describe(item({ kind: "reply", actor_name: "" }))).toBe("Someone replied in a thread on “Plans”");
  });
});

suite("where a notification leads", () => {
  it("opens a mention at its position and a comment at its id", () => {
    expect(target(item({ kind: "mention", detail: { position: "42" } }))).toBe("/d/d1#at=42");
    expect(target(item({ kind: "reply", detail: { comment_id: "c 1" } }))).toBe("/d/d1#comment=c%201");
    expect(target(item({ doc_id: "a/b" }))).toBe("/d/a%2Fb");
  });
  it("ignores a position that is not a plain number", () => {
    expect(target(item({ kind: "mention", detail: { position: "1e9" } }))).toBe("/d/d1");
    expect(positionFromAddress("#at=12")).toBe(12);
    expect(positionFromAddress("#at=-1")).toBeNull();
    expect(positionFromAddress("#at=12abc")).toBeNull();
    expect(positionFromAddress("#link=x")).toBeNull();
    expect(positionFromAddress("#at=99999999999")).toBeNull();
  });
});
