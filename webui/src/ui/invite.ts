/**
 * `/invite/{token}`: an invitation link. Signed out, it says what the link is for and asks the
 * visitor to sign in or create an account (coming back here afterwards); signed in, it redeems
 * the link (single use) and opens the document.
 */
import { ApiError, NetworkError, type Api } from "../api";
import { TAGLINE } from "./auth";
import { h } from "./dom";
import { editorPath, navigate } from "./router";

function problem(exc: unknown): string {
  if (exc instanceof NetworkError) return "The server cannot be reached. Check your connection and try again.";
  if (exc instanceof ApiError) return exc.message;
  return "Something went wrong. Please try again.";
}

export function inviteView(api: Api, token: string): HTMLElement {
  const here = `/invite/${encodeURIComponent(token)}`;
  const status = h("p", { role: "status" }, "Opening the invitation…");
  const main = h("main", { class: "auth-page", id: "main" }, h("h1", {}, "You’re invited"), status);
  const describe = async (): Promise<void> => {
    try {
      const info = await api.invitation(token);
      status.replaceChildren(
        `${info.invited_by_name || "Someone"} invited you to ${info.role === "editor" ? "edit" : "view"} `,
        h("strong", {}, `“${info.doc_title}”`),
        ".",
      );
    } catch (exc) {
      status.textContent = problem(exc);
      return;
    }
    if (api.user) return;
    const next = `?next=${encodeURIComponent(here)}`;
    main.append(
      h("p", {}, "Sign in or create an account to accept it."),
      h(
        "p",
        { class: "auth-actions" },
        h("a", { href: `/signin${next}`, "data-link": true, class: "button primary" }, "Sign in"),
        h("a", { href: `/signup${next}`, "data-link": true, class: "button" }, "Create an account"),
      ),
      h("p", { class: "tagline" }, `DocStream: ${TAGLINE.charAt(0).toLowerCase()}${TAGLINE.slice(1)}`),
    );
  };
  const accept = async (): Promise<void> => {
    try {
      const { doc_id } = await api.acceptInvitation(token);
      navigate(editorPath(doc_id), true);
    } catch (exc) {
      status.textContent = problem(exc);
      main.append(h("p", {}, h("a", { href: "/", "data-link": true }, "Go to your documents")));
    }
  };
  void (api.user ? accept() : describe());
  return main;
}
