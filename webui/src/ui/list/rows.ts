/**
 * One row of the document list: the title (a link over the whole row), who owns it and who
 * edited it last, the role chip, and the row's actions in a ⋯ menu (Rename for owners and
 * editors, Duplicate for everyone, Leave for people it is shared with, Move to trash for the
 * owner), so that nothing in the row needs more width than a phone has.
 */
import { Copy, LogOut, Pencil, Trash2, Ellipsis } from "lucide";
import { ApiError, NetworkError, type Api } from "../../api";
import { ago, h, promptDialog, toast } from "../dom";
import { menuButton, type MenuItem } from "../menu";
import { editorPath } from "../router";
import { duplicate, leaveShared, moveToTrash } from "../trash/actions";
import { marked } from "./mark";
import { ownerLabel, roleLabel, type ListedDocument, type Match } from "./match";

export function problem(exc: unknown): string {
  if (exc instanceof NetworkError) return "You are offline: the document list cannot be loaded.";
  if (exc instanceof ApiError) return exc.message;
  return "Something went wrong.";
}

export interface RowContext {
  api: Api;
  /** The row's document changed (renamed) or is gone (deleted): show the list again. */
  changed: () => void;
  remove: (id: string) => void;
}

function edited(d: ListedDocument): HTMLElement {
  const when = h("time", { datetime: d.updated_at, title: new Date(d.updated_at).toLocaleString() }, ago(d.updated_at));
  const by = d.last_edited_by?.trim();
  return h("span", { class: "doc-edited" }, "Edited ", when, by ? ` by ${by}` : null);
}

export function docRow(d: ListedDocument, match: Match | null, me: string | null, ctx: RowContext): HTMLElement {
  const rename = async (): Promise<void> => {
    const title = await promptDialog("Rename document", "Title", d.title, "Rename");
    if (title === null || title === d.title) return;
    try {
      const updated = await ctx.api.renameDocument(d.id, title);
      d.title = updated.title;
      ctx.changed();
      toast(`Renamed to “${updated.title}”.`);
    } catch (exc) {
      toast(problem(exc), "error");
    }
  };
  const items: MenuItem[] = [];
  if (d.role !== "viewer") items.push({ label: "Rename", icon: Pencil, run: rename });
  items.push({ label: "Duplicate", icon: Copy, run: () => duplicate(ctx.api, d.id) });
  if (d.role !== "owner")
    items.push({
      label: "Leave",
      icon: LogOut,
      danger: true,
      run: () => leaveShared(ctx.api, d, () => ctx.remove(d.id)),
    });
  if (d.role === "owner")
    items.push({
      label: "Move to trash",
      icon: Trash2,
      danger: true,
      run: () => moveToTrash(ctx.api, d, () => ctx.remove(d.id)),
    });
  const actions = menuButton({
    label: `Actions for ${d.title}`,
    icon: Ellipsis,
    class: "row-menu",
    items: () => items,
  }).element;
  return h(
    "li",
    { class: "doc-item", "data-doc-id": d.id },
    h(
      "div",
      { class: "doc-main" },
      h("a", { href: editorPath(d.id), "data-link": true, class: "doc-title" }, ...marked(d.title, match)),
      h("p", { class: "doc-meta" }, h("span", { class: "doc-owner" }, ownerLabel(d, me)), edited(d)),
    ),
    h("span", { class: `role-chip role-${d.role}` }, roleLabel(d.role)),
    actions,
  );
}
