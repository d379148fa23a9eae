/**
 * The history panel's place: beside the editor on a wide screen, a full-screen sheet on a phone
 * (the CSS decides; a fixed-width side panel would squeeze the text to a letter per line). Opened
 * from the top bar's ⋯ menu, closed by its close button, Escape, or the menu again. Enabled once
 * the document's info is known. As a sheet it is the only thing on screen, so the rest of the
 * page is made inert meanwhile (Tab and a screen reader stay in the sheet).
 */
import type { Api, DocumentInfo } from "../../api";
import { historyPanel } from "../history";

/** Where history.css turns the panel into a full-screen sheet. */
const SHEET = "(max-width: 760px)";

export class HistoryToggle {
  private panel: HTMLElement | null = null;
  private info: DocumentInfo | null = null;

  constructor(
    private readonly api: Api,
    private readonly side: HTMLElement,
    private readonly canEdit: () => boolean,
    /** Where focus goes when the panel closes (the ⋯ menu's button). */
    private readonly returnFocus: () => HTMLElement | null,
  ) {}

  /** The document's info arrived (or access ended: null): the panel can (no longer) be opened. */
  ready(info: DocumentInfo | null): void {
    this.info = info;
    if (!info) this.close();
  }

  get open(): boolean {
    return this.panel !== null;
  }

  toggle(): void {
    if (this.panel) {
      this.close();
      return;
    }
    if (!this.info) return;
    this.panel = historyPanel(this.api, this.info, this.canEdit, () => this.close());
    this.panel.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !ev.defaultPrevented) this.close();
    });
    this.side.append(this.panel);
    this.setInert(matchMedia(SHEET).matches);
    const heading = this.panel.querySelector<HTMLElement>("h2");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  }

  close(): void {
    if (!this.panel) return;
    const hadFocus = this.panel.contains(document.activeElement);
    this.panel.remove();
    this.panel = null;
    this.setInert(false);
    if (hadFocus) this.returnFocus()?.focus();
  }

  /** Everything on the page but the panel (the bar, the text, the hint). */
  private setInert(on: boolean): void {
    const page = this.side.closest(".editor-page");
    if (!page) return;
    for (const el of page.querySelectorAll<HTMLElement>(":scope > *, .editor-body > *")) {
      if (!el.contains(this.side)) el.inert = on;
    }
  }
}
