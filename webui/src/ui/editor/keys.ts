/**
 * The editor's keys: Tab accepts a suggestion or a mention, else indents (and leaves a read-only
 * editor); Escape closes a popup or dismisses ghost text; the arrows and Enter drive the mention
 * list; then CodeMirror's defaults and undo history. The hint under the editor says how to leave.
 */
import { defaultKeymap, historyKeymap, insertTab } from "@codemirror/commands";
import { Prec, type Extension } from "@codemirror/state";
import { keymap, type EditorView } from "@codemirror/view";
import { acceptGhost, dismissGhost } from "./ghost";
import { mentionKey } from "./mentions";

/** The keyboard's shortcut hint under the editor (also the editor's accessible description). */
const MAC = /Mac|iPhone|iPad/.test(navigator.platform);
export const SHORTCUTS = `Tab indents · Esc then Tab leaves the editor · ${MAC ? "⌘S" : "Ctrl+S"} checks that your edits are saved`;

/**
 * Tab with nothing to accept stays in the editor: it indents the selected lines or inserts a tab.
 * A read-only editor has nothing to indent, so Tab moves on. Escape then Tab leaves the editor
 * (CodeMirror's tab-focus mode, which Escape turns on for two seconds).
 */
function tabKey(view: EditorView): boolean {
  if (mentionKey(view, "Tab") || acceptGhost(view)) return true;
  if (view.state.readOnly) return false;
  return insertTab(view);
}

export function editorKeys(): Extension {
  return [
    Prec.highest(
      keymap.of([
        { key: "Tab", run: tabKey },
        { key: "Escape", run: (v) => mentionKey(v, "Escape") || dismissGhost(v) },
        { key: "ArrowDown", run: (v) => mentionKey(v, "ArrowDown") },
        { key: "ArrowUp", run: (v) => mentionKey(v, "ArrowUp") },
        { key: "Enter", run: (v) => mentionKey(v, "Enter") },
      ]),
    ),
    keymap.of([...defaultKeymap, ...historyKeymap]),
  ];
}
