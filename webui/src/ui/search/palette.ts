/**
 * What the command palette adds from full-text search: documents whose *text* (or title) holds
 * the words typed, with a one-line snippet, after the title matches; and a command opening the
 * search page with the query. Asked for only once typing pauses (`CONTENT_DELAY_MS` after the
 * palette's own debounce), so titles still appear at once.
 */
import type { Api } from "../../api";
import type { SearchResult } from "../../protocol/rest";
import { h } from "../dom";
import { highlighted } from "./highlight";
import { searchDocuments } from "./api";

export const CONTENT_DELAY_MS = 200;
/** The shortest query searched by content (one letter matches too much to be useful). */
export const CONTENT_MIN_CHARS = 2;

/** Documents matching `q` by content (none when the server is out of reach or has no search). */
export async function contentMatches(api: Api, q: string, limit: number): Promise<SearchResult[]> {
  if (!api.user || q.length < CONTENT_MIN_CHARS) return [];
  try {
    return (await searchDocuments(api, q, limit)).results;
  } catch {
    return [];
  }
}

/** The snippet line of a palette option. */
export function snippetLine(text: string, ranges: readonly unknown[]): HTMLElement {
  return h("span", { class: "palette-snippet" }, ...highlighted(text, ranges));
}

export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
