/**
 * The document list's pure logic, kept apart from the DOM so it is unit-tested: which rows a
 * search matches (a query matches at the start of any word of a title, as the server's title
 * suggestions do: "notes" finds "Team notes", not "Footnotes"), which rows a filter shows and in
 * which order.
 */
import type { DocumentInfo } from "../../api";
import type { DocumentListItem } from "../../protocol/rest";

/** `[start, end)` in UTF-16 code units of the title, the part a search matched. */
export type Match = [number, number];

/** A row of `GET /documents`. */
export type ListedDocument = DocumentListItem;

export type Filter = "all" | "owned" | "shared";
export type SortKey = "edited" | "title";

const WORD_START = /(?<![\p{L}\p{N}])[\p{L}\p{N}]/gu;

/**
 * Where `query` matches `title` at the start of a word, case-insensitively; null when it does not.
 * A query that does not start with a letter or digit ("#2") may also match where the title starts.
 */
export function wordPrefixMatch(title: string, query: string): Match | null {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return null;
  const starts = [0, ...[...title.matchAll(WORD_START)].map((m) => m.index)];
  for (const start of starts) {
    const end = start + q.length;
    if (end <= title.length && title.slice(start, end).toLocaleLowerCase() === q) return [start, end];
  }
  return null;
}

export function filterDocuments<T extends ListedDocument>(docs: readonly T[], filter: Filter, me: string | null): T[] {
  if (filter === "all") return [...docs];
  const owned = (d: T): boolean => d.role === "owner" || (me !== null && d.owner_id === me);
  return docs.filter((d) => (filter === "owned" ? owned(d) : !owned(d)));
}

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

/** Newest edit first, or by title (natural order: "Part 2" before "Part 10"); a copy. */
export function sortDocuments<T extends ListedDocument>(docs: readonly T[], key: SortKey): T[] {
  const copy = [...docs];
  if (key === "title")
    copy.sort((a, b) => collator.compare(a.title, b.title) || b.updated_at.localeCompare(a.updated_at));
  else copy.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return copy;
}

/** The owner as the list shows it: "You", else the owner's name when the server gives it. */
export function ownerLabel(d: ListedDocument, me: string | null): string {
  if (d.role === "owner" || (me !== null && d.owner_id === me)) return "You";
  return d.owner_name.trim() || "Shared with you";
}

/** "Owner", "Editor", "View only": the same words as the editor's role chip. */
export function roleLabel(role: DocumentInfo["role"]): string {
  return role === "owner" ? "Owner" : role === "editor" ? "Editor" : "View only";
}
