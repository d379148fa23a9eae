/**
 * Opening a document "at the right place": a notification of a mention links to `/d/<id>#at=N`
 * (N: where the mention was inserted, in the editor's own offsets). Once the text has arrived and
 * is that long, the caret goes there and it is scrolled into view, once. Text edited meanwhile may
 * have moved it a little: it is where the mention was, not a guarantee.
 */
import { EditorSelection, type Extension } from "@codemirror/state";
import { EditorView, ViewPlugin, type ViewUpdate } from "@codemirror/view";

export function positionFromAddress(hash: string = location.hash): number | null {
  const raw = new URLSearchParams(hash.replace(/^#/, "")).get("at");
  if (!raw || !/^\d{1,9}$/.test(raw)) return null;
  return Number(raw);
}

export function jumpToAddress(): Extension {
  const at = positionFromAddress();
  if (at === null) return [];
  return ViewPlugin.fromClass(
    class {
      done = false;
      update(u: ViewUpdate): void {
        if (this.done || !u.docChanged || u.state.doc.length === 0) return;
        this.done = true;
        const view = u.view;
        const pos = Math.min(at, u.state.doc.length);
        queueMicrotask(() =>
          view.dispatch({
            selection: EditorSelection.cursor(pos),
            effects: EditorView.scrollIntoView(pos, { y: "center" }),
          }),
        );
      }
    },
  );
}
