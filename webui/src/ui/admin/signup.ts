/** What the sign-up page says about the server's sign-up policy, and the address a server
 * invitation link (`/signup?invitation=...`) invites, filled in for the person. */
import type { Api } from "../../api";
import { h } from "../dom";
import { signupInfo, signupInvitation } from "./api";

export function signupNotice(api: Api, email: HTMLInputElement): HTMLElement {
  const note = h("p", { class: "hint signup-policy", role: "status" });
  const token = new URLSearchParams(location.search).get("invitation");
  void (async () => {
    if (token) {
      try {
        const invited = await signupInvitation(api, token);
        email.value = invited.email;
        note.textContent = `You are invited to create an account for ${invited.email}.`;
        return;
      } catch {
        note.textContent = "This invitation link is invalid, expired or already used.";
        return;
      }
    }
    try {
      const info = await signupInfo(api);
      if (info.first_account) note.textContent = "The first account created here administers this server.";
      else if (info.policy === "invite-only")
        note.textContent = "Sign-up on this server is by invitation only: use the address you were invited at.";
      else if (info.policy === "closed")
        note.textContent = "Sign-up on this server is closed: ask an administrator for an account.";
    } catch {
      /* the form still works; the server answers a refusal clearly */
    }
  })();
  return note;
}
