/** `GET /search` (docs/protocol.md §4): documents the person can open that contain some words. */
import type { Api } from "../../api";
import type { SearchPage } from "../../protocol/rest";

export function searchDocuments(api: Api, q: string, limit = 20, offset = 0): Promise<SearchPage> {
  const params = new URLSearchParams({ q, limit: String(limit), offset: String(offset) });
  return api.request("GET", `/search?${params.toString()}`);
}

export function searchPath(q: string): string {
  return q ? `/search?${new URLSearchParams({ q }).toString()}` : "/search";
}
