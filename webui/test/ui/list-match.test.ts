// The document list's search, filter and sort, without a DOM.
import { describe, expect, it } from "vitest";
import {
  filterDocuments,
  ownerLabel,
  roleLabel,
  sortDocuments,
  wordPrefixMatch,
  type ListedDocument,
} from "../../src/ui/list/match";

function doc(title: string, extra: Partial<ListedDocument> = {}): ListedDocument {
  return {
    id: title,
    title,
    role: "owner",
    owner_id: "me",
    seq: 0,
    public_sharing_enabled: false,
    public_sharing_role: "viewer",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    owner_name: "Me",
    last_edited_by: null,
    ...extra,
  };
}

describe("wordPrefixMatch", () => {
  it("matches at the start of any word, ignoring case", () => {
    expect(wordPrefixMatch("Team notes", "notes")).toEqual([5, 10]);
    expect(wordPrefixMatch("Team notes", "TEAM")).toEqual([0, 4]);
    expect(wordPrefixMatch("Team notes", "team no")).toEqual([0, 7]);
    expect(wordPrefixMatch("Meeting (draft)", "dra")).toEqual([9, 12]);
    expect(wordPrefixMatch("état des lieux", "Lieu")).toEqual([9, 13]);
  });

  it("does not match inside a word, nor an empty query", () => {
    expect(wordPrefixMatch("Footnotes", "notes")).toBeNull();
    expect(wordPrefixMatch("Team notes", "  ")).toBeNull();
    expect(wordPrefixMatch("Team", "Teams")).toBeNull();
  });

  it("counts offsets in UTF-16 units, as the server's match does", () => {
    expect(wordPrefixMatch("🎉 Party plan", "plan")).toEqual([9, 13]);
    expect(wordPrefixMatch("#2 retro", "#2")).toEqual([0, 2]);
  });
});

describe("filter and sort", () => {
  const mine = doc("Zebra", { updated_at: "2026-01-03T00:00:00Z" });
  const theirs = doc("apple", { role: "editor", owner_id: "bob", owner_name: "Bob" });
  const viewed = doc("Part 10", {
    role: "viewer",
    owner_id: "bob",
    owner_name: " ",
    updated_at: "2026-01-02T00:00:00Z",
  });
  const part2 = doc("Part 2", { role: "viewer", owner_id: "bob" });

  it("shows what I own or what is shared with me", () => {
    const all = [mine, theirs, viewed];
    expect(filterDocuments(all, "all", "me")).toEqual(all);
    expect(filterDocuments(all, "owned", "me")).toEqual([mine]);
    expect(filterDocuments(all, "shared", "me")).toEqual([theirs, viewed]);
  });

  it("sorts by last edit, or by title in natural order", () => {
    expect(sortDocuments([theirs, mine, viewed], "edited").map((d) => d.title)).toEqual(["Zebra", "Part 10", "apple"]);
    expect(sortDocuments([mine, viewed, part2, theirs], "title").map((d) => d.title)).toEqual([
      "apple",
      "Part 2",
      "Part 10",
      "Zebra",
    ]);
  });

  it("names the owner and the role as the editor does", () => {
    expect(ownerLabel(mine, "me")).toBe("You");
    expect(ownerLabel(theirs, "me")).toBe("Bob");
    expect(ownerLabel(viewed, "me")).toBe("Shared with you");
    expect([roleLabel("owner"), roleLabel("editor"), roleLabel("viewer")]).toEqual(["Owner", "Editor", "View only"]);
  });
});
