/**
 * The Trash page (`/trash`): the documents the person moved to the trash, newest first, each with
 * how long it stays before it is deleted for good, Restore and Delete forever; and Empty trash.
 * Deleting for good asks first; restoring does not (it undoes nothing anyone else did).
 */
import { ArchiveRestore, ArrowLeft, Trash2 } from "lucide";
import type { Api } from "../../api";
import type { TrashItem } from "../../protocol/rest";
import { ago, confirmDialog, h, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { emptyTrash, listTrash, purgeDocument, restoreDocument } from "./api";
import { problem } from "./actions";
import { daysLeft } from "./days";

export function trashView(api: Api): HTMLElement {
  let items: TrashItem[] = [];
  let loaded = false;
  const list = h("ul", { class: "doc-list trash-list", "aria-label": "Trashed documents" });
  const status = h("p", { class: "list-status", role: "status" }, "Loading…");
  const note = h(
    "p",
    { class: "trash-note" },
    "Documents in the trash are hidden from everyone they were shared with, and are deleted for good when their time runs out.",
  );
  const empty = h(
    "section",
    { class: "empty-state", hidden: true },
    icon(Trash2, undefined, 40),
    h("p", { class: "empty-title" }, "The trash is empty"),
    h("p", {}, "Documents you move to the trash wait here for a while before they are deleted for good."),
  );
  const emptyButton = h(
    "button",
    { type: "button", class: "danger empty-trash", hidden: true },
    icon(Trash2),
    "Empty trash",
  );

  const focusAfter = (index: number): void => {
    const buttons = list.querySelectorAll<HTMLElement>(".trash-restore");
    (buttons[Math.min(index, buttons.length - 1)] ?? back).focus();
  };

  const row = (item: TrashItem, index: number): HTMLElement => {
    const restore = h(
      "button",
      { type: "button", class: "trash-restore", "aria-label": `Restore ${item.title}` },
      icon(ArchiveRestore),
      h("span", { class: "button-text" }, "Restore"),
    );
    onAsync(restore, "click", async () => {
      try {
        await restoreDocument(api, item.id);
        toast(`“${item.title}” is back in your documents.`);
        await load();
        focusAfter(index);
      } catch (exc) {
        toast(problem(exc), "error");
      }
    });
    const purge = h(
      "button",
      {
        type: "button",
        class: "icon-only danger trash-purge",
        "aria-label": `Delete ${item.title} forever`,
        title: "Delete forever",
      },
      icon(Trash2),
    );
    onAsync(purge, "click", async () => {
      const ok = await confirmDialog(
        "Delete forever?",
        `“${item.title}” and its history will be deleted for good. This cannot be undone.`,
        "Delete forever",
        true,
      );
      if (!ok) return purge.focus();
      try {
        await purgeDocument(api, item.id);
        toast(`“${item.title}” was deleted for good.`);
        await load();
        focusAfter(index);
      } catch (exc) {
        toast(problem(exc), "error");
      }
    });
    const deleted = h(
      "time",
      { datetime: item.deleted_at, title: new Date(item.deleted_at).toLocaleString() },
      ago(item.deleted_at),
    );
    return h(
      "li",
      { class: "doc-item trash-item", "data-doc-id": item.id },
      h(
        "div",
        { class: "doc-main" },
        h("span", { class: "trash-title" }, item.title),
        h(
          "p",
          { class: "doc-meta" },
          h("span", {}, "Moved to the trash ", deleted),
          h("span", { class: "trash-left", title: new Date(item.purge_at).toLocaleString() }, daysLeft(item.purge_at)),
        ),
      ),
      h("span", { class: "trash-actions" }, restore, purge),
    );
  };

  const render = (): void => {
    list.replaceChildren(...items.map(row));
    empty.hidden = !loaded || items.length > 0;
    emptyButton.hidden = !loaded || items.length === 0;
    note.hidden = loaded && items.length === 0;
    main.dataset["state"] = !loaded ? "loading" : items.length ? "list" : "empty";
    status.textContent = !loaded
      ? "Loading…"
      : items.length === 1
        ? "1 document"
        : items.length
          ? `${items.length} documents`
          : "";
  };
  const load = async (): Promise<void> => {
    try {
      items = await listTrash(api);
      loaded = true;
      render();
    } catch (exc) {
      status.textContent = problem(exc);
    }
  };
  onAsync(emptyButton, "click", async () => {
    const n = items.length;
    const ok = await confirmDialog(
      "Empty the trash?",
      `${n === 1 ? "The document" : `All ${n} documents`} in the trash and their history will be deleted for good. This cannot be undone.`,
      "Empty trash",
      true,
    );
    if (!ok) return emptyButton.focus();
    try {
      const reply = await emptyTrash(api);
      toast(
        reply.purged === 1 ? "1 document was deleted for good." : `${reply.purged} documents were deleted for good.`,
      );
      await load();
      back.focus();
    } catch (exc) {
      toast(problem(exc), "error");
    }
  });

  const back = h("a", { href: "/", "data-link": true, class: "back-link" }, icon(ArrowLeft), "Documents");
  const main = h(
    "main",
    { class: "list-page trash-page", id: "main", "data-state": "loading" },
    back,
    h("div", { class: "list-head" }, h("h1", {}, "Trash"), emptyButton),
    note,
    status,
    empty,
    list,
  );
  void load();
  return main;
}
