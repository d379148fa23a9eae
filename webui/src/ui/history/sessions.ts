/**
 * "Who edited, when, how much": the server's sessions (one person's edits without a two-minute
 * pause), newest first, each with the author's colour, the time and "+312 −40 characters", and a
 * button that shows the session's changes in the diff view. "Show older" pages on, so a log of
 * hundreds of thousands of keystrokes costs the browser twenty rows at a time.
 */
import type { Api } from "../../api";
import { colorFor } from "../../protocol/messages";
import { ago, h } from "../dom";
import { sessions, type EditSession } from "./api";

const number = new Intl.NumberFormat();

/** "+312 −40 characters" (the minus is U+2212, as typeset). */
export function summary(s: Pick<EditSession, "inserted" | "deleted">): string {
  const parts = [`+${number.format(s.inserted)}`];
  if (s.deleted) parts.push(`\u2212${number.format(s.deleted)}`);
  return `${parts.join(" ")} character${s.inserted + s.deleted === 1 ? "" : "s"}`;
}

function when(s: EditSession): string {
  const start = new Date(s.started_at);
  const end = new Date(s.ended_at);
  const time = (d: Date): string => d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const span = time(start) === time(end) ? time(end) : `${time(start)}–${time(end)}`;
  return `${start.toLocaleDateString()} ${span}`;
}

export class SessionList {
  readonly list = h("ol", { class: "sessions", "aria-label": "Editing sessions" });
  private readonly more = h("button", { type: "button", class: "link-button", hidden: true }, "Show older sessions");
  readonly element = h("div", { class: "sessions-wrap" }, this.list, this.more);
  private next: number | null = null;

  constructor(
    private readonly api: Api,
    private readonly docId: string,
    /** Show what a session changed (the diff view). */
    private readonly compare: (s: EditSession) => void,
  ) {
    this.more.addEventListener("click", () => void this.page(false));
  }

  /** The newest page again (after a refresh or a restore). */
  load(): Promise<void> {
    return this.page(true);
  }

  private async page(first: boolean): Promise<void> {
    try {
      const got = await sessions(this.api, this.docId, first ? null : this.next);
      if (first) this.list.replaceChildren();
      if (first && !got.sessions.length) this.list.append(h("li", { class: "muted" }, "No edits yet."));
      this.list.append(...got.sessions.map((s) => this.row(s)));
      this.next = got.next;
      this.more.hidden = got.next === null;
    } catch {
      if (first) this.list.replaceChildren(h("li", { class: "field-error" }, "The sessions could not be loaded."));
    }
  }

  private row(s: EditSession): HTMLElement {
    const color = colorFor(s.author);
    const show = h(
      "button",
      {
        type: "button",
        class: "session",
        "data-first": s.first_seq,
        "data-last": s.last_seq,
        title: `${s.edits} edit${s.edits === 1 ? "" : "s"}, ${ago(s.ended_at)}`,
      },
      h("span", { class: "session-swatch", style: `background:${color}`, "aria-hidden": "true" }),
      h(
        "span",
        { class: "session-text" },
        h("span", { class: "session-who" }, s.user_name),
        h("span", { class: "muted" }, when(s)),
      ),
      h("span", { class: "session-sum" }, summary(s)),
      h("span", { class: "visually-hidden" }, ": show the changes"),
    );
    show.addEventListener("click", () => this.compare(s));
    return h("li", {}, show);
  }
}
