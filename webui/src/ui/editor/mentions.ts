/**
 * The `@` mention popup: typing `@` and a few letters lists the document's collaborators from
 * `GET /documents/{id}/mentions/suggest`; choosing one replaces `@query` by `@Name ` (an
 * ordinary local edit) and records the choice with `POST .../mentions/select`. Until the server
 * has those routes (404) the popup lists the collaborators from `GET .../collaborators`.
 *
 * The popup is a ViewPlugin (one per editor, destroyed with it) that looks at the text before the
 * caret after every local edit or caret move; its keys (arrows, Enter, Tab, Escape) come first
 * while it is open.
 */
import { Facet, type Extension } from "@codemirror/state";
import { EditorView, ViewPlugin, type PluginValue, type ViewUpdate } from "@codemirror/view";
import { ApiError, type Api } from "../../api";
import { h, newId } from "../dom";
import { hasLocalEdit, isClosing, syncedLive } from "./state";

const MENTION_RE = /@([\p{L}\p{N}_.'-]{0,40})$/u;

export class MentionPopup implements PluginValue {
  private box: HTMLUListElement;
  private items: string[] = [];
  private active = 0;
  private open = false;
  private from = 0;
  private to = 0;
  private query = "";
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;
  private closed = false;
  private serverSide = true;
  private names: string[] | null = null;
  private readonly listId = newId("mentions");

  constructor(
    private readonly view: EditorView,
    private readonly api: Api,
    private readonly docId: string,
  ) {
    this.box = h("ul", {
      id: this.listId,
      class: "mention-popup",
      role: "listbox",
      "aria-label": "Mention someone",
      hidden: true,
    });
    document.body.append(this.box);
  }

  update(u: ViewUpdate): void {
    if (isClosing(u)) this.destroy();
  }

  destroy(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.box.remove();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Look at the text before the caret after every local change or caret move. */
  refresh(): void {
    if (this.closed) return;
    const state = this.view.state;
    const sel = state.selection.main;
    if (!sel.empty || state.readOnly) return this.close();
    const line = state.doc.lineAt(sel.head);
    const before = state.sliceDoc(Math.max(line.from, sel.head - 42), sel.head);
    const m = MENTION_RE.exec(before);
    if (!m) return this.close();
    const start = sel.head - m[0].length;
    const prev = start > line.from ? state.sliceDoc(start - 1, start) : " ";
    if (/[\p{L}\p{N}_]/u.test(prev)) return this.close(); // an email address, not a mention
    this.from = start;
    this.to = sel.head;
    if (this.open && m[1] === this.query) return this.place();
    this.query = m[1]!;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetch(), 100);
  }

  private async fetch(): Promise<void> {
    const mine = ++this.seq;
    const q = this.query;
    let words: string[] = [];
    if (this.serverSide) {
      try {
        words = (await this.api.suggestMentions(this.docId, q)).map((s) => s.word);
      } catch (exc) {
        if (exc instanceof ApiError && exc.status === 404) this.serverSide = false;
      }
    }
    if (!this.serverSide) {
      if (this.names === null) {
        try {
          this.names = (await this.api.collaborators(this.docId)).filter((c) => c.user_id !== null).map((c) => c.name);
        } catch {
          this.names = [];
        }
      }
      const needle = q.toLocaleLowerCase();
      words = this.names.filter((n) => n.toLocaleLowerCase().startsWith(needle)).slice(0, 8);
    }
    if (mine !== this.seq) return;
    this.items = words;
    this.active = 0;
    if (!words.length) return this.close();
    this.open = true;
    this.render();
  }

  private render(): void {
    this.box.replaceChildren();
    this.items.forEach((word, i) => {
      const li = h(
        "li",
        { id: `${this.listId}-${i}`, role: "option", "aria-selected": i === this.active ? "true" : "false" },
        `@${word}`,
      );
      li.addEventListener("mousedown", (ev) => {
        ev.preventDefault();
        this.choose(i);
      });
      this.box.append(li);
    });
    this.box.hidden = false;
    this.view.contentDOM.setAttribute("aria-controls", this.listId);
    this.view.contentDOM.setAttribute("aria-activedescendant", `${this.listId}-${this.active}`);
    this.place();
  }

  private place(): void {
    const coords = this.view.coordsAtPos(this.to);
    if (!coords) return;
    this.box.style.left = `${coords.left + window.scrollX}px`;
    this.box.style.top = `${coords.bottom + window.scrollY + 4}px`;
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.seq++;
    if (!this.open) return;
    this.open = false;
    this.box.hidden = true;
    this.view.contentDOM.removeAttribute("aria-activedescendant");
    this.view.contentDOM.removeAttribute("aria-controls");
  }

  /** Keyboard handling while open; returns true when the key was used. */
  key(key: string): boolean {
    if (!this.open) return false;
    if (key === "ArrowDown" || key === "ArrowUp") {
      this.active = (this.active + (key === "ArrowDown" ? 1 : -1) + this.items.length) % this.items.length;
      this.render();
      return true;
    }
    if (key === "Enter" || key === "Tab") {
      this.choose(this.active);
      return true;
    }
    if (key === "Escape") {
      this.close();
      return true;
    }
    return false;
  }

  private choose(i: number): void {
    const word = this.items[i];
    if (word === undefined) return;
    const insert = `@${word} `;
    const at = this.from;
    this.view.dispatch({
      changes: { from: this.from, to: this.to, insert },
      selection: { anchor: this.from + insert.length },
      userEvent: "input.complete",
    });
    this.close();
    this.view.focus();
    this.api.selectMention(this.docId, word, at).catch(() => undefined); // (also notifies them)
  }
}

/** Where the popup asks: the API and the document (one per editor). */
const mentionSource = Facet.define<{ api: Api; docId: string }, { api: Api; docId: string } | null>({
  combine: (values) => values[0] ?? null,
});

const popupPlugin = ViewPlugin.define((view) => {
  const source = view.state.facet(mentionSource);
  if (!source) throw new Error("mentions() is missing from the editor's extensions");
  return new MentionPopup(view, source.api, source.docId);
});

/** The mention popup of an editor: lists the document's people after `@`. */
export function mentions(api: Api, docId: string): Extension {
  return [
    mentionSource.of({ api, docId }),
    popupPlugin,
    EditorView.updateListener.of((u) => {
      if (syncedLive(u) && (hasLocalEdit(u) || u.selectionSet)) u.view.plugin(popupPlugin)?.refresh();
    }),
  ];
}

/** A key for the popup; true when it used it (only while open). */
export function mentionKey(view: EditorView, key: string): boolean {
  return view.plugin(popupPlugin)?.key(key) ?? false;
}

export function mentionOpen(view: EditorView): boolean {
  return view.plugin(popupPlugin)?.isOpen ?? false;
}
