/**
 * CodeMirror extensions of the editor: remote carets and selections, ghost-text completion and
 * the read-only switch. They hold UTF-16 positions only; the page computes them from the CRDT.
 */
import { Annotation, Compartment, EditorState, StateEffect, StateField, type Extension, type Range } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";

/** Marks transactions that replay remote edits (they must not be sent back). */
export const remoteEdit = Annotation.define<boolean>();

// --- remote carets -------------------------------------------------------------------------

export interface RemoteCursor {
  replica: string;
  name: string;
  color: string;
  anchor: number;
  head: number;
}

export const setRemoteCursors = StateEffect.define<RemoteCursor[]>();

class CaretWidget extends WidgetType {
  constructor(
    readonly color: string,
    readonly name: string,
    readonly replica: string,
  ) {
    super();
  }
  override eq(other: CaretWidget): boolean {
    return other.color === this.color && other.name === this.name && other.replica === this.replica;
  }
  toDOM(): HTMLElement {
    const caret = document.createElement("span");
    caret.className = "cm-remote-caret";
    caret.style.borderLeftColor = this.color;
    caret.setAttribute("data-replica", this.replica);
    caret.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.className = "cm-remote-label";
    label.style.backgroundColor = this.color;
    label.textContent = this.name;
    caret.append(label);
    return caret;
  }
  override ignoreEvent(): boolean {
    return true;
  }
}

function cursorDecorations(cursors: RemoteCursor[], length: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const c of cursors) {
    const anchor = Math.min(c.anchor, length);
    const head = Math.min(c.head, length);
    const from = Math.min(anchor, head);
    const to = Math.max(anchor, head);
    if (from < to) {
      ranges.push(
        Decoration.mark({ class: "cm-remote-selection", attributes: { style: `background-color: ${c.color}33` } }).range(from, to),
      );
    }
    ranges.push(Decoration.widget({ widget: new CaretWidget(c.color, c.name, c.replica), side: 1 }).range(head));
  }
  return Decoration.set(ranges, true);
}

const remoteCursorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setRemoteCursors)) return cursorDecorations(e.value, tr.newDoc.length);
    return tr.docChanged ? value.map(tr.changes) : value;
  },
  provide: (f) => EditorView.decorations.from(f),
});

// --- ghost text ----------------------------------------------------------------------------

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
      g ? Decoration.set([Decoration.widget({ widget: new GhostWidget(g.text), side: 1 }).range(g.pos)]) : Decoration.none,
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

// --- read-only -----------------------------------------------------------------------------

export const editability = new Compartment();

export function readOnly(on: boolean): Extension {
  return [EditorState.readOnly.of(on), EditorView.contentAttributes.of({ "aria-readonly": on ? "true" : "false" })];
}

export function collabExtensions(): Extension {
  return [remoteCursorField, ghostField];
}
