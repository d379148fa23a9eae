/**
 * The notification panel: the newest notifications first, more on demand, "Mark all read".
 *
 * A non-modal dialog under the bell (full width on a phone). Each notification is a link to its
 * document, at the mention or the comment where known; following it marks it read. Keys: ↑/↓
 * move between notifications, Esc closes and returns to the bell; a click or focus outside
 * closes it. New notifications arriving while it is open are added at the top.
 */
import { CheckCheck } from "lucide";
import { ApiError, type Api } from "../../api";
import { ago, h, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { listNotifications, markRead, type NotificationEvent, type NotificationItem } from "./api";
import { describe, target } from "./describe";

const PAGE = 20;

export interface PanelHooks {
  /** The panel closed (`refocus`: give the focus back to the bell). */
  closed: (refocus: boolean) => void;
  /** The unread count the server reported. */
  counted: (unread: number) => void;
}

function message(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

export class NotificationPanel {
  readonly element: HTMLElement;
  private readonly list = h("ul", { class: "notif-list", "aria-label": "Notifications" });
  private readonly empty = h(
    "p",
    { class: "notif-empty" },
    "Nothing yet. Mentions, replies to your comments and documents shared with you appear here.",
  );
  private readonly more = h("button", { type: "button", class: "notif-more" }, "Show older");
  private readonly allRead = h(
    "button",
    { type: "button", class: "notif-all-read" },
    icon(CheckCheck, undefined, 16),
    "Mark all read",
  );
  private items: NotificationItem[] = [];
  private nextBefore: number | null = null;
  isOpen = false;

  constructor(
    private readonly api: Api,
    id: string,
    private readonly hooks: PanelHooks,
  ) {
    const heading = h("h2", { id: `${id}-title` }, "Notifications");
    this.element = h(
      "div",
      { id, class: "notif-panel", role: "dialog", "aria-labelledby": heading.id, tabindex: "-1" },
      h("div", { class: "notif-head" }, heading, this.allRead),
      this.list,
      this.empty,
      this.more,
    );
    this.element.hidden = true;
    this.element.addEventListener("keydown", this.onKey);
    onAsync(this.allRead, "click", async () => {
      try {
        const done = await markRead(api, "all");
        this.items = this.items.map((n) => ({ ...n, read: true }));
        this.render();
        hooks.counted(done.unread);
      } catch (exc) {
        toast(message(exc), "error");
      }
    });
    onAsync(this.more, "click", async () => {
      if (this.nextBefore === null) return;
      await this.load(this.nextBefore);
    });
  }

  async open(): Promise<void> {
    this.isOpen = true;
    this.element.hidden = false;
    document.addEventListener("pointerdown", this.onOutside, true);
    document.addEventListener("focusin", this.onOutside, true);
    this.element.focus();
    await this.load(null);
    if (this.isOpen && this.element.contains(document.activeElement)) this.links()[0]?.focus();
  }

  close(refocus: boolean): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.element.hidden = true;
    document.removeEventListener("pointerdown", this.onOutside, true);
    document.removeEventListener("focusin", this.onOutside, true);
    this.hooks.closed(refocus);
  }

  /** Re-read the first page (the stream reconnected, or access to a document ended). */
  refresh(): void {
    if (this.isOpen) void this.load(null);
  }

  /** A live event: add a new notification at the top, or mark some read. */
  apply(event: NotificationEvent): void {
    if (event.kind === "new" && event.notification) {
      const fresh = event.notification;
      if (!this.items.some((n) => n.id === fresh.id)) this.items = [fresh, ...this.items];
    } else if (event.kind === "read") {
      const ids = event.ids ? new Set(event.ids) : null;
      this.items = this.items.map((n) => (ids === null || ids.has(n.id) ? { ...n, read: true } : n));
    }
    if (this.isOpen) this.render();
  }

  private async load(before: number | null): Promise<void> {
    try {
      const page = await listNotifications(this.api, before, PAGE);
      this.items = before === null ? page.notifications : [...this.items, ...page.notifications];
      this.nextBefore = page.next_before;
      this.hooks.counted(page.unread);
      this.render();
    } catch (exc) {
      toast(message(exc), "error");
    }
  }

  private render(): void {
    const focused = document.activeElement;
    const focusedId = focused instanceof HTMLElement ? focused.dataset.id : undefined;
    this.list.replaceChildren(...this.items.map((n) => this.row(n)));
    this.empty.hidden = this.items.length > 0;
    this.more.hidden = this.nextBefore === null;
    this.allRead.disabled = !this.items.some((n) => !n.read);
    if (focusedId)
      this.links()
        .find((a) => a.dataset.id === focusedId)
        ?.focus();
  }

  private row(n: NotificationItem): HTMLElement {
    const excerpt = n.detail.excerpt;
    const link = h(
      "a",
      {
        href: target(n),
        "data-link": true,
        class: n.read ? "notif-item" : "notif-item unread",
        "data-id": String(n.id),
      },
      h("span", { class: "notif-dot", "aria-hidden": "true" }),
      h(
        "span",
        { class: "notif-text" },
        h("span", { class: "notif-what" }, describe(n)),
        excerpt ? h("span", { class: "notif-excerpt" }, excerpt) : null,
        h("span", { class: "notif-when" }, n.read ? ago(n.created_at) : `Unread · ${ago(n.created_at)}`),
      ),
    );
    link.addEventListener("click", () => {
      if (!n.read) {
        markRead(this.api, [n.id]).then(
          (done) => this.hooks.counted(done.unread),
          () => undefined,
        );
        this.apply({ kind: "read", unread: 0, ids: [n.id] });
      }
      this.close(false);
    });
    return h("li", {}, link);
  }

  private links(): HTMLAnchorElement[] {
    return [...this.list.querySelectorAll<HTMLAnchorElement>("a.notif-item")];
  }

  private readonly onKey = (ev: KeyboardEvent): void => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      this.close(true);
      return;
    }
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const links = this.links();
    if (!links.length) return;
    ev.preventDefault();
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = ev.key === "ArrowDown" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    links[at === -1 ? 0 : next]?.focus();
  };

  private readonly onOutside = (ev: Event): void => {
    const t = ev.target;
    const bell = this.element.parentElement;
    if (t instanceof Node && bell && !bell.contains(t)) this.close(false);
  };
}
