/**
 * The commented text, highlighted in the editor: one mark per open thread, placed where its
 * anchor resolves now (engine/anchors.ts). Between two resolutions the marks move with every
 * change like any CodeMirror decoration; the comments feature re-resolves them from the CRDT ids
 * after changes settle, so they follow the words through everyone's edits.
 */
import { StateEffect, StateField, type Extension } from "@codemirror/state";
import { Decoration, EditorView, type DecorationSet } from "@codemirror/view";

export interface Mark {
  from: number;
  to: number;
  id: string;
  active: boolean;
}

export const setMarks = StateEffect.define<Mark[]>();

const marks = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    let next = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setMarks)) continue;
      const ranges = e.value
        .filter((m) => m.to > m.from && m.to <= tr.state.doc.length)
        .sort((a, b) => a.from - b.from || a.to - b.to)
        .map((m) =>
          Decoration.mark({
            class: m.active ? "comment-mark comment-mark-active" : "comment-mark",
            attributes: { "data-comment": m.id },
          }).range(m.from, m.to),
        );
      next = Decoration.set(ranges, true);
    }
    return next;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export function commentMarks(): Extension {
  return marks;
}

/** The thread whose mark is at `pos` (the innermost one), if any. */
export function threadAt(view: EditorView, pos: number): string | null {
  let found: string | null = null;
  view.state.field(marks).between(pos, pos, (_from, _to, value) => {
    const id = (value.spec as { attributes?: Record<string, string> }).attributes?.["data-comment"];
    if (id) found = id;
  });
  return found;
}
