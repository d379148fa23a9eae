/**
 * The comment cards: a right-hand margin beside the text on a wide screen, a sheet over the
 * bottom of the screen on a phone (comments.css decides). One card per thread, in the order of
 * the text; a thread whose words were all deleted says so ("On deleted text") and keeps its
 * place. Resolved threads are hidden unless "Show resolved" is on.
 *
 * The panel only draws and reports intents (the feature in index.ts sends the frames); drafts and
 * the focused field survive a redraw, so a comment arriving while someone types changes nothing
 * under their fingers. Everything is text (`textContent`): a comment cannot inject markup.
 */
import { Check, MessageSquarePlus, Pencil, RotateCcw, Trash2, X } from "lucide";
import type { CommentInfo } from "../../protocol/messages";
import { ago, h, newId } from "../dom";
import { icon } from "../icons";
import type { Thread } from "./book";

export interface PlacedThread extends Thread {
  /** Where the anchor is now (code point index), and whether all of its text was deleted. */
  at: number;
  deleted: boolean;
  pending: boolean;
}

export interface PanelActions {
  me: string;
  canComment(): boolean;
  add(body: string): void;
  cancelAdd(): void;
  reply(thread: string, body: string): void;
  edit(id: string, body: string): void;
  remove(id: string): void;
  resolve(thread: string, resolved: boolean): void;
  select(thread: string): void;
  newComment(): void;
  close(): void;
}

function growing(label: string, value: string, onInput: (v: string) => void): HTMLTextAreaElement {
  const area = h("textarea", {
    rows: 2,
    "aria-label": label,
    placeholder: `${label}…`,
    maxlength: 10000,
    class: "comment-input",
  });
  area.value = value;
  area.addEventListener("input", () => onInput(area.value));
  return area;
}

export class CommentsPanel {
  readonly element: HTMLElement;
  private readonly list = h("div", { class: "comment-threads" });
  private readonly composer = h("div", { class: "comment-composer", hidden: true });
  private readonly empty = h("p", { class: "comment-empty" }, "No comments yet. Select some text, then Comment.");
  private readonly showResolved: HTMLInputElement;
  private readonly newButton: HTMLButtonElement;
  private drafts = new Map<string, string>();
  private editing: string | null = null;
  private active: string | null = null;
  private threads: PlacedThread[] = [];

