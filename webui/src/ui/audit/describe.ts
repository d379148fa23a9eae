/**
 * Audit entries as sentences people read: "Ada shared it with Bob as editor". In a document's
 * activity the document is "it"; on the administrators' page it is its title as it was then.
 */
import type { AuditEntry } from "../../protocol/rest";

const ROLE: Record<string, string> = { editor: "editor", viewer: "viewer" };
const REASON: Record<string, string> = {
  unknown_account: "no such account",
  wrong_password: "wrong password",
  disabled: "account disabled",
};

/** Who acted: the name they had then, else their address, else "Someone" (or the server's
 * command line, which acts as nobody in particular). */
export function actorOf(e: AuditEntry): string {
  if (e.actor_name || e.actor_email) return e.actor_name || e.actor_email;
  if (e.actor_id) return "A deleted account";
  return e.detail["via"] === "command line" ? "The command line" : "Someone";
}

/** `it`: how the document is named ("it" in its own activity). */
export function sentence(e: AuditEntry, it = e.doc_title ? `“${e.doc_title}”` : "a document"): string {
  const who = actorOf(e);
  const whom = e.subject_name || "someone";
  const d = e.detail;
  const role = ROLE[d.role ?? ""] ?? d.role ?? "";
  switch (e.action) {
    case "document.created":
      return `${who} created ${it}`;
    case "document.renamed":
      return `${who} renamed ${it} to “${d.title ?? ""}”`;
    case "document.shared":
      return `${who} shared ${it} with ${whom} as ${role}`;
    case "document.role_changed":
      return `${who} made ${whom} ${role === "editor" ? "an editor" : "a viewer"} of ${it}`;
    case "document.access_removed":
      return `${who} removed ${whom}’s access to ${it}`;
    case "document.invited":
      return `${who} invited ${d.email ?? "someone"} to ${it} as ${role}`;
    case "document.invitation_withdrawn":
      return `${who} withdrew the invitation of ${d.email || "someone"} to ${it}`;
    case "document.public_link_changed":
      return d.enabled === "true"
        ? `${who} turned on the public link of ${it} (anyone with it can ${role === "editor" ? "edit" : "view"})`
        : `${who} turned off the public link of ${it}`;
    case "document.public_link_reset":
      return `${who} replaced the public link of ${it}`;
    case "document.version_restored":
      return `${who} restored version ${d.version ?? "?"} of ${it}`;
    case "auth.sign_in":
      return `${who} signed in`;
    case "auth.sign_in_failed":
      return `Failed sign-in as ${d.email ?? "?"} (${REASON[d.reason ?? ""] ?? d.reason ?? "refused"})`;
    case "auth.signed_out_everywhere":
      return `${who} signed out everywhere`;
    default: {
      const extra = Object.entries(d)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
      const on = e.doc_id ? ` on ${it}` : "";
      const to = e.subject_name ? ` (${e.subject_name})` : "";
      return `${who}: ${e.action}${to}${on}${extra ? ` — ${extra}` : ""}`;
    }
  }
}

/** The kinds an administrator filters by (action prefixes). */
export const ACTION_KINDS: [string, string][] = [
  ["", "Everything"],
  ["auth.", "Sign-ins and sessions"],
  ["auth.sign_in_failed", "Failed sign-ins"],
  ["document.", "Documents"],
  ["document.shared", "Sharing"],
  ["document.public_link", "Public links"],
  ["admin.", "Administration"],
];
