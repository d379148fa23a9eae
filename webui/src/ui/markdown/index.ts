/**
 * Markdown in the editor, without giving up plain text: a formatting toolbar (commands.ts), the
 * highlighting (language.ts) and a live preview (render.ts). The document is the same plain text
 * the CRDT carries; the toolbar edits it through ordinary transactions and the preview only reads.
 *
 * This module is small and loaded with the editor; the highlighting and the preview's libraries
 * (markdown-it, DOMPurify) are fetched on first use. The preview is side by side on a wide screen
 * and takes the editor's place on a narrow one; whether it is open is remembered per document.
 * It re-renders at most once per animation frame and one render at a time, whoever typed (remote
 * edits too), with the parsing in a worker (render.ts), and follows the editor's scrolling (and
 * the editor follows it) through the blocks' source lines.
 *
 * A preview whose last update took the browser long to lay out (a paragraph of 100,000
 * characters takes 6-25 ms, whatever changed in it) is paced so that it never holds up a
 * keystroke: it waits for a pause in this person's typing (up to `MAX_LATE` ms), and shows
 * collaborators' edits at most every `REMOTE_EVERY` ms.
 */
import { Compartment, type Extension } from "@codemirror/state";
import { EditorView, type ViewUpdate } from "@codemirror/view";
import {
  Bold,
  Code,
  Columns2,
  Heading,
  Italic,
  Link,
  List,
  ListOrdered,
  ListTodo,
  TextQuote,
  type IconNode,
} from "lucide";
import { h } from "../dom";
import { icon } from "../icons";
import { applyFormat, FORMAT_KEYS, formatKeymap, keyLabel, toggleTask, type Format } from "./commands";

type Renderer = typeof import("./render");
type Live = InstanceType<Renderer["PreviewRenderer"]>;

const BUTTONS: { format: Format; label: string; icon: IconNode }[] = [
  { format: "bold", label: "Bold", icon: Bold },
  { format: "italic", label: "Italic", icon: Italic },
  { format: "heading", label: "Heading", icon: Heading },
  { format: "bullet", label: "Bulleted list", icon: List },
  { format: "numbered", label: "Numbered list", icon: ListOrdered },
  { format: "task", label: "Task list", icon: ListTodo },
  { format: "quote", label: "Quote", icon: TextQuote },
  { format: "code", label: "Code", icon: Code },
  { format: "link", label: "Link", icon: Link },
];

/** A preview update whose layout took longer than this (ms) makes the preview paced, until one
 * takes less than `LIGHT_MS` (an in-place patch of a huge paragraph varies around the first). */
const HEAVY_MS = 4;
const LIGHT_MS = 2;
/** Paced: a pause in typing this long (ms) lets the preview update... */
const PAUSE = 200;
/** ...and it is never later than this (ms) behind the text. */
const MAX_LATE = 2000;
/** Paced: collaborators' edits alone update it at most this often (ms). */
const REMOTE_EVERY = 500;

/** Highlighting stays off while a paragraph is longer than this (characters). */
const MAX_PARAGRAPH = 10_000;

const previewKey = (docId: string): string => `docstream.preview.${docId}`;
const NARROW = "(max-width: 760px)";

export class MarkdownTools {
  /** The toolbar above the text: formatting (editors only) and the preview switch (everyone). */
  readonly toolbar: HTMLElement;
  /** The preview pane, placed next to the editor in the page's body. */
  readonly preview: HTMLElement;
  private readonly formats: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly content: HTMLElement;
  private readonly language = new Compartment();
  private support: Extension | null = null;
  private highlighting = false;
  private highlightCheck = 0;
  private view: EditorView | null = null;
  private renderer: Renderer | null = null;
  private live: Live | null = null;
  private loading: Promise<Renderer> | null = null;
  private frame = 0;
  private timer = 0;
  /** The last update's layout was slow: updates are paced (see the module's docstring). */
  private heavy = false;
  /** When this person last edited, when the shown preview fell behind, when it last updated. */
  private typedAt = 0;
  private behindSince = 0;
  private renderedAt = 0;
  /** A render is in progress (the worker is parsing). */
  private busy = false;
  /** Someone may await `rendered`: it resolves once the preview has caught up. */
  private waiting = false;
  private dirty = true;
  private open = false;
  /** Which side moved last (the other one follows), and until when the follower stays quiet. */
  private syncing: { side: "editor" | "preview"; until: number } | null = null;
  private readonly narrow = window.matchMedia(NARROW);
  /** For tests and the benchmark: resolves after the next render. */
  rendered: Promise<void> = Promise.resolve();
  private resolveRendered: () => void = () => undefined;

