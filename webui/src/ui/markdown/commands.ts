/**
 * Markdown formatting commands: each edits the plain text (adds or removes `**`, `# `, `- `…)
 * through one ordinary CodeMirror transaction, so the CRDT binding sends it like typing and undo
 * takes it back in one step. The document stays plain text; nothing here knows about the preview.
 *
 * Inline marks (bold, italic, code) wrap the selection, or unwrap it when it is already wrapped;
 * with an empty selection they insert the pair and put the caret between. Line marks (heading,
 * lists, quote) toggle a prefix on every selected line. A link wraps the selection as `[text](url)`
 * and selects `url` to type over.
 */
import { EditorSelection, Prec, type ChangeSpec, type EditorState, type Extension } from "@codemirror/state";
import { keymap, type EditorView } from "@codemirror/view";

export type Format = "bold" | "italic" | "code" | "heading" | "bullet" | "numbered" | "quote" | "link" | "task";

const MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

/** The keys of each command (CodeMirror's notation), also shown in the toolbar's tooltips. */
export const FORMAT_KEYS: Record<Format, string> = {
  bold: "Mod-b",
  italic: "Mod-i",
  code: "Mod-e",
  heading: "Mod-Alt-1",
  bullet: "Mod-Shift-8",
  numbered: "Mod-Shift-7",
  quote: "Mod-Shift-9",
  link: "Mod-Shift-l",
  task: "Mod-Shift-x",
};

/** "Mod-Shift-8" as the person reads it: "Ctrl+Shift+8" or "⌘+Shift+8". */
export function keyLabel(key: string): string {
  return key
    .split("-")
    .map((k) =>
      k === "Mod" ? (MAC ? "⌘" : "Ctrl") : k === "Alt" && MAC ? "Option" : k.length === 1 ? k.toUpperCase() : k,
    )
    .join("+");
}

/** How many `mark` characters touch the selection on that side (at most 3). */
function run(text: string, mark: string, before: boolean): number {
  const ch = mark[0] ?? "";
  let count = 0;
  const chars = before ? [...text].reverse() : [...text];
  for (const c of chars) {
    if (c !== ch) break;
    count += 1;
  }
  return count;
}

/**
 * Is the selection wrapped in this mark? `*` (italic) needs an odd run: `**word**` is bold, not
 * italic, while `***word***` is both; `**` needs a run of two or more.
 */
function wrapped(count: number, mark: string): boolean {
  return mark === "*" ? count % 2 === 1 : count >= mark.length;
}

function wrapInline(state: EditorState, mark: string): ReturnType<EditorState["changeByRange"]> {
  const n = mark.length;
  return state.changeByRange((range) => {
    const inside = state.sliceDoc(range.from, range.to);
    if (
      wrapped(run(state.sliceDoc(Math.max(0, range.from - 3), range.from), mark, true), mark) &&
      wrapped(run(state.sliceDoc(range.to, range.to + 3), mark, false), mark)
    ) {
      // Already wrapped around the selection: unwrap.
      return {
        changes: [
          { from: range.from - n, to: range.from },
          { from: range.to, to: range.to + n },
        ],
        range: EditorSelection.range(range.from - n, range.to - n),
      };
    }
    if (inside.length >= 2 * n && inside.startsWith(mark) && inside.endsWith(mark)) {
      // The selection includes the marks: unwrap.
      return {
        changes: [
          { from: range.from, to: range.from + n },
          { from: range.to - n, to: range.to },
        ],
        range: EditorSelection.range(range.from, range.to - 2 * n),
      };
    }
    return {
      changes: [
        { from: range.from, insert: mark },
        { from: range.to, insert: mark },
      ],
      range: EditorSelection.range(range.from + n, range.to + n),
    };
  });
}

const LINE_PREFIX: Record<"heading" | "bullet" | "numbered" | "quote" | "task", RegExp> = {
  heading: /^#{1,6} /,
  bullet: /^[-*+] (?!\[[ xX]\] )/,
  numbered: /^\d{1,9}[.)] /,
  quote: /^> ?/,
  task: /^[-*+] \[[ xX]\] /,
};