  constructor(private readonly actions: PanelActions) {
    const headingId = newId("comments-heading");
    const resolvedId = newId("show-resolved");
    this.showResolved = h("input", { type: "checkbox", id: resolvedId });
    this.showResolved.addEventListener("change", () => this.draw());
    this.newButton = h(
      "button",
      { type: "button", class: "comment-new", title: "Comment on the selected text (Ctrl+Alt+M)" },
      icon(MessageSquarePlus),
      h("span", {}, "Comment"),
    );
    this.newButton.addEventListener("click", () => actions.newComment());
    const close = h(
      "button",
      { type: "button", class: "icon-only comment-close", "aria-label": "Close comments" },
      icon(X),
    );
    close.addEventListener("click", () => actions.close());
    this.element = h(
      "aside",
      { class: "comments-panel", "aria-labelledby": headingId },
      h("div", { class: "panel-head" }, h("h2", { id: headingId, tabindex: -1 }, "Comments"), this.newButton, close),
      h("label", { class: "comment-toggle", for: resolvedId }, this.showResolved, " Show resolved"),
      this.composer,
      this.empty,
      this.list,
    );
    this.element.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !ev.defaultPrevented) actions.close();
    });
  }

  /** Open the composer for a new thread on `quote`. */
  compose(quote: string): void {
    const area = growing("Your comment", this.drafts.get("") ?? "", (v) => this.drafts.set("", v));
    const send = h("button", { type: "submit", class: "primary" }, "Comment");
    const cancel = h("button", { type: "button" }, "Cancel");
    const form = h(
      "form",
      { class: "comment-form", "aria-label": "New comment" },
      h("blockquote", { class: "comment-quote" }, quote),
      area,
      h("div", { class: "comment-actions" }, cancel, send),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!area.value.trim()) return area.focus();
      this.actions.add(area.value);
      this.drafts.delete("");
      this.closeComposer();
    });
    cancel.addEventListener("click", () => {
      this.drafts.delete("");
      this.closeComposer();
      this.actions.cancelAdd();
    });
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
    });
    this.composer.replaceChildren(form);
    this.composer.hidden = false;
    area.focus();
  }

  private closeComposer(): void {
    this.composer.replaceChildren();
    this.composer.hidden = true;
  }

  focusHeading(): void {
    this.element.querySelector<HTMLElement>("h2")?.focus();
  }

  setActive(thread: string | null): void {
    this.active = thread;
    this.draw();
    if (thread)
      this.list
        .querySelector<HTMLElement>(`[data-thread="${CSS.escape(thread)}"]`)
        ?.scrollIntoView({ block: "nearest" });
  }

  render(threads: PlacedThread[]): void {
    this.threads = threads;
    this.draw();
  }

  private draw(): void {
    const focused = document.activeElement;
    const focusKey = focused instanceof HTMLElement && this.list.contains(focused) ? focused.dataset.key : undefined;
    const shown = this.threads
      .filter((t) => this.showResolved.checked || !t.root.resolved || t.root.id === this.active)
      .sort((a, b) => a.at - b.at || a.root.created_at.localeCompare(b.root.created_at));
    this.newButton.hidden = !this.actions.canComment();
    this.empty.hidden = shown.length > 0;
    const resolvedCount = this.threads.filter((t) => t.root.resolved).length;
    this.empty.textContent =
      resolvedCount && !this.showResolved.checked
        ? `No open comments (${resolvedCount} resolved).`
        : "No comments yet. Select some text, then Comment.";
    this.list.replaceChildren(...shown.map((t) => this.card(t)));
    if (focusKey) this.list.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
  }

  private card(t: PlacedThread): HTMLElement {
    const root = t.root;
    const can = this.actions.canComment();
    const card = h("article", {
      class: `comment-card${root.resolved ? " resolved" : ""}${root.id === this.active ? " active" : ""}`,
      "data-thread": root.id,
      "aria-label": `Comment by ${root.author_name}`,
    });
    const quote = t.deleted
      ? h("p", { class: "comment-deleted" }, h("strong", {}, "On deleted text"), root.quote ? `: “${root.quote}”` : "")
      : h(
          "button",
          { type: "button", class: "comment-quote link", "data-key": `q-${root.id}`, title: "Show in the text" },
          `“${root.quote || "…"}”`,
        );
    if (!t.deleted) quote.addEventListener("click", () => this.actions.select(root.id));
    const items = h("ol", { class: "comment-items" }, ...[root, ...t.replies].map((c) => this.item(c)));
    card.append(quote, items);
    if (root.resolved) card.append(h("p", { class: "comment-state" }, icon(Check, undefined, 14), " Resolved"));
    if (can && !t.pending) {
      const toggle = h(
        "button",
        { type: "button", class: "comment-resolve", "data-key": `r-${root.id}` },
        icon(root.resolved ? RotateCcw : Check, undefined, 16),
        root.resolved ? " Reopen" : " Resolve",
      );
      toggle.addEventListener("click", () => this.actions.resolve(root.id, !root.resolved));
      if (!root.resolved) card.append(this.replyForm(root.id));
      card.append(h("div", { class: "comment-actions" }, toggle));
    }
    return card;
  }

  private replyForm(thread: string): HTMLElement {
    const key = `reply-${thread}`;
    const area = growing("Reply", this.drafts.get(key) ?? "", (v) => this.drafts.set(key, v));
    area.dataset.key = key;
    area.rows = 1;
    const send = h("button", { type: "submit", "data-key": `s-${thread}` }, "Reply");
    const form = h("form", { class: "comment-reply", "aria-label": "Reply" }, area, send);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!area.value.trim()) return area.focus();
      this.actions.reply(thread, area.value);
      this.drafts.delete(key);
      area.value = "";
    });
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
    });
    return form;
  }

  private item(c: CommentInfo): HTMLElement {
    const mine = c.author_id === this.actions.me;
    const when = c.version === 0 ? "sending…" : ago(c.created_at) + (c.edited_at ? " · edited" : "");
    const li = h(
      "li",
      { class: "comment-item" },
      h("div", { class: "comment-meta" }, h("strong", {}, c.author_name), h("span", { class: "comment-when" }, when)),
    );
    if (this.editing === c.id) {
      const key = `edit-${c.id}`;
      const area = growing("Edit your comment", this.drafts.get(key) ?? c.body, (v) => this.drafts.set(key, v));
      area.dataset.key = key;
      const save = h("button", { type: "submit", class: "primary" }, "Save");
      const cancel = h("button", { type: "button" }, "Cancel");
      const form = h(
        "form",
        { class: "comment-form", "aria-label": "Edit comment" },
        area,
        h("div", { class: "comment-actions" }, cancel, save),
      );
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        if (!area.value.trim()) return area.focus();
        this.editing = null;
        this.drafts.delete(key);
        this.actions.edit(c.id, area.value);
      });
      cancel.addEventListener("click", () => {
        this.editing = null;
        this.drafts.delete(key);
        this.draw();
      });
      li.append(form);
      queueMicrotask(() => area.focus());
      return li;
    }
    li.append(h("p", { class: "comment-body" }, c.body));
    if (mine && c.version > 0 && this.actions.canComment()) {
      const edit = h(
        "button",
        { type: "button", class: "icon-only", "aria-label": "Edit comment", "data-key": `e-${c.id}` },
        icon(Pencil, undefined, 16),
      );
      const del = h(
        "button",
        { type: "button", class: "icon-only", "aria-label": "Delete comment", "data-key": `d-${c.id}` },
        icon(Trash2, undefined, 16),
      );
      edit.addEventListener("click", () => {
        this.editing = c.id;
        this.draw();
      });
      del.addEventListener("click", () => this.actions.remove(c.id));
      li.append(h("div", { class: "comment-own" }, edit, del));
    }
    return li;
  }
}
