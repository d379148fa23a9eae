/**
 * A missing (or not shared) document: a clear page with a way back (to the list, or to sign in
 * for a guest), instead of an empty editor that looks editable and a connection indicator that
 * would say "Connecting…" forever.
 */
import { h } from "../dom";

export function unavailableView(
  missing: boolean,
  guest: boolean,
  docId: string,
): { element: HTMLElement; heading: string; back: HTMLElement } {
  const heading = missing ? "Document not found" : "You do not have access to this document";
  const headingId = `unavailable-${docId}`;
  const back = guest
    ? h("a", { href: "/signin", "data-link": true, class: "button primary" }, "Sign in to DocStream")
    : h("a", { href: "/", "data-link": true, class: "button primary" }, "Back to your documents");
  const element = h(
    "section",
    { class: "unavailable", "aria-labelledby": headingId },
    h("h2", { id: headingId }, heading),
    h(
      "p",
      {},
      missing
        ? "This document does not exist, or it was deleted. Check the link, or ask the person who sent it."
        : "It is not shared with you. Ask its owner to share it, or to send you a link.",
    ),
    back,
  );
  return { element, heading, back };
}
