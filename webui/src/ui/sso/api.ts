/**
 * Single sign-on (docs/sso.md): what the server offers (`GET /auth/providers`), where the button
 * leads (`/auth/oidc/start`, a full page load: the provider's page is another site), and picking up
 * the session a completed sign-in started (`POST /auth/oidc/finish`, once, when the provider's
 * redirect lands on `/signin?sso=1`).
 */
import type { Api } from "../../api";
import type { AuthReply, Providers, User } from "../../protocol/rest";

let offered: Promise<Providers> | null = null;

/** How one may sign in here; asked once per page load (password sign-in if the server is old). */
export function providers(api: Api): Promise<Providers> {
  offered ??= api.get<Providers>("/auth/providers").catch(() => {
    offered = null;
    return { oidc: null, password: true };
  });
  return offered;
}

/** A path on this server (never another site: an open redirect otherwise). */
export function localPath(next: string | null | undefined): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
  for (const ch of next) {
    const code = ch.charCodeAt(0);
    if (code <= 0x20 || code === 0x7f) return null; // no spaces or control characters
  }
  return next;
}

/** The address of the single sign-on button: the server redirects to the provider. */
export function startUrl(next: string | null): string {
  const target = localPath(next);
  return target ? `/auth/oidc/start?next=${encodeURIComponent(target)}` : "/auth/oidc/start";
}

/** Whether this page load is the end of a single sign-on (`/signin?sso=1`). */
export function finishing(): boolean {
  return location.pathname === "/signin" && new URLSearchParams(location.search).get("sso") === "1";
}

/** Take the session the sign-in started: the same reply as a password sign-in. */
export async function finishSignOn(api: Api): Promise<User> {
  const reply = await api.request<AuthReply>("POST", "/auth/oidc/finish", {}, false);
  return api.adopt(reply);
}

/** What went wrong, by the reason the server put in `/signin?error=`: fixed texts only (the
 * address is anyone's to write, so nothing of it is shown as is). */
const REASONS: Record<string, string> = {
  denied: "The sign-in was cancelled at the identity provider.",
  expired: "The sign-in took too long or was started in another browser. Please try again.",
  state: "The sign-in could not be verified. Please try again.",
  nonce: "The sign-in could not be verified. Please try again.",
  token: "The identity provider did not confirm the sign-in. Please try again.",
  id_token: "The identity provider's answer could not be verified. Please contact your administrator.",
  provider: "The identity provider cannot be reached right now. Please try again later.",
  no_email: "The identity provider did not share your email address, which DocStream needs.",
  email_unverified:
    "The identity provider does not confirm that your email address is verified. Verify it there and try again, or sign in with your password.",
  signup_refused: "New accounts cannot be created with this address. Please contact your administrator.",
  account: "Your account could not be signed in. Please try again.",
  disabled: "This account is disabled. Please contact your administrator.",
  finish: "The sign-in could not be completed. Please try again.",
};

export function errorMessage(reason: string | null): string | null {
  if (!reason) return null;
  // Own keys only: `__proto__` and friends are not reasons.
  return (
    (Object.hasOwn(REASONS, reason) ? REASONS[reason] : undefined) ?? "The sign-in did not work. Please try again."
  );
}
