/**
 * What a writer expects of the text box: find and replace, a word count, and spell checking.
 *
 * - Find and replace is CodeMirror's own panel (@codemirror/search: regex, match case, whole
 *   word, replace, replace all), loaded on the first Ctrl/Cmd+F so the first screen stays small.
 *   "Replace all" is one CodeMirror transaction, so the binding sends it as one edit and
 *   collaborators get every replacement at once (and one undo takes it back).
 * - The count of words and characters, of the selection when there is one, sits in the status
 *   bar under the text. Counting a long document is a pass over its text, so it waits until
 *   typing pauses (a few hundred milliseconds) instead of running on every keystroke.
 * - The browser's spell checker is on for the text (`spellcheck`); CodeMirror leaves it off.
 */
import { Compartment, type EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap, ViewPlugin, type ViewUpdate } from "@codemirror/view";
import { h } from "../dom";

const searchSlot = new Compartment();
let loading: Promise<void> | null = null;

/** Load @codemirror/search into this editor (once) and open its panel. */
async function openFind(view: EditorView, replace: boolean): Promise<void> {
  const search = await import("@codemirror/search");
  if (!searchSlot.get(view.state) || (searchSlot.get(view.state) as Extension[]).length === 0) {
    view.dispatch({
      effects: searchSlot.reconfigure([search.search({ top: true }), keymap.of(search.searchKeymap)]),
    });
  }
  search.openSearchPanel(view);
  if (replace) view.dom.querySelector<HTMLInputElement>(".cm-search input[name=replace]")?.focus();
}

function findKey(replace: boolean) {
  return (view: EditorView): boolean => {
    if (view.dom.querySelector(".cm-search")) return false; // loaded: its own keymap answers
    loading ??= openFind(view, replace).finally(() => (loading = null));
    return true;
  };
}

/** A word: letters and digits, joined by an apostrophe, hyphen or dot (it’s, well-known, e.g,
 * 3.14), or a comma between digits (1,000). */
const WORD = /[\p{L}\p{N}]+(?:['’\-.][\p{L}\p{N}]+|(?<=\p{N}),\p{N}+)*/gu;

export function countWords(text: string): number {
  let n = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text)) n += 1;
  return n;
}

/** Characters as people count them: code points, not UTF-16 units. */
export function countChars(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

const number = new Intl.NumberFormat();
const plural = (n: number, word: string): string => `${number.format(n)} ${word}${n === 1 ? "" : "s"}`;

/** The status bar's count: "1,234 words · 7,890 characters", or the selection's. */
export class WordCount {
  readonly element = h("p", { class: "word-count", "aria-live": "off" });
  private timer: ReturnType<typeof setTimeout> | null = null;

  show(state: EditorState): void {
    const sel = state.selection.ranges.filter((r) => !r.empty);
    if (sel.length) {
      const text = sel.map((r) => state.sliceDoc(r.from, r.to)).join("\n");
      this.element.textContent = `${plural(countWords(text), "word")}, ${plural(countChars(text), "character")} selected`;
      return;
    }
    const text = state.doc.toString();
    this.element.textContent = `${plural(countWords(text), "word")} · ${plural(countChars(text), "character")}`;
  }

  /** After an update: soon for the selection, after a pause for the whole text. */
  schedule(state: EditorState, now: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (now) this.show(state);
    else this.timer = setTimeout(() => this.show(state), 300);
  }
}

export function writingTools(count: WordCount): Extension {
  return [
    searchSlot.of([]),
    keymap.of([
      { key: "Mod-f", run: findKey(false) },
      { key: "Mod-h", run: findKey(true) },
    ]),
    EditorView.contentAttributes.of({ spellcheck: "true", autocorrect: "on", autocapitalize: "sentences" }),
    ViewPlugin.define((view) => {
      count.show(view.state);
      return {
        update(u: ViewUpdate) {
          if (!u.docChanged && !u.selectionSet) return;
          const selected = u.state.selection.ranges.some((r) => !r.empty);
          count.schedule(u.state, selected || u.state.doc.length < 20_000);
        },
      };
    }),
  ];
}
