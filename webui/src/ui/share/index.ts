/**
 * The share dialog: add people (the people picker, or any address), who has access and who is
 * invited, and "General access" (the public link) with "Copy link" as its primary action.
 *
 * Addresses are shown only when the server sends them (to the owner and editors); everyone else
 * sees names. Sharing with an address that has no account creates an invitation whose single-use
 * link is shown here (the server also e-mails it when SMTP is configured). On a phone the dialog
 * is a full-screen sheet.
 *
 * Entry point: `openShareDialog(api, doc, myId)` (the editor's Share button).
 */
import type { Api, Collaborator, DocumentInfo, Person, ShareRole } from "../../api";
import { UserPlus, Link } from "lucide";
import { h, modal, newId, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { knownInviteLinks, renderAccess, type AccessContext } from "./access";
import { generalAccess } from "./general";
import { peoplePicker } from "./picker";
import { copyButton, errorText } from "./util";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function openShareDialog(api: Api, doc: DocumentInfo, myId: string): void {
  const isOwner = doc.role === "owner";
  const canShare = doc.role === "owner" || doc.role === "editor";
  let current: Collaborator[] = [];
  let home: HTMLInputElement | null = null; // where the focus goes back to (the picker)
  const peopleId = newId("with-access");
  const invitedId = newId("invited");
  const people = h("ul", { class: "people", "aria-labelledby": peopleId });
  const invitations = h("ul", { class: "people", "aria-labelledby": invitedId });
  const invitedSection = h(
    "section",
    { class: "share-section", hidden: true, "aria-labelledby": invitedId },
    h("h3", { id: invitedId }, "Pending invitations"),
    invitations,
  );
  const result = h("div", { class: "invite-result", "aria-live": "polite" });
  const general = generalAccess(api, doc);

  const load = async (): Promise<void> => {
    try {
      current = await api.collaborators(doc.id);
    } catch (exc) {
      people.replaceChildren(h("li", { class: "field-error" }, errorText(exc)));
      return;
    }
    renderAccess(ctx, current, people, invitations);
  };
  const ctx: AccessContext = {
    api,
    docId: doc.id,
    myId,
    isOwner,
    linkOn: () => general.linkOn(),
    turnLinkOff: () => general.turnOff(),
    reload: () => void load(),
    focusHome: () => (home ?? general.copy).focus(),
    handedOver: () => dialog.close(), // the dialog was the owner's: open it again as an editor
  };

  const body: Node[] = [];
  if (canShare) {
    const roleId = newId("role");
    const role = h(
      "select",
      { id: roleId, "aria-label": "Role of the people you add" },
      h("option", { value: "viewer" }, "View only"),
      h("option", { value: "commenter" }, "Commenter"),
      isOwner ? h("option", { value: "editor" }, "Editor") : null,
    );
    const add = h("button", { type: "submit" }, icon(UserPlus), h("span", {}, "Invite"));
    const shareWith = async (person: Person): Promise<void> => {
      try {
        await api.shareWith(doc.id, person.id, role.value as ShareRole);
        result.replaceChildren();
        toast(`Shared with ${person.name}.`);
        await load();
      } catch (exc) {
        picker.error.textContent = errorText(exc);
      }
    };
    const picker = peoplePicker(
      api,
      (id) => current.some((c) => c.user_id === id),
      (p) => void shareWith(p),
    );
    const form = h(
      "form",
      { class: "share-form", "aria-label": "Add people", novalidate: true },
      picker.element,
      h("div", { class: "share-form-controls" }, role, add),
    );
    onAsync(form, "submit", async (ev) => {
      ev.preventDefault();
      picker.close();
      picker.error.textContent = "";
      const value = picker.input.value.trim();
      if (!EMAIL.test(value)) {
        picker.error.textContent = value
          ? "Pick someone from the list, or type a whole e-mail address (name@example.com)."
          : "Type a name or an e-mail address.";
        picker.input.focus();
        return;
      }
      add.disabled = true;
      try {
        const reply = await api.share(doc.id, value, role.value as ShareRole);
        if (reply.invite_url && reply.invitation_id) {
          knownInviteLinks.set(reply.invitation_id, reply.invite_url);
          showInvitation(reply);
          toast(`${value} has no account yet: send them the invitation link.`);
        } else {
          result.replaceChildren();
          toast(`Shared with ${value}.`);
        }
        picker.input.value = "";
        await load();
      } catch (exc) {
        picker.error.textContent = errorText(exc);
      } finally {
        add.disabled = false;
      }
    });
    home = picker.input;
    body.push(form, result);
    queueMicrotask(() => picker.input.focus());
  }

  const showInvitation = (reply: Collaborator): void => {
    const url = reply.invite_url ?? "";
    const until = reply.expires_at ? new Date(reply.expires_at).toLocaleDateString() : "";
    const inputId = newId("invite");
    const input = h("input", { id: inputId, type: "text", readonly: true, value: url, "data-invite-url": true });
    result.replaceChildren(
      h(
        "div",
        { class: "field invite-box" },
        h("label", { for: inputId }, `Invitation link for ${reply.email}`),
        h(
          "div",
          { class: "inline" },
          input,
          copyButton(url, "Copy invitation link", icon(Link), "Invitation link copied."),
        ),
        h(
          "p",
          { class: "hint" },
          `${reply.emailed ? "It was also sent by e-mail. " : "Send it to them yourself. "}` +
            `It works once${until ? ` and expires on ${until}` : ""}; whoever opens it signed in gets access.`,
        ),
      ),
    );
  };

  body.push(
    h(
      "section",
      { class: "share-section", "aria-labelledby": peopleId },
      h("h3", { id: peopleId }, "People with access"),
      people,
    ),
    invitedSection,
    general.section,
    h("div", { class: "share-footer" }, general.copy),
  );
  const dialog = modal(`Share “${doc.title}”`, body, { wide: true });
  dialog.classList.add("share-dialog");
  void load();
  if (!canShare) general.copy.focus();
}
