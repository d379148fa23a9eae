/**
 * The connection indicator in the page's bar: whether edits are saved, being saved, or kept on
 * this device while offline. `data-state` is for styling and for tests.
 *
 * The count people see is of *edits* as they understand them, not of protocol messages: every
 * keystroke is its own message, so typing a sentence offline would read "52 changes". A run of
 * typing that continues where the previous message ended (or a run of deletions) is one edit; the
 * number of messages waiting goes into the tooltip with the other details.
 *
 * Honest colours: "saved" (green) only once the server acknowledged every edit, "saving" in the
 * accent colour, reconnecting in the info colour, offline amber (with a banner under the bar that
 * says the edits are kept here), disconnected for good in the danger colour. On a phone only the
 * dot shows; the state is still announced and is the tooltip's first line.
 */
import type { Op } from "../../engine/ops";
import type { ConnectionState } from "../../protocol/live";
import { ago, h, newId } from "../dom";

/** The id of the last code point an insert op brings (ids of one op are consecutive). */
function lastId(op: Op & { kind: "ins" }): string {
  const colon = op.id.lastIndexOf(":");
  const counter = Number(op.id.slice(colon + 1));
  return `${op.id.slice(0, colon)}:${counter + Array.from(op.text).length - 1}`;
}

/**
 * How many edits the person would say are waiting: messages in send order, where a message
 * that only inserts right after the previous message's insert, or only deletes after a message
 * that only deleted, continues the same edit.
 */
export function countEdits(messages: Iterable<readonly Op[]>): number {
  let edits = 0;
  let prev: readonly Op[] | null = null;
  for (const ops of messages) {
    if (!ops.length) continue;
    const first = ops[0]!;
    const last: Op | undefined = prev?.[prev.length - 1];
    const continues =
      prev !== null &&
      last !== undefined &&
      ((first.kind === "ins" && last.kind === "ins" && first.after === lastId(last)) ||
        (ops.every((o) => o.kind === "del") && prev.every((o) => o.kind === "del")));
    if (!continues) edits += 1;
    prev = ops;
  }
  return edits;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export class ConnectionStatus {
  private readonly text = h("span", { class: "status-text" }, "Connecting…");
  private state: ConnectionState = "connecting";
  private edits = 0;
  private messages = 0;
  private lastSaved: Date | null = null;
  /** The details of the tooltip, also the indicator's accessible description (hidden: not announced). */
  private readonly described = h("span", { id: newId("status-details"), hidden: true });
  readonly element = h(
    "div",
    {
      class: "conn-status",
      role: "status",
      "aria-live": "polite",
      "data-state": "connecting",
      tabindex: 0,
      "aria-describedby": this.described.id,
    },
    h("span", { class: "dot", "aria-hidden": "true" }),
    this.text,
    this.described,
  );
  /** Under the bar while offline: where the edits are, in words. */
  readonly banner = h(
    "p",
    { class: "offline-banner", hidden: true },
    "Offline — your edits are kept on this device and will sync",
  );

  /** Someone is looking at the details (the pointer is over the status, or it has the focus). */
  private looking = false;

  constructor() {
    // "Saved 2 min ago" ages: the details are recomputed whenever someone looks at them, and
    // while they do; not on every keystroke's "Saving…" and ack otherwise (text, title and a
    // description rewritten twice per keystroke cost the page and say nothing new).
    const look = (on: boolean) => (): void => {
      this.looking = on;
      if (on) this.describe();
    };
    this.element.addEventListener("pointerenter", look(true));
    this.element.addEventListener("focus", look(true));
    this.element.addEventListener("pointerleave", look(false));
    this.element.addEventListener("blur", look(false));
  }

  /** Show the state; `pending` holds the local messages not acknowledged yet, in send order. */
  render(state: ConnectionState, pending: Map<number, readonly Op[]>): void {
    this.state = state;
    this.messages = pending.size;
    this.edits = pending.size ? countEdits(pending.values()) : 0;
    const unsynced = this.edits ? plural(this.edits, "unsynced edit") : "";
    let key: string = state;
    let text: string;
    switch (state) {
      case "live":
        key = pending.size ? "saving" : "saved";
        text = pending.size ? "Saving…" : "All changes saved";
        if (!pending.size) this.lastSaved = new Date();
        break;
      case "connecting":
        text = "Connecting…";
        break;
      case "reconnecting":
        text = unsynced ? `Reconnecting · ${unsynced}` : "Reconnecting…";
        break;
      case "offline":
        text = unsynced ? `Offline · ${unsynced}` : "Offline";
        break;
      case "closed":
        text = "Disconnected";
        break;
    }
    const was = this.element.dataset["state"];
    if (was !== key) this.element.dataset["state"] = key;
    if (this.text.textContent !== text) this.text.textContent = text;
    this.banner.hidden = state !== "offline";
    // Typing flips "saved" and "saving" twice per keystroke: that alone re-describes nothing.
    const typing = (was === "saved" || was === "saving") && (key === "saved" || key === "saving");
    if (this.looking || !typing) this.describe();
  }

  /** The tooltip leads with the state (all a phone shows is the dot); the description adds the rest. */
  private describe(): void {
    const details = this.details();
    const title = [this.text.textContent, details].filter(Boolean).join("\n");
    if (this.element.title !== title) this.element.title = title;
    if (this.described.textContent !== details) this.described.textContent = details;
  }

  /** The tooltip: what is waiting, where it is kept, and when everything was last saved. */
  details(): string {
    const lines: string[] = [];
    if (this.edits) {
      const kept = this.state === "live" ? "being sent" : "kept on this device and sent when you are back online";
      lines.push(`${plural(this.edits, "unsynced edit")} (${plural(this.messages, "change")}), ${kept}.`);
    } else if (this.state === "live") {
      lines.push("Every edit is saved on the server.");
    }
    if (this.lastSaved) {
      const when = ago(this.lastSaved.toISOString());
      lines.push(`Saved ${when} (${this.lastSaved.toLocaleTimeString()}).`);
    }
    return lines.join("\n");
  }

  /** One sentence for Ctrl/Cmd+S: where the person's edits are right now. */
  summary(): string {
    if (this.state === "live") return this.edits ? "Saving…" : "Saved: every edit is on the server.";
    if (this.state === "offline" || this.state === "reconnecting")
      return this.edits
        ? `${this.state === "offline" ? "Offline" : "Reconnecting"}: ${plural(this.edits, "unsynced edit")} kept on this device; they sync when you are back online.`
        : "Nothing to save: no edits are waiting.";
    if (this.state === "closed") return "Disconnected: edits can no longer be saved here.";
    return "Connecting…";
  }
}
