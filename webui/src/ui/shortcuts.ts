/**
 * The keyboard shortcuts of the whole app, in one list: the help dialog (`?`) shows this list, and
 * docs/ui.md repeats it. The global keys live here too: `?` outside text fields and Ctrl/Cmd+K
 * everywhere, the editor included (caught on the way down, before CodeMirror sees it).
 * The editor's own keys (Tab, Esc, Ctrl/Cmd+S, @) are handled in ui/editor/page.ts.
 */
import { h, modal } from "./dom";

const MAC = /Mac|iPhone|iPad/.test(navigator.platform);
const MOD = MAC ? "⌘" : "Ctrl";

interface Shortcut {
  /** Alternatives; each is a sequence of keys pressed together ("+") or one after the other (" then "). */
  keys: string[];
  what: string;
}

const SHORTCUTS: { section: string; items: Shortcut[] }[] = [
  {
    section: "Everywhere",
    items: [
      { keys: [`${MOD}+K`], what: "Command palette: jump to a document, create one, switch the theme" },
      { keys: ["?"], what: "This list of shortcuts (outside text fields)" },
      { keys: ["Esc"], what: "Close the dialog, the palette or a popup" },
      { keys: ["↑", "↓"], what: "Move in the palette, the title search and the @mention list" },
      { keys: ["Enter"], what: "Open or run the highlighted item" },
    ],
  },
  {
    section: "In the editor",
    items: [
      { keys: ["Tab"], what: "Accept the grey suggestion or the highlighted @mention; otherwise indent" },
      { keys: ["Esc then Tab"], what: "Leave the editor (Esc then Shift+Tab goes back)" },
      { keys: ["@"], what: "Mention a collaborator" },
      { keys: ["Ctrl+Alt+M"], what: "Comment on the selected text" },
      { keys: [`${MOD}+S`], what: "Check that your edits are saved (they are saved as you type)" },
      { keys: [`${MOD}+Z`], what: "Undo" },
      { keys: [MAC ? "⌘+Shift+Z" : "Ctrl+Y"], what: "Redo" },
      { keys: [`${MOD}+F`], what: "Find and replace (Enter: next match, Esc: close)" },
      { keys: [`${MOD}+H`], what: "Replace" },
      { keys: [`${MOD}+B`, `${MOD}+I`, `${MOD}+E`], what: "Bold, italic, code (again to remove)" },
      { keys: [`${MOD}+Alt+1`], what: "Heading" },
      { keys: [`${MOD}+Shift+8`, `${MOD}+Shift+7`, `${MOD}+Shift+X`], what: "Bulleted, numbered, task list" },
      { keys: [`${MOD}+Shift+9`], what: "Quote" },
      { keys: [`${MOD}+Shift+L`], what: "Link" },
    ],
  },
];

function keyCap(combo: string): HTMLElement {
  const parts = combo.split(" then ");
  const out = h("span", { class: "keys" });
  parts.forEach((part, i) => {
    if (i) out.append(" then ");
    part.split("+").forEach((k, j) => {
      if (j) out.append("+");
      out.append(h("kbd", {}, k));
    });
  });
  return out;
}

/** The shortcut help: a modal dialog with one table per section. */
export function openShortcutHelp(): HTMLDialogElement {
  const tables = SHORTCUTS.map(({ section, items }) =>
    h(
      "table",
      { class: "shortcut-table" },
      h("caption", {}, section),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Keys"), h("th", { scope: "col" }, "What it does"))),
      h(
        "tbody",
        {},
        ...items.map((s) => {
          const keys = h("td", {});
          s.keys.forEach((k, i) => {
            if (i) keys.append(" or ");
            keys.append(keyCap(k));
          });
          return h("tr", {}, keys, h("td", {}, s.what));
        }),
      ),
    ),
  );
  const dialog = modal("Keyboard shortcuts", tables, { wide: true });
  dialog.classList.add("shortcut-help");
  return dialog;
}

/** Typing goes into this element, so a printable key is not a shortcut there. */
function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.matches("input, textarea, select");
}

function dialogOpen(): boolean {
  return document.querySelector("dialog[open]") !== null;
}

/** A window event that opens the shortcut help (the editor's ⋯ menu sends it). */
export const SHORTCUTS_EVENT = "docstream:shortcuts";

/** Listen for the global keys; `palette` opens (or, when open, closes) the command palette. */
export function startShortcuts(palette: () => void): void {
  window.addEventListener(SHORTCUTS_EVENT, () => void openShortcutHelp());
  window.addEventListener(
    "keydown",
    (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey && ev.key.toLowerCase() === "k") {
        ev.preventDefault();
        ev.stopPropagation(); // not a CodeMirror key then
        palette();
        return;
      }
      if (ev.key === "?" && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !typingInto(ev.target) && !dialogOpen()) {
        ev.preventDefault();
        openShortcutHelp();
      }
    },
    { capture: true },
  );
}