  constructor(
    private readonly docId: string,
    private readonly body: HTMLElement,
  ) {
    this.formats = h("div", { class: "md-formats", role: "group", "aria-label": "Formatting" });
    for (const b of BUTTONS) {
      const keys = keyLabel(FORMAT_KEYS[b.format]);
      const btn = h(
        "button",
        {
          type: "button",
          class: "icon-only md-button",
          "aria-label": b.label,
          "aria-keyshortcuts": FORMAT_KEYS[b.format].replace(
            "Mod",
            /Mac/.test(navigator.platform) ? "Meta" : "Control",
          ),
          title: `${b.label} (${keys})`,
          "data-format": b.format,
          tabindex: -1,
        },
        icon(b.icon),
      );
      // Keep the editor's selection: the button acts on it without taking the focus.
      btn.addEventListener("mousedown", (ev) => ev.preventDefault());
      btn.addEventListener("click", () => {
        if (this.view && applyFormat(this.view, b.format)) this.view.focus();
      });
      this.formats.append(btn);
    }
    this.toggle = h(
      "button",
      {
        type: "button",
        class: "md-preview-toggle",
        "aria-pressed": "false",
        "aria-controls": `preview-${docId}`,
        tabindex: -1,
        title: "Show the formatted preview",
      },
      icon(Columns2),
      h("span", {}, "Preview"),
    );
    this.toggle.addEventListener("click", () => this.setOpen(!this.open));
    this.toolbar = h(
      "div",
      { class: "md-toolbar", role: "toolbar", "aria-label": "Markdown", "aria-orientation": "horizontal" },
      this.formats,
      this.toggle,
    );
    this.toolbar.addEventListener("keydown", (ev) => this.roving(ev));
    this.content = h("div", { class: "md-content" });
    this.preview = h(
      "section",
      { class: "md-preview", id: `preview-${docId}`, "aria-label": "Preview", tabindex: 0, hidden: true },
      this.content,
    );
    this.preview.addEventListener("click", (ev) => this.clicked(ev));
    this.preview.addEventListener("scroll", () => this.followPreview(), { passive: true });
    this.narrow.addEventListener("change", this.layout);
    this.rove(this.firstEnabled());
  }

  /** The editor's side: highlighting (filled in once loaded), shortcuts, and the update hook. */
  extension(): Extension {
    return [this.language.of([]), formatKeymap(), EditorView.updateListener.of((u) => this.updated(u))];
  }

