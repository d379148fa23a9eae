/**
 * Comments anchored to the text: the editor page's one entry point (`CommentsFeature`).
 *
 * Select text, then Comment (the panel's button, or Ctrl+Alt+M): the comment is anchored to the
 * CRDT ids of the first and last selected characters, so its highlight and its card follow those
 * words while anyone edits (engine/anchors.ts). Frames go through the live document's socket
 * (docs/protocol.md §5.4) and wait in the outbox (book.ts) while offline. Owners, editors and
 * commenters write comments; viewers and guests read them.
 */
import { MessageSquare } from "lucide";
import { keymap } from "@codemirror/view";
import { Prec, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import type { Api } from "../../api";
import { parseId, resolveAnchor, wireId } from "../../engine";
import type { CommentFrame } from "../../protocol/messages";
import { confirmDialog, h, toast } from "../dom";
import { icon } from "../icons";
import { liveOf, roleOf } from "../editor/state";
import { CommentBook, newCommentId, type CommentEvent } from "./book";
import { commentMarks, setMarks, threadAt, type Mark } from "./highlights";
import { CommentsPanel, type PlacedThread } from "./panel";

/** Where comments.css turns the margin into a bottom sheet. */
const SHEET = "(max-width: 760px)";
const WRITERS = new Set(["owner", "editor", "commenter"]);

export class CommentsFeature {
  readonly button: HTMLButtonElement;
  private readonly count = h("span", { class: "comment-count", hidden: true });
  private readonly countWords = h("span", { class: "visually-hidden" });
  private readonly book: CommentBook;
  private readonly panel: CommentsPanel;
  private view: EditorView | null = null;
  private open = false;
  /** The person closed the margin: it no longer opens by itself when comments arrive. */
  private closedByHand = false;
  private draft: { start: string; end: string; quote: string } | null = null;
  private active: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private people: Promise<{ id: string; name: string }[]> | null = null;

  constructor(
    private readonly api: Api,
    private readonly host: HTMLElement,
    me: { id: string; name: string },
    private readonly docId: string,
    private readonly guest: boolean,
  ) {
    this.book = new CommentBook(me, docId, (refused) => {
      if (refused) toast(refused, "error");
      this.refresh();
    });
    this.button = h(
      "button",
      { type: "button", class: "icon-only comments-button", "aria-pressed": "false", title: "Comments" },
      icon(MessageSquare),
      h("span", { class: "visually-hidden" }, "Comments "),
      this.count,
      this.countWords,
    );
    this.button.addEventListener("click", () => this.toggle());
    this.panel = new CommentsPanel({
      me: me.id,
      canComment: () => this.canComment(),
      add: (body) => this.add(body),
      cancelAdd: () => {
        this.draft = null;
        this.view?.focus();
      },
      reply: (thread, body) => void this.send({ type: "comment_reply", id: newCommentId(), thread, body }),
      edit: (id, body) => void this.send({ type: "comment_edit", id, body }),
      remove: (id) => void this.remove(id),
      resolve: (id, resolved) => void this.send({ type: "comment_resolve", id, resolved }),
      select: (id) => this.reveal(id),
      newComment: () => this.start(),
      close: () => {
        this.closedByHand = true;
        this.setOpen(false);
      },
    });
  }

  /** The editor's part: the highlights, the shortcut, clicks on highlighted text. */
  extension(): Extension {
    return [
      commentMarks(),
      Prec.high(keymap.of([{ key: "Ctrl-Alt-m", run: () => (this.start(), true) }])),
      EditorView.updateListener.of((u) => {
        this.view = u.view;
        if (u.docChanged) this.schedule();
        if (u.selectionSet && !u.docChanged) {
          const id = threadAt(u.view, u.state.selection.main.head);
          if (id !== this.active && (id || this.active)) {
            this.active = id;
            this.panel.setActive(id);
            if (id && !this.open && !matchMedia(SHEET).matches) this.setOpen(true);
            this.schedule();
          }
        }
      }),
    ];
  }

  attach(view: EditorView): void {
    this.view = view;
  }

  /** A comment frame arrived (live.ts); after the list, the outbox is (re-)sent. */
  receive(frame: CommentEvent): void {
    this.book.receive(frame);
    // On a wide screen the margin shows as soon as there is something in it (a phone's sheet
    // would cover the text: it opens only when asked).
    if (!this.open && !this.closedByHand && !matchMedia(SHEET).matches && this.book.threads().length)
      this.setOpen(true, false);
    if (frame.type === "comments") {
      this.flush();
    } else if (frame.type === "error" && frame.code === "rate_limited" && this.retry === null) {
      this.retry = setTimeout(() => {
        this.retry = null;
        this.flush();
      }, 2000);
    }
  }

  private flush(): void {
    const live = this.view ? liveOf(this.view.state) : null;
    if (!live) return;
    for (const frame of this.book.toSend()) if (!live.sendComment(frame)) break;
  }

  private canComment(): boolean {
    if (this.guest || !this.view) return false;
    const role = roleOf(this.view.state);
    return role !== null && WRITERS.has(role);
  }

  private async send(frame: CommentFrame): Promise<void> {
    if (frame.type === "comment_add" || frame.type === "comment_reply" || frame.type === "comment_edit") {
      const mentions = await this.mentions(frame.body);
      if (mentions.length) frame = { ...frame, mentions };
    }
    this.book.queue(frame);
    const live = this.view ? liveOf(this.view.state) : null;
    live?.sendComment(frame);
  }

  /** The people @mentioned by name in `body` (the server keeps those with access). */
  private async mentions(body: string): Promise<string[]> {
    if (!body.includes("@")) return [];
    this.people ??= this.api
      .collaborators(this.docId)
      .then((list) => list.flatMap((c) => (c.user_id !== null && !c.pending ? [{ id: c.user_id, name: c.name }] : [])))
      .catch(() => []);
    const lower = body.toLowerCase();
    return (await this.people).filter((p) => p.name && lower.includes(`@${p.name.toLowerCase()}`)).map((p) => p.id);
  }

  /** Comment on the selection: open the composer (or say what to do first). */
  start(): void {
    const view = this.view;
    const live = view ? liveOf(view.state) : null;
    if (!view || !live) return;
    if (!this.canComment()) {
      toast(this.guest ? "Sign in to comment." : "You can read comments on this document but not write them.");
      return;
    }
    const sel = view.state.selection.main;
    const doc = live.session.doc;
    const from = doc.fromUtf16(sel.from);
    const to = doc.fromUtf16(sel.to);
    if (to <= from) {
      toast("Select the text you want to comment on first.");
      return;
    }
    const first = doc.idAt(from);
    const last = doc.idAt(to - 1);
    const quote = view.state.sliceDoc(sel.from, sel.to).slice(0, 200);
    this.draft = { start: wireId(first.replica, first.counter), end: wireId(last.replica, last.counter), quote };
    this.setOpen(true, false);
    this.panel.compose(quote.length > 120 ? `${quote.slice(0, 120)}…` : quote);
  }

  private add(body: string): void {
    const draft = this.draft;
    if (!draft) return;
    this.draft = null;
    const id = newCommentId();
    this.active = id;
    void this.send({ type: "comment_add", id, body, start: draft.start, end: draft.end, quote: draft.quote });
  }

  private async remove(id: string): Promise<void> {
    const isThread = this.book.threads().some((t) => t.root.id === id && t.replies.length > 0);
    const ok = await confirmDialog(
      "Delete comment?",
      isThread ? "This deletes the comment and its replies." : "This deletes your comment.",
      "Delete",
      true,
    );
    if (ok) await this.send({ type: "comment_delete", id });
  }

  private reveal(id: string): void {
    const view = this.view;
    const thread = this.place().find((t) => t.root.id === id);
    if (!view || !thread || thread.deleted) return;
    const live = liveOf(view.state);
    const span = live ? this.span(live, thread.root.anchor_start, thread.root.anchor_end) : null;
    if (!span) return;
    view.dispatch({ selection: { anchor: span.from, head: span.to }, scrollIntoView: true });
    this.active = id;
    this.panel.setActive(id);
    if (matchMedia(SHEET).matches) this.setOpen(false);
    view.focus();
  }

  private span(
    live: NonNullable<ReturnType<typeof liveOf>>,
    start: string,
    end: string,
  ): { from: number; to: number; at: number; deleted: boolean } | null {
    try {
      const doc = live.session.doc;
      const s = resolveAnchor(doc, parseId(start), parseId(end));
      if (!s) return null;
      return { from: doc.toUtf16(s.start), to: doc.toUtf16(s.end), at: s.start, deleted: s.deleted };
    } catch {
      return null;
    }
  }

  private place(): PlacedThread[] {
    const live = this.view ? liveOf(this.view.state) : null;
    return this.book.threads().map((t) => {
      const span = live ? this.span(live, t.root.anchor_start, t.root.anchor_end) : null;
      return {
        ...t,
        at: span?.at ?? Number.MAX_SAFE_INTEGER,
        deleted: span?.deleted ?? false,
        pending: this.book.pending(t.root.id),
      };
    });
  }

  /** Re-resolve the anchors once the edits settle. */
  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, 120);
  }

  /** Redraw (the role changed: who may write comments). */
  update(): void {
    this.refresh();
  }

  private refresh(): void {
    const placed = this.place();
    const open = placed.filter((t) => !t.root.resolved);
    this.count.textContent = String(open.length);
    this.count.hidden = open.length === 0;
    this.countWords.textContent = open.length ? " open" : "";
    this.panel.render(placed);
    const view = this.view;
    const live = view ? liveOf(view.state) : null;
    if (!view || !live) return;
    const marks: Mark[] = [];
    for (const t of open) {
      const span = this.span(live, t.root.anchor_start, t.root.anchor_end);
      if (span && !span.deleted)
        marks.push({ from: span.from, to: span.to, id: t.root.id, active: t.root.id === this.active });
    }
    view.dispatch({ effects: setMarks.of(marks) });
  }

  toggle(): void {
    this.closedByHand = this.open;
    this.setOpen(!this.open);
  }

  private setOpen(on: boolean, focus = true): void {
    this.open = on;
    this.button.setAttribute("aria-pressed", String(on));
    if (on && !this.panel.element.isConnected) this.host.append(this.panel.element);
    if (!on) this.panel.element.remove();
    if (on && focus) this.panel.focusHeading();
    if (!on && matchMedia(SHEET).matches) this.view?.focus();
  }

  destroy(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.retry !== null) clearTimeout(this.retry);
  }
}
