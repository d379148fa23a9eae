/**
 * The share dialog's two lists: "People with access" (avatar, name, role chip; the owner changes
 * roles and removes people) and "Pending invitations" (address, role, copy the invitation link
 * or a renewed one, withdraw).
 *
 * Removing someone while the public link is on does not shut them out: they can still open the
 * document through the link. The confirmation says so and offers to turn the link off too.
 */
import { displayName, type Api, type Collaborator, type GrantRole, type ShareRole } from "../../api";
import { h, modal, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { Link, Trash2 } from "lucide";
import { avatar } from "./picker";
import { copyButton, copyText, errorText } from "./util";
import { MAKE_OWNER, makeOwner } from "./transfer";

const ROLE_LABEL: Record<string, string> = {
  owner: "Owner",
  editor: "Editor",
  commenter: "Commenter",
  viewer: "View only",
};

/** What the lists need from the dialog around them. */
export interface AccessContext {
  api: Api;
  docId: string;
  myId: string;
  isOwner: boolean;
  /** Whether the public link is on right now. */
  linkOn(): boolean;
  /** Turn the public link off (the General access section updates itself). */
  turnLinkOff(): Promise<void>;
  /** Reload both lists. */
  reload(): void;
  /** Put the focus back somewhere sensible after the focused row went away. */
  focusHome(): void;
  /** The document was handed over to someone else (the caller is no longer its owner). */
  handedOver(): void;
}

/** Invitation links are shown once, when made: kept here while the page lives, by invitation. */
export const knownInviteLinks = new Map<string, string>();

function chip(role: string): HTMLElement {
  return h("span", { class: `role-chip share-role role-${role}` }, ROLE_LABEL[role] ?? role);
}

function roleSelect(label: string, value: string, canOwn: boolean): HTMLSelectElement {
  const sel = h("select", { "aria-label": label });
  sel.append(
    h("option", { value: "editor", selected: value === "editor" }, "Editor"),
    h("option", { value: "commenter", selected: value === "commenter" }, "Commenter"),
    h("option", { value: "viewer", selected: value === "viewer" }, "View only"),
  );
  if (canOwn) sel.append(h("option", { value: MAKE_OWNER }, "Make owner…"));
  return sel;
}

/**
 * Ask how to remove someone. Resolves "remove", "remove-and-unlink" or null (cancelled). With the
 * link on, the dialog says the person can still open the document through it.
 */
function confirmRemoval(name: string, linkOn: boolean): Promise<"remove" | "remove-and-unlink" | null> {
  return new Promise((resolve) => {
    let answer: "remove" | "remove-and-unlink" | null = null;
    const cancel = h("button", { type: "button" }, "Cancel");
    const remove = h("button", { type: "button", class: linkOn ? "" : "danger" }, linkOn ? "Remove only" : "Remove");
    const buttons: HTMLElement[] = [cancel, remove];
    const text: Node[] = [h("p", {}, `${name} will no longer have access of their own to this document.`)];
    if (linkOn) {
      const both = h("button", { type: "button", class: "danger" }, "Remove and turn the link off");
      both.addEventListener("click", () => {
        answer = "remove-and-unlink";
        dialog.close();
      });
      buttons.push(both);
      text.push(
        h(
          "p",
          { class: "share-warning", role: "note" },
          `${name} can still open this document through the public link. Turn the link off too to shut them out (everyone else using the link loses it as well).`,
        ),
      );
    }
    const dialog = modal(`Remove ${name}?`, [...text, h("div", { class: "actions" }, ...buttons)], {
      onClose: () => resolve(answer),
    });
    dialog.classList.add("share-confirm");
    remove.addEventListener("click", () => {
      answer = "remove";
      dialog.close();
    });
    cancel.addEventListener("click", () => dialog.close());
    cancel.focus();
  });
}

function personRow(ctx: AccessContext, c: Collaborator): HTMLElement {
  const userId = c.user_id ?? "";
  const name = displayName(c);
  const me = userId === ctx.myId;
  const who = h(
    "span",
    { class: "person" },
    avatar(name),
    h(
      "span",
      { class: "person-text" },
      h("span", { class: "person-name" }, name, me ? h("span", { class: "muted" }, " (you)") : null),
      c.email && c.email !== name ? h("span", { class: "person-detail", title: c.email }, c.email) : null,
    ),
  );
  const controls = h("span", { class: "person-actions" });
  if (ctx.isOwner && c.role !== "owner" && !me) {
    const sel = roleSelect(`Role of ${name}`, c.role, !c.pending);
    onAsync(sel, "change", async () => {
      if (sel.value === MAKE_OWNER) {
        if (await makeOwner(ctx.api, ctx.docId, userId, name)) ctx.handedOver();
        else {
          sel.value = c.role;
          sel.focus();
        }
        return;
      }
      try {
        await ctx.api.shareWith(ctx.docId, userId, sel.value as ShareRole);
        const can = { editor: "can now edit", commenter: "can now comment" }[sel.value] ?? "can now only view";
        toast(`${name} ${can}.`);
      } catch (exc) {
        toast(errorText(exc), "error");
        sel.value = c.role;
      }
    });
    const remove = h(
      "button",
      { type: "button", class: "icon-only danger", "aria-label": `Remove ${name}`, title: `Remove ${name}` },
      icon(Trash2),
    );
    onAsync(remove, "click", async () => {
      const linkOn = ctx.linkOn();
      const choice = await confirmRemoval(name, linkOn);
      if (!choice) return remove.focus();
      try {
        await ctx.api.revoke(ctx.docId, userId);
        if (choice === "remove-and-unlink") {
          await ctx.turnLinkOff();
          toast(`${name} no longer has access, and the public link is off.`);
        } else if (linkOn) {
          toast(`${name} was removed but can still open the document through the public link.`);
        } else toast(`${name} no longer has access.`);
      } catch (exc) {
        toast(errorText(exc), "error");
      }
      ctx.reload();
      ctx.focusHome();
    });
    controls.append(sel, remove);
  } else controls.append(chip(c.role));
  return h(
    "li",
    { class: "person-row", "data-user": userId, ...(c.email ? { "data-email": c.email } : {}) },
    who,
    controls,
  );
}

/**
 * An invitation's link is shown once, when made, and the server keeps only its hash. Without it,
 * "Copy a new link" renews the invitation (sharing with the address again): the new link is
 * copied and the earlier one stops working.
 */
function renewButton(ctx: AccessContext, email: string, role: GrantRole, invitationId: string): HTMLButtonElement {
  const label = `Copy a new invitation link for ${email}`;
  const button = h("button", { type: "button", class: "icon-only", "aria-label": label, title: label }, icon(Link));
  onAsync(button, "click", async () => {
    try {
      const renewed = await ctx.api.share(ctx.docId, email, role);
      knownInviteLinks.delete(invitationId);
      if (!renewed.invite_url || !renewed.invitation_id) {
        // The address has an account by now: sharing with it again granted access at once.
        toast(`${email} has an account now and was given access.`);
      } else {
        knownInviteLinks.set(renewed.invitation_id, renewed.invite_url);
        if (await copyText(renewed.invite_url))
          toast(`A new invitation link for ${email} was copied; the earlier link no longer works.`);
        else toast(`Copying was refused by the browser. The new link: ${renewed.invite_url}`, "error");
      }
    } catch (exc) {
      toast(errorText(exc), "error");
    }
    ctx.reload();
  });
  return button;
}

function invitationRow(ctx: AccessContext, c: Collaborator): HTMLElement {
  const email = c.email ?? "";
  const invitationId = c.invitation_id ?? "";
  const until = c.expires_at ? new Date(c.expires_at).toLocaleDateString() : "";
  const who = h(
    "span",
    { class: "person" },
    h("span", { class: "share-avatar share-avatar-pending", "aria-hidden": "true" }, "@"),
    h(
      "span",
      { class: "person-text" },
      h("span", { class: "person-name", title: email }, email),
      h("span", { class: "person-detail" }, until ? `Invited, until ${until}` : "Invited"),
    ),
  );
  const controls = h("span", { class: "person-actions" }, chip(c.role));
  const mayRenew = ctx.isOwner || c.role === "viewer";
  const url = knownInviteLinks.get(invitationId);
  if (url)
    controls.append(copyButton(url, `Copy the invitation link of ${email}`, icon(Link), "Invitation link copied."));
  else if (mayRenew) controls.append(renewButton(ctx, email, c.role as GrantRole, invitationId));
  if (mayRenew) {
    const withdraw = h(
      "button",
      {
        type: "button",
        class: "icon-only danger",
        "aria-label": `Withdraw the invitation of ${email}`,
        title: "Withdraw",
      },
      icon(Trash2),
    );
    onAsync(withdraw, "click", async () => {
      try {
        await ctx.api.withdrawInvitation(ctx.docId, invitationId);
        knownInviteLinks.delete(invitationId);
        toast(`The invitation of ${email} was withdrawn.`);
      } catch (exc) {
        toast(errorText(exc), "error");
      }
      ctx.reload();
      ctx.focusHome();
    });
    controls.append(withdraw);
  }
  return h("li", { class: "person-row", "data-email": email, "data-invitation": invitationId }, who, controls);
}

/** Fill the two lists from the collaborators reply; the invitations list hides when empty. */
export function renderAccess(
  ctx: AccessContext,
  list: Collaborator[],
  people: HTMLElement,
  invitations: HTMLElement,
): void {
  const pending = list.filter((c) => c.user_id === null && c.invitation_id);
  people.replaceChildren(...list.filter((c) => c.user_id !== null).map((c) => personRow(ctx, c)));
  invitations.replaceChildren(...pending.map((c) => invitationRow(ctx, c)));
  const section = invitations.closest("section");
  if (section instanceof HTMLElement) section.hidden = pending.length === 0;
}
