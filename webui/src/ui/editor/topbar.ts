/**
 * The editor's one top bar: brand (home), the title (renamed in place), the role chip, the
 * save/connection indicator, the other people here, Share, the ⋯ menu and the user menu. The
 * page owns the state; the bar only lays the parts out and builds the ⋯ menu from the page's
 * current state each time it opens.
 *
 * The ⋯ menu has no Import: the server has no import feature yet.
 */
import { Activity, Copy, Download, Ellipsis, History, Keyboard, LogOut, Moon, Share2, Trash2, Type } from "lucide";
import type { Api, DocumentInfo } from "../../api";
import type { Role } from "../../protocol/messages";
import { h } from "../dom";
import { icon } from "../icons";
import { menuButton, type MenuItem } from "../menu";
import { navigate } from "../router";
import { SHORTCUTS_EVENT } from "../shortcuts";
import { effectiveTheme, toggleTheme } from "../theme";
import { duplicate, leaveShared, moveToTrash } from "../trash/actions";

/** What the ⋯ menu reads and does (the page implements it). */
export interface BarActions {
  /** The document's info is known and access has not ended: history and export work. */
  ready(): boolean;
  role(): Role | null;
  historyOpen(): boolean;
  toggleHistory(): void;
  exportAs(format: "txt" | "md" | "html"): void;
  monospace(): boolean;
  toggleMonospace(): void;
  /** Signed in (a guest has no documents of their own: no Duplicate, no Leave). */
  signedIn(): boolean;
  duplicate(): Promise<void>;
  leave(): Promise<void>;
  remove(): Promise<void>;
  /** The owner's view of who did what to the document (audit/activity.ts). */
  activity(): void;
}

export function shareButton(): HTMLButtonElement {
  return h(
    "button",
    { type: "button", class: "primary share-button", disabled: true },
    icon(Share2),
    h("span", { class: "button-text" }, "Share"),
  );
}

export function moreMenu(actions: BarActions): ReturnType<typeof menuButton> {
  const items = (): (MenuItem | "separator")[] => {
    const ready = actions.ready();
    const list: (MenuItem | "separator")[] = [
      {
        label: "History",
        icon: History,
        checked: actions.historyOpen(),
        disabled: !ready,
        run: () => actions.toggleHistory(),
      },
      { label: "Export .txt", icon: Download, disabled: !ready, run: () => actions.exportAs("txt") },
      { label: "Export .md", icon: Download, disabled: !ready, run: () => actions.exportAs("md") },
      { label: "Export .html", icon: Download, disabled: !ready, run: () => actions.exportAs("html") },
      "separator",
      { label: "Monospace font", icon: Type, checked: actions.monospace(), run: () => actions.toggleMonospace() },
      { label: "Dark theme", icon: Moon, checked: effectiveTheme() === "dark", run: toggleTheme },
      {
        label: "Keyboard shortcuts",
        icon: Keyboard,
        run: () => void window.dispatchEvent(new CustomEvent(SHORTCUTS_EVENT)),
      },
    ];
    if (ready && actions.role() === "owner")
      list.push(
        "separator",
        { label: "Activity", icon: Activity, run: () => actions.activity() },
        { label: "Delete document", icon: Trash2, danger: true, run: () => actions.remove() },
      );
    if (ready && actions.signedIn()) {
      list.push("separator", { label: "Duplicate", icon: Copy, run: () => actions.duplicate() });
      if (actions.role() === "owner")
        list.push({ label: "Move to trash", icon: Trash2, danger: true, run: () => actions.remove() });
      else list.push({ label: "Leave document", icon: LogOut, danger: true, run: () => actions.leave() });
    }
    return list;
  };
  return menuButton({ label: "More actions", icon: Ellipsis, items, class: "icon-only" });
}

/** The bar's layout: a start group (home, title, chip) and an end group (state, people, actions). */
export function topBar(parts: {
  brand: HTMLElement;
  title: HTMLElement;
  chip: HTMLElement;
  status: HTMLElement;
  presence: HTMLElement;
  share: HTMLElement;
  more: HTMLElement;
  user: HTMLElement;
}): HTMLElement {
  return h(
    "header",
    { class: "editor-bar" },
    h("div", { class: "bar-start" }, parts.brand, parts.title, parts.chip),
    h("div", { class: "bar-end" }, parts.status, parts.presence, parts.share, parts.more, parts.user),
  );
}

/** The owner moves the document to the trash (undone from the toast); back to the list. */
export function deleteDocument(api: Api, info: DocumentInfo): Promise<void> {
  return moveToTrash(api, info, () => navigate("/", true));
}

/** A collaborator leaves the document (after confirming); back to the list. */
export function leaveDocument(api: Api, info: DocumentInfo): Promise<void> {
  return leaveShared(api, info, () => navigate("/", true));
}

/** Copy the document into a new one of the person's own, and open the copy. */
export function duplicateDocument(api: Api, info: DocumentInfo): Promise<void> {
  return duplicate(api, info.id);
}
