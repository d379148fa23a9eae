// Audit entries read as sentences, and the administrators' filters become the query the server
// expects (a "to" day includes that whole day, in the browser's time zone).
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/protocol/rest";
import { auditQuery, NO_FILTERS } from "../../src/ui/audit/api";
import { actorOf, sentence } from "../../src/ui/audit/describe";

function entry(action: string, detail: Record<string, string> = {}, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 1,
    at: "2026-01-02T03:04:05Z",
    action,
    actor_id: "a",
    actor_email: "ada@example.com",
    actor_name: "Ada",
    ip: "203.0.113.7",
    doc_id: "d",
    doc_title: "Plans",
    subject_id: "b",
    subject_name: "Bob",
    detail,
    ...extra,
  };
}

describe("sentence", () => {
  it("says who did what to the document", () => {
    expect(sentence(entry("document.shared", { role: "editor" }), "it")).toBe("Ada shared it with Bob as editor");
    expect(sentence(entry("document.role_changed", { role: "viewer", previous: "editor" }), "it")).toBe(
      "Ada made Bob a viewer of it",
    );
    expect(sentence(entry("document.access_removed"), "it")).toBe("Ada removed Bob’s access to it");
    expect(sentence(entry("document.renamed", { title: "New" }))).toBe("Ada renamed “Plans” to “New”");
    expect(sentence(entry("document.public_link_changed", { enabled: "true", role: "editor" }), "it")).toBe(
      "Ada turned on the public link of it (anyone with it can edit)",
    );
    expect(sentence(entry("document.public_link_changed", { enabled: "false", role: "viewer" }), "it")).toBe(
      "Ada turned off the public link of it",
    );
    expect(sentence(entry("document.version_restored", { version: "3" }), "it")).toBe("Ada restored version 3 of it");
  });

  it("names failed sign-ins by the address typed and the reason", () => {
    const failed = entry("auth.sign_in_failed", { email: "x@example.com", reason: "wrong_password" });
    expect(sentence(failed)).toBe("Failed sign-in as x@example.com (wrong password)");
  });

  it("falls back for unknown actions and missing people", () => {
    const other = entry("admin.user_disabled", { note: "spam" }, { actor_name: "", doc_id: null });
    expect(sentence(other)).toBe("ada@example.com: admin.user_disabled (Bob) — note: spam");
    expect(actorOf(entry("x", {}, { actor_name: "", actor_email: "" }))).toBe("A deleted account");
    expect(actorOf(entry("x", {}, { actor_name: "", actor_email: "", actor_id: null }))).toBe("Someone");
    const cli = entry(
      "admin.user_promoted",
      { via: "command line" },
      { actor_name: "", actor_email: "", actor_id: null },
    );
    expect(actorOf(cli)).toBe("The command line");
  });
});

describe("auditQuery", () => {
  it("sends only the filters given, with whole local days", () => {
    expect(auditQuery(NO_FILTERS)).toBe("");
    const q = new URLSearchParams(
      auditQuery(
        { actor: " ada@example.com ", action: "auth.", doc: "", from: "2026-01-02", to: "2026-01-02" },
        42,
      ).slice(1),
    );
    expect(q.get("actor")).toBe("ada@example.com");
    expect(q.get("action")).toBe("auth.");
    expect(q.has("doc")).toBe(false);
    expect(q.get("before")).toBe("42");
    const since = new Date(q.get("since")!);
    const until = new Date(q.get("until")!);
    expect([since.getFullYear(), since.getMonth(), since.getDate(), since.getHours()]).toEqual([2026, 0, 2, 0]);
    expect([until.getFullYear(), until.getMonth(), until.getDate(), until.getHours()]).toEqual([2026, 0, 3, 0]);
  });
});