  /** Called once the view exists: load the highlighting, and open the preview if it was open. */
  attach(view: EditorView): void {
    this.view = view;
    view.scrollDOM.addEventListener("scroll", () => this.followEditor(), { passive: true });
    this.setEditable(!view.state.readOnly);
    void import("./language").then(({ markdownSupport }) => {
      this.support = markdownSupport();
      this.checkHighlighting();
    });
    if (localStorage.getItem(previewKey(this.docId)) === "1") this.setOpen(true, false);
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    clearTimeout(this.highlightCheck);
    this.narrow.removeEventListener("change", this.layout);
    this.live?.close();
    this.view = null;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Whether the preview is paced now (slow to lay out); for tests. */
  get paced(): boolean {
    return this.heavy;
  }

  setOpen(open: boolean, remember = true): void {
    this.open = open;
    this.toggle.setAttribute("aria-pressed", String(open));
    this.toggle.title = open ? "Hide the preview" : "Show the formatted preview";
    this.preview.hidden = !open;
    if (remember) {
      if (open) localStorage.setItem(previewKey(this.docId), "1");
      else localStorage.removeItem(previewKey(this.docId));
    }
    this.layout();
    if (open) this.schedule();
    else if (this.narrow.matches) this.view?.focus();
  }

  private readonly layout = (): void => {
    this.body.classList.toggle("with-preview", this.open);
    this.body.classList.toggle("preview-only", this.open && this.narrow.matches);
    this.view?.requestMeasure();
  };

  /**
   * Highlighting is on unless one paragraph (a run of non-blank lines) is very long: Markdown
   * parses a paragraph as a whole, so a plain-text document written without blank lines would be
   * re-parsed whole at every key. Checked when the text changes, at most once a second.
   */
  private checkHighlighting(): void {
    this.highlightCheck = 0;
    const view = this.view;
    if (!view || !this.support) return;
    let run = 0;
    let longest = 0;
    for (const iter = view.state.doc.iterLines(); !iter.next().done;) {
      run = iter.value.trim() === "" ? 0 : run + iter.value.length + 1;
      if (run > longest) longest = run;
      if (longest > MAX_PARAGRAPH) break;
    }
    const want = longest <= MAX_PARAGRAPH;
    if (want === this.highlighting) return;
    this.highlighting = want;
    view.dispatch({ effects: this.language.reconfigure(want ? this.support : []) });
  }

  private updated(u: ViewUpdate): void {
    if (u.docChanged && this.support && !this.highlightCheck)
      this.highlightCheck = window.setTimeout(() => this.checkHighlighting(), 1000);
    if (u.docChanged) {
      if (!this.dirty) this.behindSince = performance.now();
      if (u.transactions.some((tr) => tr.isUserEvent("input") || tr.isUserEvent("delete")))
        this.typedAt = performance.now();
      this.dirty = true;
      if (this.open) this.schedule();
    }
    if (u.startState.readOnly !== u.state.readOnly) this.setEditable(!u.state.readOnly);
  }

  /** Viewers (and a closed connection) get no formatting buttons and no clickable checkboxes. */
  private setEditable(editable: boolean): void {
    this.formats.hidden = !editable;
    for (const box of this.content.querySelectorAll<HTMLInputElement>("input.task-box")) box.disabled = !editable;
    this.rove(this.firstEnabled());
  }

  /** One render per animation frame at most, and one at a time, however many edits arrived. */
  private schedule(): void {
    if (this.frame || this.timer || this.busy) return; // a render in progress schedules the next
    if (!this.dirty && this.content.childElementCount) return;
    if (!this.waiting) this.rendered = new Promise((resolve) => (this.resolveRendered = resolve));
    this.waiting = true;
    const wait = this.heavy ? this.pace(performance.now()) : 0;
    if (wait > 0)
      this.timer = window.setTimeout(() => {
        this.timer = 0;
        this.schedule();
      }, wait);
    else this.frame = requestAnimationFrame(() => void this.render());
  }

  /** How long a paced preview waits before updating (0: now). */
  private pace(now: number): number {
    const late = this.behindSince + MAX_LATE - now;
    if (late <= 0) return 0;
    const pause = this.typedAt + PAUSE - now;
    const remote = this.renderedAt + REMOTE_EVERY - now;
    return Math.min(late, Math.max(pause, remote, 0));
  }

  /** Whoever awaits `rendered` sees the preview caught up with the text. */
  private caughtUp(): void {
    this.waiting = false;
    this.resolveRendered();
  }

  private load(): Promise<Renderer> {
    this.loading ??= import("./render").then((r) => (this.renderer = r));
    return this.loading;
  }

  private async render(): Promise<void> {
    const renderer = this.renderer ?? (await this.load());
    this.frame = 0;
    const view = this.view;
    if (!view || !this.open) return this.caughtUp();
    this.dirty = false;
    this.live ??= new renderer.PreviewRenderer(this.content);
    this.busy = true;
    try {
      await this.live.update(view.state.doc.toString());
      // The browser lays the change out now rather than in the next frame; timed, it says
      // whether the next updates should be paced.
      const start = performance.now();
      void this.content.offsetHeight;
      this.renderedAt = performance.now();
      const took = this.renderedAt - start;
      this.heavy = took > (this.heavy ? LIGHT_MS : HEAVY_MS);
    } finally {
      this.busy = false;
    }
    if (view.state.readOnly)
      for (const box of this.content.querySelectorAll<HTMLInputElement>("input.task-box")) box.disabled = true;
    if (this.dirty && this.open)
      this.schedule(); // edits arrived meanwhile
    else this.caughtUp();
  }

  /** A task checkbox toggles `[ ]`/`[x]` on its source line (the text is the truth: re-rendered). */
  private clicked(ev: MouseEvent): void {
    const box = ev.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains("task-box")) return;
    ev.preventDefault();
    const block = box.closest<HTMLElement>(".md-block");
    const line = Number(block?.dataset["line"]) + Number(box.dataset["taskLine"]);
    if (this.view && Number.isInteger(line)) toggleTask(this.view, line + 1);
  }

