/**
 * The document's title in the top bar, renamed in place: for those allowed to rename (editors
 * and the owner: PATCH /documents/{id} is editor+; never a guest) it is a button that turns into
 * a text field. Enter or leaving the field saves, Escape cancels. For everyone else it is text.
 */
import { ApiError, type Api } from "../../api";
import { h, toast } from "../dom";

export class TitleEditor {
  /** The heading (class `doc-heading`): the title as text, or a button that starts renaming. */
  readonly element = h("h1", { class: "doc-heading" });
  private title: string;
  private editable = false;
  private editing = false;

  constructor(
    private readonly api: Api,
    private readonly docId: string,
    initial: string,
    /** The title changed (renamed here): the page updates the tab's title and its cache. */
    private readonly renamed: (title: string) => void,
  ) {
    this.title = initial;
    this.draw();
  }

  get text(): string {
    return this.title;
  }

  /** The title as the server has it (unless being edited right now). */
  set(title: string): void {
    this.title = title;
    if (!this.editing) this.draw();
  }

  /** Whether this person may rename the document now. */
  allow(editable: boolean): void {
    if (editable === this.editable) return;
    this.editable = editable;
    if (!editable) this.editing = false;
    this.draw();
  }

  /**
   * Start renaming now, if allowed: a new document opens with its title ready to type, and
   * `then` runs when the title is done with Enter or Esc (not when the field loses focus to
   * something the person chose), e.g. to move on to the text.
   */
  startEditing(then?: () => void): void {
    if (this.editable && !this.editing) this.edit(then);
  }

  /** Draw the title; focus stays on it when it was there (the field or the button it replaces). */
  private draw(): void {
    const hadFocus = this.element.contains(document.activeElement);
    this.element.title = this.title;
    if (!this.editable) {
      this.element.replaceChildren(h("span", { class: "title-text" }, this.title));
      return;
    }
    const button = h(
      "button",
      { type: "button", class: "title-button", "aria-label": `${this.title}: rename`, title: "Rename" },
      h("span", { class: "title-text" }, this.title),
    );
    button.addEventListener("click", () => this.edit());
    this.element.replaceChildren(button);
    if (hadFocus) button.focus();
  }

  private edit(then?: () => void): void {
    this.editing = true;
    const input = h("input", {
      type: "text",
      class: "title-input",
      value: this.title,
      maxlength: 200,
      "aria-label": "Document title",
    });
    let done = false;
    const finish = async (save: boolean): Promise<void> => {
      if (done) return;
      done = true;
      const next = input.value.trim();
      this.editing = false;
      if (save && next && next !== this.title) {
        const before = this.title;
        this.title = next;
        this.draw();
        try {
          const doc = await this.api.renameDocument(this.docId, next);
          this.set(doc.title);
          this.renamed(doc.title);
        } catch (exc) {
          this.set(before);
          toast(
            exc instanceof ApiError ? exc.message : "The server cannot be reached: the title was not changed.",
            "error",
          );
        }
      } else {
        this.draw();
      }
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        void finish(true);
        then?.();
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        void finish(false);
        then?.();
      }
    });
    input.addEventListener("blur", () => void finish(true));
    this.element.replaceChildren(input);
    input.focus();
    input.select();
  }
}
