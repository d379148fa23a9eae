/**
 * A document's activity (its owner's ⋯ menu → Activity): who shared it, changed access, renamed
 * it, restored a version..., newest first, with when and from which address, a page at a time.
 */
import { ApiError, type Api, type DocumentInfo } from "../../api";
import type { AuditEntry } from "../../protocol/rest";
import { ago, h, modal, toast } from "../dom";
import { documentActivity } from "./api";
import { sentence } from "./describe";

function msg(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

/** The line under a sentence: when (the exact time on hover), and from where. */
export function whenAndWhere(e: AuditEntry): HTMLElement {
  const exact = new Date(e.at).toLocaleString();
  return h(
    "p",
    { class: "audit-meta" },
    h("time", { datetime: e.at, title: exact }, ago(e.at)),
    e.ip ? ` · from ${e.ip}` : "",
  );
}

export function activityItem(e: AuditEntry): HTMLElement {
  return h(
    "li",
    { class: "activity-item", "data-action": e.action },
    h("p", { class: "activity-text" }, sentence(e, "it")),
    whenAndWhere(e),
  );
}

export function activityDialog(api: Api, doc: DocumentInfo): HTMLDialogElement {
  const list = h("ol", { class: "activity-list", "aria-label": "Activity, newest first" });
  const status = h("p", { class: "activity-status", role: "status" }, "Loading…");
  const more = h("button", { type: "button", hidden: true }, "Show older");
  let before: number | null = null;
  const load = async (): Promise<void> => {
    more.disabled = true;
    try {
      const page = await documentActivity(api, doc.id, before);
      list.append(...page.entries.map(activityItem));
      before = page.next_before;
      more.hidden = before === null;
      status.textContent = list.childElementCount ? "" : "Nothing recorded yet.";
    } catch (exc) {
      status.textContent = "";
      toast(msg(exc), "error");
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  const dialog = modal(`Activity of “${doc.title}”`, [
    h("div", { class: "activity-body" }, status, list, h("div", { class: "actions" }, more)),
  ]);
  dialog.classList.add("activity-dialog");
  void load();
  return dialog;
}
