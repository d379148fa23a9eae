// The formatting commands edit the plain text: wrap/unwrap inline marks (bold vs italic runs of
// asterisks told apart), toggle line prefixes over a selection, links, and task checkboxes.
import { EditorSelection, EditorState, type Transaction, type TransactionSpec } from "@codemirror/state";
import type { EditorView } from "@codemirror/view";
import { describe, expect, it } from "vitest";
import { applyFormat, keyLabel, toggleTask, type Format } from "../../src/ui/markdown/commands";

/** The part of an EditorView the commands use: the state, and dispatch applying a transaction. */
function editor(doc: string, anchor: number, head = anchor): EditorView {
  const holder = {
    state: EditorState.create({ doc, selection: EditorSelection.single(anchor, head) }),
    dispatch(arg: Transaction | TransactionSpec) {
      holder.state = "startState" in arg ? arg.state : holder.state.update(arg).state;
    },
  };
  return holder as unknown as EditorView;
}

function run(doc: string, from: number, to: number, ...formats: Format[]): { text: string; selected: string } {
  const view = editor(doc, from, to);
  for (const f of formats) applyFormat(view, f);
  const sel = view.state.selection.main;
  return { text: view.state.doc.toString(), selected: view.state.sliceDoc(sel.from, sel.to) };
}

describe("inline marks", () => {
  it("wraps the selection and keeps it selected", () => {
    expect(run("a word b", 2, 6, "bold")).toEqual({ text: "a **word** b", selected: "word" });
    expect(run("a word b", 2, 6, "italic")).toEqual({ text: "a *word* b", selected: "word" });
    expect(run("a word b", 2, 6, "code")).toEqual({ text: "a `word` b", selected: "word" });
  });
  it("unwraps what is already wrapped, telling bold and italic apart", () => {
    expect(run("**word**", 2, 6, "bold").text).toBe("word");
    expect(run("**word**", 2, 6, "italic").text).toBe("***word***");
    expect(run("**word**", 2, 6, "italic", "italic").text).toBe("**word**");
    expect(run("***word***", 3, 7, "bold").text).toBe("*word*");
    expect(run("*word*", 1, 5, "italic").text).toBe("word");
    expect(run("**word**", 0, 8, "bold")).toEqual({ text: "word", selected: "word" });
  });
  it("inserts an empty pair with the caret inside", () => {
    const view = editor("ab", 1);
    applyFormat(view, "bold");
    expect(view.state.doc.toString()).toBe("a****b");
    expect(view.state.selection.main.head).toBe(3);
  });
});

describe("line marks", () => {
  it("toggles a prefix on every selected line, numbering a list", () => {
    expect(run("one\ntwo\nthree", 0, 13, "bullet").text).toBe("- one\n- two\n- three");
    expect(run("one\ntwo", 0, 7, "numbered").text).toBe("1. one\n2. two");
    expect(run("- one\n- two", 0, 11, "bullet").text).toBe("one\ntwo");
    expect(run("one", 0, 0, "quote", "quote").text).toBe("one");
  });
  it("switches one kind of list or heading for another", () => {
    expect(run("- one", 0, 0, "numbered").text).toBe("1. one");
    expect(run("# Title", 0, 0, "bullet").text).toBe("- Title");
    expect(run("- one", 0, 0, "task").text).toBe("- [ ] one");
    expect(run("- [ ] one", 0, 0, "bullet").text).toBe("- one");
  });
  it("leaves blank lines of a selection alone", () => {
    expect(run("one\n\ntwo", 0, 8, "quote").text).toBe("> one\n\n> two");
  });
});

describe("links and tasks", () => {
  it("wraps the selection as a link and selects the URL to type over", () => {
    expect(run("see docs", 4, 8, "link")).toEqual({ text: "see [docs](https://)", selected: "https://" });
    expect(run("", 0, 0, "link").text).toBe("[link text](https://)");
  });
  it("toggles the checkbox on a task line only", () => {
    const view = editor("- [ ] a\n- [x] b\nplain [ ]", 0);
    expect(toggleTask(view, 1)).toBe(true);
    expect(toggleTask(view, 2)).toBe(true);
    expect(toggleTask(view, 3)).toBe(false);
    expect(toggleTask(view, 9)).toBe(false);
    expect(view.state.doc.toString()).toBe("- [x] a\n- [ ] b\nplain [ ]");
  });
  it("does nothing in a read-only editor", () => {
    const view = {
      state: EditorState.create({ doc: "word", extensions: EditorState.readOnly.of(true) }),
      dispatch: () => expect.unreachable("a read-only editor is not edited"),
    } as unknown as EditorView;
    expect(applyFormat(view, "bold")).toBe(false);
    expect(toggleTask(view, 1)).toBe(false);
    expect(view.state.doc.toString()).toBe("word");
  });
  it("names the keys as the person reads them", () => {
    expect(keyLabel("Mod-Shift-8")).toMatch(/^(Ctrl|⌘)\+Shift\+8$/);
  });
});
