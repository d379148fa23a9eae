/**
 * The binding between CodeMirror and the CRDT replica.
 *
 * Every local transaction becomes one local CRDT edit (changes taken in order, in UTF-16,
 * converted to code points by the engine); remote changes are dispatched with the `remoteEdit`
 * annotation and `addToHistory: false`, so they are never sent back and undo only undoes one's own
 * edits. After every update the lengths of both documents are compared; a mismatch (a bug) resets
 * the editor to the replica's text rather than letting them drift.
 *
 * The binding's listener must come before every other extension's listener: it feeds the replica
 * that they read.
 */
import { Transaction, type Extension, type TransactionSpec } from "@codemirror/state";
import { EditorView, type ViewUpdate } from "@codemirror/view";
import type { Change } from "../../engine";
import type { LiveDocument } from "../../protocol/live";
import { carets, setRemoteCursors } from "./carets";
import { attachLive, liveField, liveOf, remoteEdit } from "./state";

const REMOTE = [remoteEdit.of(true), Transaction.addToHistory.of(false)];

function sendLocalEdits(u: ViewUpdate): void {
  const live = liveOf(u.state);
  if (!live) return;
  for (const tr of u.transactions) {
    if (!tr.docChanged || tr.annotation(remoteEdit)) continue;
    const changes: { from16: number; to16: number; text: string }[] = [];
    tr.changes.iterChanges((fromA, toA, fromB, _toB, inserted) => {
      changes.push({ from16: fromB, to16: fromB + (toA - fromA), text: inserted.toString() });
    });
    live.replace16(changes);
  }
  if (u.view.state.doc.length !== live.session.doc.length16) resetToReplica(u.view);
}

/** The binding's extension: put it before every other extension that listens to updates. */
export function crdtBinding(): Extension {
  return [liveField, EditorView.updateListener.of(sendLocalEdits)];
}

/**
 * Replace the editor's text with the replica's (at the start, and the safety net). With `attach`
 * the live document is attached in the same transaction.
 */
export function resetToReplica(view: EditorView, attach?: LiveDocument): void {
  const live = attach ?? liveOf(view.state);
  if (!live) return;
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: live.session.doc.text },
    annotations: REMOTE,
    ...(attach ? { effects: attachLive.of(attach) } : {}),
  });
  carets(view)?.schedule();
}

/** Replay the replica's visible changes; the remote carets move in the same transaction. */
export function applyRemote(view: EditorView, changes: Change[]): void {
  if (!changes.length) return;
  const specs: TransactionSpec[] = changes.map((c, i) => ({
    changes: { from: c.from16, to: c.from16 + c.deleted16, insert: c.inserted },
    sequential: true,
    ...(i === 0 ? { annotations: REMOTE } : {}),
  }));
  // Positions from the replica, which already has these changes: one editor update per remote
  // message, not two.
  const list = carets(view)?.positions() ?? [];
  specs[specs.length - 1] = { ...specs[specs.length - 1], effects: setRemoteCursors.of(list) };
  try {
    view.dispatch(...specs);
  } catch {
    resetToReplica(view);
  }
}
