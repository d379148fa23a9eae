/**
 * The history's own REST calls (docs/protocol.md: sessions and the text at a seq), kept beside
 * the panel that uses them so the shared API client stays small.
 */
import type { Api } from "../../api";
import type { SessionsPage, TextAt } from "../../protocol/rest";

export type { EditSession, SessionsPage } from "../../protocol/rest";

export function sessions(api: Api, docId: string, before: number | null, limit = 20): Promise<SessionsPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before !== null) query.set("before", String(before));
  return api.get(`/documents/${encodeURIComponent(docId)}/sessions?${query}`);
}

/** The text as it was once the edit `seq` was applied (0: before the first edit). */
export async function textAt(api: Api, docId: string, seq: number): Promise<string> {
  const got = await api.get<TextAt>(`/documents/${encodeURIComponent(docId)}/text?seq=${Math.max(0, seq)}`);
  return got.text;
}
