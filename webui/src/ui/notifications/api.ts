/** The REST calls and wire types of notifications (docs/protocol.md: Notifications). */
import type { Api } from "../../api";
import type {
  DigestFrequency,
  NotificationEvent,
  NotificationReadBody,
  NotificationSettings,
  NotificationsPage,
  NotificationsRead,
} from "../../protocol/rest";

export type { DigestFrequency, NotificationEvent, NotificationItem, NotificationSettings } from "../../protocol/rest";

export function listNotifications(api: Api, before: number | null = null, limit = 20): Promise<NotificationsPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before !== null) query.set("before", String(before));
  return api.request("GET", `/notifications?${query.toString()}`);
}

export function markRead(api: Api, ids: number[] | "all"): Promise<NotificationsRead> {
  const body: NotificationReadBody = ids === "all" ? { all: true } : { ids };
  return api.request("POST", "/notifications/read", body);
}

export function getSettings(api: Api): Promise<NotificationSettings> {
  return api.request("GET", "/notifications/settings");
}

export function setDigest(api: Api, digest: DigestFrequency): Promise<NotificationSettings> {
  return api.request("PUT", "/notifications/settings", { digest });
}

/** Whether a stream payload is a notification event (the server is trusted, the parse is not). */
export function isNotificationEvent(data: unknown): data is NotificationEvent {
  if (typeof data !== "object" || data === null) return false;
  const d = data as Record<string, unknown>;
  return (d.kind === "new" || d.kind === "read") && typeof d.unread === "number";
}
