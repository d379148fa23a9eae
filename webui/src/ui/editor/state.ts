/**
 * What the editor extensions share, kept in the CodeMirror state rather than in page variables:
 * the live document (attached once the replica is claimed, which is asynchronous) and the
 * person's role (from the document's info, the welcome frame, or a role change). Every other
 * extension reads them from the state it is given, so no extension needs a reference to the page.
 *
 * `remoteEdit` marks the transactions that replay the replica's changes: they are never sent back.
 */
import { Annotation, StateEffect, StateField, type EditorState } from "@codemirror/state";
import type { ViewUpdate } from "@codemirror/view";
import type { LiveDocument } from "../../protocol/live";
import type { Role } from "../../protocol/messages";

/** Marks transactions that replay remote edits (they must not be sent back). */
export const remoteEdit = Annotation.define<boolean>();

/** Attach the live document (its replica, socket and offline queue) to the editor. */
export const attachLive = StateEffect.define<LiveDocument>();

export const liveField = StateField.define<LiveDocument | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(attachLive)) return e.value;
    return value;
  },
});

/**
 * The page is going away: extensions cancel their timers and remove what they drew outside the
 * editor at once (the view itself is destroyed last, once the live document has stopped).
 */
export const closeEditor = StateEffect.define<null>();

export function isClosing(u: ViewUpdate): boolean {
  return u.transactions.some((tr) => tr.effects.some((e) => e.is(closeEditor)));
}

/** The person's role on this document; null until known (or for a guest before welcome). */
export const setRole = StateEffect.define<Role | null>();

export const roleField = StateField.define<Role | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setRole)) return e.value;
    return value;
  },
});

export function liveOf(state: EditorState): LiveDocument | null {
  return state.field(liveField, false) ?? null;
}

export function roleOf(state: EditorState): Role | null {
  return state.field(roleField, false) ?? null;
}

/** May this person edit (the role only; the connection state is the read-only switch's business). */
export function canEdit(state: EditorState): boolean {
  const role = roleOf(state);
  return role === "owner" || role === "editor";
}

/**
 * The live document, if the editor's text after this update matches the replica's length. An
 * update that leaves them apart is repaired by the binding (reset to the replica) and is ignored
 * by every other extension.
 */
export function syncedLive(u: ViewUpdate): LiveDocument | null {
  const live = liveOf(u.state);
  return live && u.state.doc.length === live.session.doc.length16 ? live : null;
}

/** Did this update carry a local edit (typed here, not replayed from the replica)? */
export function hasLocalEdit(u: ViewUpdate): boolean {
  return u.transactions.some((tr) => tr.docChanged && !tr.annotation(remoteEdit));
}
