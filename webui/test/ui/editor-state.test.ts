// The editor's state extensions without a DOM: carets mapped through edits, ghost text dropped
// by any change, the role and the live document kept in the CodeMirror state.
import { EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";
import type { LiveDocument } from "../../src/protocol/live";
import { caretsExtension, setRemoteCursors, shownCarets } from "../../src/ui/editor/carets";
import { ghostField, setGhost } from "../../src/ui/editor/ghost";
import { attachLive, canEdit, liveField, liveOf, roleField, setRole } from "../../src/ui/editor/state";

const caret = { replica: "replicaB", name: "Bob", color: "#3F83F8", anchor: 2, head: 5 };

describe("remote carets", () => {
  it("are mapped through local edits until the next report", () => {
    let state = EditorState.create({ doc: "hello world", extensions: caretsExtension() });
    state = state.update({ effects: setRemoteCursors.of([caret]) }).state;
    expect(shownCarets(state)).toEqual([caret]);
    state = state.update({ changes: { from: 0, insert: "¡" } }).state;
    expect(shownCarets(state)).toEqual([{ ...caret, anchor: 3, head: 6 }]);
    state = state.update({ changes: { from: 4, to: 11 } }).state;
    expect(shownCarets(state)).toEqual([{ ...caret, anchor: 3, head: 4 }]);
  });

  it("are replaced by a report", () => {
    let state = EditorState.create({ doc: "abc", extensions: caretsExtension() });
    state = state.update({ effects: setRemoteCursors.of([caret]) }).state;
    state = state.update({ changes: { from: 0, insert: "x" }, effects: setRemoteCursors.of([]) }).state;
    expect(shownCarets(state)).toEqual([]);
  });
});

describe("ghost text", () => {
  it("is dropped by an edit or a caret move", () => {
    let state = EditorState.create({ doc: "wor", extensions: ghostField });
    state = state.update({ effects: setGhost.of({ pos: 3, text: "ld" }) }).state;
    expect(state.field(ghostField)).toEqual({ pos: 3, text: "ld" });
    expect(state.update({ changes: { from: 3, insert: "k" } }).state.field(ghostField)).toBeNull();
    expect(state.update({ selection: { anchor: 1 } }).state.field(ghostField)).toBeNull();
  });
});

describe("the shared editor state", () => {
  it("keeps the role and the live document", () => {
    let state = EditorState.create({ extensions: [liveField, roleField.init(() => "viewer")] });
    expect(canEdit(state)).toBe(false);
    state = state.update({ effects: setRole.of("editor") }).state;
    expect(canEdit(state)).toBe(true);
    expect(liveOf(state)).toBeNull();
    const live = { state: "live" } as unknown as LiveDocument;
    state = state.update({ effects: attachLive.of(live) }).state;
    expect(liveOf(state)).toBe(live);
  });
});