/** Any list or heading marker a line may already carry (replaced when switching kinds). */
const ANY_BLOCK = /^(#{1,6} |[-*+] \[[ xX]\] |[-*+] |\d{1,9}[.)] )/;

function togglePrefix(state: EditorState, kind: keyof typeof LINE_PREFIX): ChangeSpec[] {
  const lines = new Set<number>();
  for (const r of state.selection.ranges) {
    const first = state.doc.lineAt(r.from).number;
    const last = state.doc.lineAt(r.to).number;
    for (let n = first; n <= last; n++) lines.add(n);
  }
  const numbers = [...lines].sort((a, b) => a - b);
  const texts = numbers.map((n) => state.doc.line(n));
  const nonEmpty = texts.filter((l) => l.text.trim() !== "");
  const all = (nonEmpty.length ? nonEmpty : texts).every((l) => LINE_PREFIX[kind].test(l.text));
  const changes: ChangeSpec[] = [];
  let count = 0;
  for (const line of texts) {
    if (nonEmpty.length && line.text.trim() === "" && texts.length > 1) continue;
    const existing = LINE_PREFIX[kind].exec(line.text);
    if (all) {
      if (existing) changes.push({ from: line.from, to: line.from + existing[0].length });
      continue;
    }
    count += 1;
    const prefix =
      kind === "heading"
        ? "# "
        : kind === "bullet"
          ? "- "
          : kind === "numbered"
            ? `${count}. `
            : kind === "task"
              ? "- [ ] "
              : "> ";
    const other = kind === "quote" ? null : ANY_BLOCK.exec(line.text);
    changes.push({ from: line.from, to: line.from + (other ? other[0].length : 0), insert: prefix });
  }
  return changes;
}

function link(state: EditorState): ReturnType<EditorState["changeByRange"]> {
  return state.changeByRange((range) => {
    const text = state.sliceDoc(range.from, range.to) || "link text";
    const insert = `[${text}](https://)`;
    const urlFrom = range.from + text.length + 3;
    return {
      changes: { from: range.from, to: range.to, insert },
      range: EditorSelection.range(urlFrom, urlFrom + "https://".length),
    };
  });
}

/** Run a formatting command on the view; false (nothing done) when the editor is read-only. */
export function applyFormat(view: EditorView, format: Format): boolean {
  const state = view.state;
  if (state.readOnly) return false;
  switch (format) {
    case "bold":
      view.dispatch(state.update(wrapInline(state, "**"), { scrollIntoView: true, userEvent: "input.format" }));
      break;
    case "italic":
      view.dispatch(state.update(wrapInline(state, "*"), { scrollIntoView: true, userEvent: "input.format" }));
      break;
    case "code":
      view.dispatch(state.update(wrapInline(state, "`"), { scrollIntoView: true, userEvent: "input.format" }));
      break;
    case "link":
      view.dispatch(state.update(link(state), { scrollIntoView: true, userEvent: "input.format" }));
      break;
    default:
      view.dispatch({ changes: togglePrefix(state, format), scrollIntoView: true, userEvent: "input.format" });
  }
  return true;
}

/** The formatting shortcuts (above CodeMirror's defaults: Mod-i is theirs otherwise). */
export function formatKeymap(): Extension {
  return Prec.high(
    keymap.of(
      (Object.keys(FORMAT_KEYS) as Format[]).map((f) => ({
        key: FORMAT_KEYS[f],
        run: (view: EditorView) => applyFormat(view, f),
        preventDefault: true,
      })),
    ),
  );
}

/** Toggle the task checkbox on line `lineNumber` (1-based), if that line is a task item. */
export function toggleTask(view: EditorView, lineNumber: number): boolean {
  const state = view.state;
  if (state.readOnly || lineNumber < 1 || lineNumber > state.doc.lines) return false;
  const line = state.doc.line(lineNumber);
  const m = /^(\s*(?:[-*+]|\d{1,9}[.)])\s+\[)([ xX])\]/.exec(line.text);
  if (!m) return false;
  const at = line.from + (m[1] ?? "").length;
  view.dispatch({ changes: { from: at, to: at + 1, insert: m[2] === " " ? "x" : " " }, userEvent: "input.format" });
  return true;
}
