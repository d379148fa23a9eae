/** The audit log's REST calls: a document's activity (its owner) and the whole log (administrators). */
import type { Api } from "../../api";
import type { AuditPage } from "../../protocol/rest";

/** The administrators' filters; empty strings filter nothing. Dates are `YYYY-MM-DD` (local days). */
export interface AuditFilters {
  actor: string;
  action: string;
  doc: string;
  from: string;
  to: string;
}

export const NO_FILTERS: AuditFilters = { actor: "", action: "", doc: "", from: "", to: "" };

/** The first instant of a local day (`YYYY-MM-DD`), as an ISO time with its zone. */
function dayStart(day: string, plusDays = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y!, m! - 1, d! + plusDays).toISOString();
}

/** The query string of the filters (`to` includes the whole day). */
export function auditQuery(f: AuditFilters, before?: number | null): string {
  const q = new URLSearchParams();
  if (f.actor.trim()) q.set("actor", f.actor.trim());
  if (f.action.trim()) q.set("action", f.action.trim());
  if (f.doc.trim()) q.set("doc", f.doc.trim());
  if (f.from) q.set("since", dayStart(f.from));
  if (f.to) q.set("until", dayStart(f.to, 1));
  if (before) q.set("before", String(before));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function documentActivity(api: Api, docId: string, before?: number | null): Promise<AuditPage> {
  const q = before ? `?before=${before}` : "";
  return api.get(`/documents/${encodeURIComponent(docId)}/activity${q}`);
}

export function adminAudit(api: Api, f: AuditFilters, before?: number | null): Promise<AuditPage> {
  return api.get(`/admin/audit${auditQuery(f, before)}`);
}

/** The CSV of the same filters (the download needs the bearer token, so it is fetched). */
export function adminAuditCsv(api: Api, f: AuditFilters): Promise<string> {
  return api.request<string>("GET", `/admin/audit.csv${auditQuery(f)}`);
}