  /** The top-level blocks, in source order, each with its first source line in `data-line`. */
  private blocks(): HTMLElement[] {
    return this.live?.wrappers ?? [];
  }

  private quiet(side: "editor" | "preview"): boolean {
    return this.syncing !== null && this.syncing.side !== side && performance.now() < this.syncing.until;
  }

  /** Where a preview block starts, in the preview's scrolled content. */
  private top(el: HTMLElement): number {
    // A block's wrapper has no box of its own (display: contents): its element has.
    const box = el.firstElementChild ?? el;
    return box.getBoundingClientRect().top - this.content.getBoundingClientRect().top;
  }

  private height(el: HTMLElement): number {
    return (el.firstElementChild ?? el).getBoundingClientRect().height;
  }

  /**
   * The editor scrolled: scroll the preview to the same place, interpolating between the blocks
   * that start at or before the editor's top source line and after it.
   */
  private followEditor(): void {
    const view = this.view;
    if (!view || !this.open || this.narrow.matches || this.quiet("editor")) return;
    const y = Math.max(0, view.scrollDOM.getBoundingClientRect().top - view.documentTop);
    const block = view.lineBlockAtHeight(y);
    const frac = block.height ? Math.min(1, Math.max(0, (y - block.top) / block.height)) : 0;
    const at = view.state.doc.lineAt(block.from).number - 1 + frac; // a fractional source line
    const blocks = this.blocks();
    // The last block starting at or before `at` (blocks come in source order).
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Number(blocks[mid]?.dataset["line"]) <= at) lo = mid + 1;
      else hi = mid;
    }
    const before = blocks[lo - 1];
    const after = blocks[lo];
    const fromLine = before ? Number(before.dataset["line"]) : 0;
    const toLine = after ? Number(after.dataset["line"]) : view.state.doc.lines;
    const fromY = before ? this.top(before) : 0;
    const toY = after ? this.top(after) : this.content.scrollHeight;
    const share = toLine > fromLine ? (at - fromLine) / (toLine - fromLine) : 0;
    this.syncing = { side: "editor", until: performance.now() + 150 };
    this.preview.scrollTop = fromY + (toY - fromY) * share;
  }

  /** The preview scrolled: bring the source line of its top block to the editor's top. */
  private followPreview(): void {
    const view = this.view;
    if (!view || this.narrow.matches || this.quiet("preview")) return;
    const top = this.preview.scrollTop;
    const blocks = this.blocks();
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = blocks[mid];
      if (b && this.top(b) + this.height(b) <= top) lo = mid + 1;
      else hi = mid;
    }
    const first = blocks[lo];
    if (!first) return;
    const line = Math.min(Number(first.dataset["line"]) + 1, view.state.doc.lines);
    this.syncing = { side: "preview", until: performance.now() + 150 };
    view.dispatch({ effects: EditorView.scrollIntoView(view.state.doc.line(line).from, { y: "start" }) });
  }

  // The toolbar is one tab stop; the arrow keys, Home and End move inside it (WAI-ARIA toolbar).
  private buttons(): HTMLButtonElement[] {
    return [...this.toolbar.querySelectorAll<HTMLButtonElement>("button")].filter((b) => !b.closest("[hidden]"));
  }

  private firstEnabled(): HTMLButtonElement {
    return this.buttons()[0] ?? this.toggle;
  }

  private rove(to: HTMLButtonElement): void {
    for (const b of this.toolbar.querySelectorAll("button")) b.tabIndex = b === to ? 0 : -1;
  }

  private roving(ev: KeyboardEvent): void {
    const list = this.buttons();
    const at = list.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const next =
      ev.key === "ArrowRight"
        ? (at + 1) % list.length
        : ev.key === "ArrowLeft"
          ? (at - 1 + list.length) % list.length
          : ev.key === "Home"
            ? 0
            : ev.key === "End"
              ? list.length - 1
              : -1;
    const to = list[next];
    if (!to) return;
    ev.preventDefault();
    this.rove(to);
    to.focus();
  }
}
