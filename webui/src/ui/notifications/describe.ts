/** What a notification says, and where it leads (the document, at the mention or the comment). */
import type { NotificationItem } from "../../protocol/rest";

export function describe(n: NotificationItem): string {
  const who = n.actor_name || "Someone";
  const where = n.doc_title ? `“${n.doc_title}”` : "a document";
  switch (n.kind) {
    case "mention":
      return `${who} mentioned you in ${where}`;
    case "comment_mention":
      return `${who} mentioned you in a comment on ${where}`;
    case "reply":
      return `${who} replied in a thread on ${where}`;
    case "share":
      return `${who} shared ${where} with you${n.detail.role ? ` (${n.detail.role})` : ""}`;
  }
}

/** The editor's address, with the place to open at: `#at=<offset>` or `#comment=<id>`. */
export function target(n: NotificationItem): string {
  const base = `/d/${encodeURIComponent(n.doc_id)}`;
  const at = n.detail.position;
  if (n.kind === "mention" && at && /^\d+$/.test(at)) return `${base}#at=${at}`;
  const comment = n.detail.comment_id;
  if (comment) return `${base}#comment=${encodeURIComponent(comment)}`;
  return base;
}
