/**
 * The share dialog: invite by email with a role, list collaborators, change or revoke roles
 * (owner), the public link on/off with its role, copy and reset (owner).
 *
 * Addresses are shown only when the server sends them (to the owner and editors); everyone else
 * sees names. The public link is `/d/{id}#link={token}`: only the owner sees it; resetting it (or
 * turning it off and on) makes every copy of the old one stop working.
 *
 * Sharing with an address that has no account creates an invitation: its single-use link is
 * shown here once, with a copy button, for the inviter to send (the server also e-mails it when
 * SMTP is configured). Pending invitations are listed with their expiry and can be withdrawn.
 */
import { ApiError, displayName, type Api, type Collaborator, type DocumentInfo, type PublicSharing } from "../api";
import { confirmDialog, field, h, modal, newId, toast } from "./dom";
import { editorPath } from "./router";

function msg(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

function roleSelect(label: string, value: string, options: string[]): HTMLSelectElement {
  const sel = h("select", { "aria-label": label });
  for (const o of options) sel.append(h("option", { value: o, selected: o === value }, o === "editor" ? "Can edit" : "Can view"));
  return sel;
}

export function openShareDialog(api: Api, doc: DocumentInfo, myId: string): void {
  const isOwner = doc.role === "owner";
  const email = field("Email address", { type: "email", required: true, autocomplete: "off", maxlength: 320 });
  const roleId = newId("role");
  const role = h("select", { id: roleId }, h("option", { value: "viewer" }, "Can view"), isOwner ? h("option", { value: "editor" }, "Can edit") : null);
  const invite = h("button", { type: "submit", class: "primary" }, "Invite");
  const form = h(
    "form",
    { class: "share-form", "aria-label": "Invite by email", novalidate: true },
    email.wrap,
    h("div", { class: "field" }, h("label", { for: roleId }, "Role"), role),
    invite,
  );
  const people = h("ul", { class: "people", "aria-label": "People with access" });
  const invited = h("div", { class: "invite-result", "aria-live": "polite" });

  const copyButton = (text: string, input: HTMLInputElement, label: string): HTMLButtonElement => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        input.select();
        document.execCommand("copy");
      }
      toast("Link copied.");
    });
    return button;
  };

  const showInvitation = (reply: Collaborator): void => {
    const url = reply.invite_url ?? "";
    const inputId = newId("invite");
    const input = h("input", { id: inputId, type: "text", readonly: true, value: url, "data-invite-url": true });
    const until = reply.expires_at ? new Date(reply.expires_at).toLocaleDateString() : "";
    invited.replaceChildren(
      h(
        "div",
        { class: "field link-row" },
        h("label", { for: inputId }, `Invitation link for ${reply.email}`),
        h("div", { class: "inline" }, input, copyButton(url, input, "Copy invitation link")),
        h(
          "p",
          { class: "hint" },
          `${reply.emailed ? "It was also sent by e-mail. " : "Send it to them yourself. "}` +
            `It works once${until ? ` and expires on ${until}` : ""}; whoever opens it signed in gets access.`,
        ),
      ),
    );
  };

  const load = async (): Promise<void> => {
    let list: Collaborator[];
    try {
      list = await api.collaborators(doc.id);
    } catch (exc) {
      people.replaceChildren(h("li", { class: "field-error" }, msg(exc)));
      return;
    }
    people.replaceChildren();
    for (const c of list) {
      if (c.user_id === null && c.invitation_id) {
        const email = c.email ?? "";
        const until = c.expires_at ? new Date(c.expires_at).toLocaleDateString() : "";
        const who = h("span", { class: "person" }, h("strong", {}, email), h("span", { class: "muted" }, ` (invited${until ? `, until ${until}` : ""})`));
        const controls: Node[] = [h("span", { class: `role-badge role-${c.role}` }, c.role)];
        if (isOwner || c.role === "viewer") {
          const withdraw = h("button", { type: "button", class: "danger", "aria-label": `Withdraw the invitation of ${email}` }, "Withdraw");
          const invitationId = c.invitation_id;
          withdraw.addEventListener("click", async () => {
            try {
              await api.withdrawInvitation(doc.id, invitationId);
              toast(`The invitation of ${email} was withdrawn.`);
              void load();
            } catch (exc) {
              toast(msg(exc), "error");
            }
          });
          controls.push(withdraw);
        }
        people.append(h("li", { "data-email": email, "data-invitation": c.invitation_id }, who, h("span", { class: "person-actions" }, ...controls)));
        continue;
      }
      const userId = c.user_id ?? "";
      const label = displayName(c);
      const who = h(
        "span",
        { class: "person" },
        h("strong", {}, label),
        c.email && c.email !== label ? " " : null,
        c.email && c.email !== label ? h("span", { class: "muted" }, c.email) : null,
        c.pending ? h("span", { class: "muted" }, " (invited)") : null,
      );
      let control: Node;
      if (c.role === "owner") control = h("span", { class: "role-badge role-owner" }, "owner");
      else if (isOwner && userId !== myId && c.email) {
        const address = c.email;
        const sel = roleSelect(`Role of ${label}`, c.role, ["editor", "viewer"]);
        sel.addEventListener("change", async () => {
          try {
            await api.share(doc.id, address, sel.value as "editor" | "viewer");
            toast(`${label} ${sel.value === "editor" ? "can now edit" : "can now only view"}.`);
          } catch (exc) {
            toast(msg(exc), "error");
            sel.value = c.role;
          }
        });
        const revoke = h("button", { type: "button", class: "danger", "aria-label": `Remove access of ${label}` }, "Remove");
        revoke.addEventListener("click", async () => {
          try {
            await api.revoke(doc.id, userId);
            toast(`${label} no longer has access.`);
            void load();
          } catch (exc) {
            toast(msg(exc), "error");
          }
        });
        control = h("span", { class: "person-actions" }, sel, revoke);
      } else control = h("span", { class: `role-badge role-${c.role}` }, c.role);
      people.append(h("li", c.email ? { "data-email": c.email } : {}, who, control));
    }
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    email.error.textContent = "";
    const value = email.input.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
      email.error.textContent = "Please enter an email address (name@example.com).";
      email.input.focus();
      return;
    }
    invite.disabled = true;
    try {
      const reply = await api.share(doc.id, value, role.value as "editor" | "viewer");
      if (reply.invite_url) {
        showInvitation(reply);
        toast(`${value} has no account yet: send them the invitation link.`);
      } else {
        invited.replaceChildren();
        toast(`Shared with ${value}.`);
      }
      email.input.value = "";
      await load();
    } catch (exc) {
      email.error.textContent = msg(exc);
    } finally {
      invite.disabled = false;
    }
  });

  const body: Node[] = [];
  if (doc.role !== "viewer") body.push(form, invited);
  body.push(h("h3", {}, "People with access"), people);

  // The plain address opens the document for the people listed above; the public link (owner
  // only) carries its secret token and opens it for anyone who has it.
  const plainLink = `${location.origin}${editorPath(doc.id)}`;
  let link = plainLink;
  const linkId = newId("link");
  const linkLabel = h("label", { for: linkId }, "Link for people with access");
  const linkInput = h("input", { id: linkId, type: "text", readonly: true, value: link });
  const copy = h("button", { type: "button" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      linkInput.select();
      document.execCommand("copy");
    }
    toast("Link copied.");
  });
  const reset = h("button", { type: "button", hidden: true }, "Reset link");
  const showLink = (sharing: PublicSharing | null): void => {
    link = sharing?.link_path ? `${location.origin}${sharing.link_path}` : plainLink;
    linkInput.value = link;
    linkLabel.textContent = sharing?.link_path ? "Public link (anyone who has it can open the document)" : "Link for people with access";
    reset.hidden = !sharing?.link_path;
  };
  if (isOwner) {
    const toggleId = newId("public");
    const toggle = h("input", { id: toggleId, type: "checkbox", checked: doc.public_sharing_enabled });
    const pubRole = roleSelect("Role of anyone with the link", doc.public_sharing_role, ["viewer", "editor"]);
    const save = async (): Promise<void> => {
      try {
        const sharing = await api.setPublic(doc.id, toggle.checked, pubRole.value as "editor" | "viewer");
        doc.public_sharing_enabled = toggle.checked;
        doc.public_sharing_role = pubRole.value as "editor" | "viewer";
        showLink(sharing);
        toast(toggle.checked ? "Anyone with the link can open this document." : "The public link is off.");
      } catch (exc) {
        toast(msg(exc), "error");
      }
    };
    toggle.addEventListener("change", () => void save());
    pubRole.addEventListener("change", () => void save());
    reset.addEventListener("click", async () => {
      if (!(await confirmDialog("Reset the public link?", "The current link stops working at once, and people using it are disconnected. Share the new link with whoever should keep access.", "Reset link"))) return;
      try {
        showLink(await api.resetLink(doc.id));
        toast("The public link was reset; the old one no longer works.");
      } catch (exc) {
        toast(msg(exc), "error");
      }
    });
    body.push(
      h("h3", {}, "Public link"),
      h("div", { class: "public-row" }, toggle, h("label", { for: toggleId }, "Anyone with the link"), pubRole),
    );
    void api.publicLink(doc.id).then(showLink, () => undefined);
  }
  body.push(h("div", { class: "field link-row" }, linkLabel, h("div", { class: "inline" }, linkInput, copy, reset)));
  modal(`Share “${doc.title}”`, body, { wide: true });
  void load();
  if (doc.role !== "viewer") email.input.focus();
}
