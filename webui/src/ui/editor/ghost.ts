/**
 * Ghost text: after a pause in typing at the end of a word, the server's most likely completion
 * of that word is shown greyed after the caret; Tab accepts it (an ordinary local edit), Escape,
 * typing or moving the caret dismisses it.
 *
 * The suggestion is a StateField (so it is dropped by any change or caret move, and drawn as a
 * widget); the fetching (debounce, stale replies, the route missing or rate-limited) belongs to a
 * ViewPlugin.
 */
import { StateEffect, StateField, type EditorState, type Extension } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, WidgetType, type PluginValue, type ViewUpdate } from "@codemirror/view";
import { ApiError, type Suggestion } from "../../api";
import { canEdit, hasLocalEdit, isClosing, remoteEdit, syncedLive } from "./state";

const WORD_BEFORE = /[\p{L}\p{N}_]{2,}$/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
/** Quiet time after a keystroke before asking the server. */
const DELAY = 150;
/** How long to stop asking after the server said "too many requests". */
const PAUSE_AFTER_429 = 30_000;

export interface Ghost {
  pos: number;
  text: string;
}

export const setGhost = StateEffect.define<Ghost | null>();

class GhostWidget extends WidgetType {
  constructor(readonly text: string) {
    super();
  }
  override eq(other: GhostWidget): boolean {
    return other.text === this.text;
  }
  toDOM(): HTMLElement {
    const span = document.createElement("span");
    span.className = "cm-ghost";
    span.textContent = this.text;
    span.setAttribute("aria-hidden", "true");
    return span;
  }
  override ignoreEvent(): boolean {
    return true;
  }
}

export const ghostField = StateField.define<Ghost | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setGhost)) return e.value;
    if (value && (tr.docChanged || tr.selection)) return null;
    return value;
  },
  provide: (f) =>
    EditorView.decorations.from(f, (g) =>
      g
        ? Decoration.set([Decoration.widget({ widget: new GhostWidget(g.text), side: 1 }).range(g.pos)])
        : Decoration.none,
    ),
});

/** Accept the ghost text at the caret (an ordinary local edit). */
export function acceptGhost(view: EditorView): boolean {
  const g = view.state.field(ghostField, false);
  if (!g) return false;
  const head = view.state.selection.main.head;
  if (head !== g.pos) return false;
  view.dispatch({
    changes: { from: g.pos, insert: g.text },
    selection: { anchor: g.pos + g.text.length },
    effects: setGhost.of(null),
    userEvent: "input.complete",
  });
  return true;
}

export function dismissGhost(view: EditorView): boolean {
  if (!view.state.field(ghostField, false)) return false;
  view.dispatch({ effects: setGhost.of(null) });
  return true;
}

export interface GhostConfig {
  /** The server's completions of `prefix`, most likely first. */
  suggest(prefix: string): Promise<Suggestion[]>;
  /** True while something else owns the caret's surroundings (the mention popup). */
  blocked(view: EditorView): boolean;
}

/** The word being typed at the caret, when the caret is at its end; else null. */
function wordAtCaret(state: EditorState): string | null {
  const sel = state.selection.main;
  if (!sel.empty) return null;
  const pos = sel.head;
  const line = state.doc.lineAt(pos);
  const after = state.sliceDoc(pos, Math.min(line.to, pos + 2));
  if (after && WORD_CHAR.test(Array.from(after)[0]!)) return null;
  const m = WORD_BEFORE.exec(state.sliceDoc(Math.max(line.from, pos - 60), pos));
  return m ? m[0] : null;
}

class GhostFetcher implements PluginValue {
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by every keystroke: a reply to an older request is dropped. */
  private seq = 0;
  /** False once the server turned out not to have the route. */
  private enabled = true;
  private pausedUntil = 0;
  private closed = false;

  constructor(
    private readonly view: EditorView,
    private readonly config: GhostConfig,
  ) {}

  update(u: ViewUpdate): void {
    if (isClosing(u)) this.destroy();
  }

  /** Called after every update (from an update listener). */
  afterUpdate(u: ViewUpdate): void {
    if (this.closed || !syncedLive(u) || !(hasLocalEdit(u) || u.selectionSet)) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.seq++;
    if (!this.enabled || !canEdit(this.view.state) || Date.now() < this.pausedUntil) return;
    const typed = u.transactions.some(
      (tr) => tr.docChanged && !tr.annotation(remoteEdit) && tr.isUserEvent("input.type"),
    );
    if (typed) this.timer = setTimeout(() => void this.fetch(), DELAY);
  }

  private async fetch(): Promise<void> {
    this.timer = null;
    const mine = ++this.seq;
    const state = this.view.state;
    if (!state.selection.main.empty || this.config.blocked(this.view)) return;
    const prefix = wordAtCaret(state);
    if (prefix === null) return;
    const pos = state.selection.main.head;
    let words: Suggestion[];
    try {
      words = await this.config.suggest(prefix);
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 404) this.enabled = false; // route not there yet
      if (exc instanceof ApiError && exc.status === 429) this.pausedUntil = Date.now() + PAUSE_AFTER_429;
      return;
    }
    const now = this.view.state;
    if (mine !== this.seq || now.doc !== state.doc || now.selection.main.head !== pos) return;
    const lower = prefix.toLocaleLowerCase();
    const best = words.find((w) => w.word.length > prefix.length && w.word.toLocaleLowerCase().startsWith(lower));
    if (!best) return;
    this.view.dispatch({ effects: setGhost.of({ pos, text: best.word.slice(prefix.length) }) });
  }

  destroy(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function ghostText(config: GhostConfig): Extension {
  const fetcher = ViewPlugin.define((view) => new GhostFetcher(view, config));
  return [ghostField, fetcher, EditorView.updateListener.of((u) => u.view.plugin(fetcher)?.afterUpdate(u))];
}
