/**
 * The administrators' audit log (`/admin/audit`): filters (person, kind of action, document,
 * dates), the entries newest first a page at a time, and "Export CSV" of the same filters. A table
 * on wide screens; on phones each row stacks its cells under their labels.
 */
import { Download } from "lucide";
import { ApiError, type Api } from "../../api";
import type { AuditEntry } from "../../protocol/rest";
import { h, newId, toast } from "../dom";
import { icon } from "../icons";
import { adminAudit, adminAuditCsv, NO_FILTERS, type AuditFilters } from "./api";
import { whenAndWhere } from "./activity";
import { ACTION_KINDS, actorOf, sentence } from "./describe";

function msg(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

function labelled(label: string, control: HTMLInputElement | HTMLSelectElement): HTMLElement {
  const id = newId("audit");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function cell(label: string, ...content: (Node | string)[]): HTMLTableCellElement {
  return h("td", { "data-label": label }, ...content);
}

function row(e: AuditEntry): HTMLTableRowElement {
  const who = h("span", {}, actorOf(e));
  if (e.actor_email && e.actor_email !== actorOf(e)) who.title = e.actor_email;
  const doc = e.doc_id
    ? h("a", { href: `/d/${encodeURIComponent(e.doc_id)}`, "data-link": true }, e.doc_title || "(untitled)")
    : "—";
  return h(
    "tr",
    { "data-action": e.action },
    cell("When", whenAndWhere(e)),
    cell("Who", who),
    cell("What", h("span", { class: "audit-what" }, sentence(e)), h("code", { class: "audit-action" }, e.action)),
    cell("Document", doc),
  );
}

function saveText(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function auditPage(api: Api): HTMLElement {
  let filters: AuditFilters = { ...NO_FILTERS };
  let before: number | null = null;
  const actor = h("input", { type: "search", name: "actor", placeholder: "E-mail or user id", maxlength: 320 });
  const kind = h("select", { name: "action" }, ...ACTION_KINDS.map(([v, l]) => h("option", { value: v }, l)));
  const doc = h("input", { type: "search", name: "doc", placeholder: "Document id", maxlength: 320 });
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  const apply = h("button", { type: "submit", class: "primary" }, "Apply");
  const exportButton = h("button", { type: "button", class: "audit-export" }, icon(Download), "Export CSV");
  const form = h(
    "form",
    { class: "audit-filters", "aria-label": "Filter the audit log" },
    labelled("Person", actor),
    labelled("Action", kind),
    labelled("Document", doc),
    labelled("From", from),
    labelled("To", to),
    h("div", { class: "audit-filter-actions" }, apply, exportButton),
  );
  const body = h("tbody");
  const table = h(
    "table",
    { class: "audit-table" },
    h("caption", { class: "visually-hidden" }, "Audit entries, newest first"),
    h("thead", {}, h("tr", {}, ...["When", "Who", "What", "Document"].map((t) => h("th", { scope: "col" }, t)))),
    body,
  );
  const status = h("p", { class: "audit-status", role: "status" }, "Loading…");
  const more = h("button", { type: "button", hidden: true }, "Show older");

  const load = async (reset: boolean): Promise<void> => {
    if (reset) before = null;
    more.disabled = apply.disabled = true;
    try {
      const page = await adminAudit(api, filters, before);
      if (reset) body.replaceChildren();
      body.append(...page.entries.map(row));
      before = page.next_before;
      more.hidden = before === null;
      status.textContent = body.childElementCount ? "" : "No entries match.";
      table.hidden = !body.childElementCount;
    } catch (exc) {
      status.textContent = msg(exc);
    } finally {
      more.disabled = apply.disabled = false;
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    filters = { actor: actor.value, action: kind.value, doc: doc.value, from: from.value, to: to.value };
    void load(true);
  });
  more.addEventListener("click", () => void load(false));
  exportButton.addEventListener("click", () => {
    const current: AuditFilters = {
      actor: actor.value,
      action: kind.value,
      doc: doc.value,
      from: from.value,
      to: to.value,
    };
    exportButton.disabled = true;
    adminAuditCsv(api, current)
      .then((text) => saveText(text, "docstream-audit.csv"))
      .catch((exc: unknown) => toast(msg(exc), "error"))
      .finally(() => (exportButton.disabled = false));
  });
  void load(true);
  return h(
    "main",
    { class: "audit-page", id: "main" },
    h("h1", {}, "Audit log"),
    h(
      "p",
      { class: "audit-intro" },
      "Who did what, when and from where: sign-ins, sharing, public links, restores and administration.",
    ),
    form,
    status,
    table,
    h("div", { class: "actions" }, more),
  );
}
