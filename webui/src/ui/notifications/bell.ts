/**
 * The notification bell of the top bars (the list's header and the editor's bar): a button with
 * the unread count that opens the notification panel.
 *
 * The count is read once (`GET /notifications?limit=1`), then kept current by the `GET /events`
 * stream's `event: notification` (a new one, or some marked read in another tab or device), and
 * re-read whenever the stream (re)connects or a document leaves the list (its notifications are
 * hidden once access goes). New arrivals are announced politely to screen readers. The panel is
 * loaded on first use (it is not needed for the first screen).
 */
import { Bell } from "lucide";
import type { Api } from "../../api";
import { h, newId } from "../dom";
import { icon } from "../icons";
import { onListChanged, onStreamEvent } from "../live-events";
import { isNotificationEvent, listNotifications, type NotificationEvent } from "./api";
import { describe } from "./describe";
import type { NotificationPanel } from "./panel";

export interface Bell {
  element: HTMLElement;
  destroy: () => void;
}

export function notificationBell(api: Api): Bell {
  const panelId = newId("notifications");
  const badge = h("span", { class: "notif-badge", "aria-hidden": "true" });
  const button = h(
    "button",
    {
      type: "button",
      class: "icon-only notif-bell",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": panelId,
    },
    icon(Bell),
    badge,
  );
  const announcer = h("span", { class: "visually-hidden", role: "status" });
  const element = h("div", { class: "notif" }, button, announcer);
  let unread = 0;
  let panel: NotificationPanel | null = null;
  let loading: Promise<NotificationPanel> | null = null;

  const show = (count: number): void => {
    unread = Math.max(0, count);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    const label = unread ? `Notifications, ${unread} unread` : "Notifications";
    button.setAttribute("aria-label", label);
    button.title = label;
    element.classList.toggle("has-unread", unread > 0);
  };
  const refetch = (): void => {
    if (!api.user) return;
    listNotifications(api, null, 1).then(
      (page) => show(page.unread),
      () => undefined, // offline: keep the last count
    );
  };
  const received = (event: NotificationEvent): void => {
    show(event.unread);
    if (event.kind === "new" && event.notification) {
      announcer.textContent = `New notification: ${describe(event.notification)}`;
    }
    panel?.apply(event);
  };

  const openPanel = async (): Promise<void> => {
    loading ??= import("./panel").then(({ NotificationPanel: Panel }) => {
      const made = new Panel(api, panelId, {
        closed: (refocus) => {
          button.setAttribute("aria-expanded", "false");
          if (refocus) button.focus();
        },
        counted: show,
      });
      element.append(made.element);
      return made;
    });
    panel = await loading;
    button.setAttribute("aria-expanded", "true");
    await panel.open();
  };
  button.addEventListener("click", () => {
    if (panel?.isOpen) panel.close(false);
    else void openPanel();
  });

  show(0);
  refetch();
  const stops = [
    onStreamEvent(api, "notification", (data) => {
      if (data === null) {
        refetch();
        panel?.refresh();
      } else if (isNotificationEvent(data)) received(data);
    }),
    onListChanged(api, (change) => {
      if (change && (change.kind === "unshared" || change.kind === "deleted")) {
        refetch();
        panel?.refresh();
      }
    }),
  ];
  return {
    element,
    destroy: () => {
      for (const stop of stops) stop();
      panel?.close(false);
    },
  };
}
