/**
 * "General access": the public link. The owner turns it on and off with a switch, chooses the
 * role it grants and can reset it; everyone gets "Copy link", the dialog's primary action.
 *
 * The public link is `/d/{id}#link={token}` and only the owner sees it; turning it off and on, or
 * resetting it, makes every copy of the old one stop working. Without it (and for everyone but
 * the owner) "Copy link" copies the document's plain address, which opens it for the people
 * listed above.
 */
import { Copy, Globe, Lock } from "lucide";
import type { Api, DocumentInfo, GrantRole, PublicSharing } from "../../api";
import { confirmDialog, h, newId, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { editorPath } from "../router";
import { copyText, errorText } from "./util";

export interface GeneralAccess {
  section: HTMLElement;
  copy: HTMLButtonElement;
  linkOn(): boolean;
  turnOff(): Promise<void>;
}

export function generalAccess(api: Api, doc: DocumentInfo): GeneralAccess {
  const isOwner = doc.role === "owner";
  const plain = `${location.origin}${editorPath(doc.id)}`;
  let link = plain;
  let on = doc.public_sharing_enabled;
  const headingId = newId("general");
  const badge = h("span", { class: "share-general-icon", "aria-hidden": "true" });
  const title = h("span", { class: "person-name" });
  const detail = h("span", { class: "person-detail" });
  const copy = h("button", { type: "button", class: "primary copy-link" }, icon(Copy), h("span", {}, "Copy link"));
  onAsync(copy, "click", async () => {
    if (await copyText(link)) toast(link === plain ? "Link copied." : "Public link copied.");
    else toast(`Copying was refused by the browser. The link: ${link}`, "error");
  });

  const toggle = h("button", {
    type: "button",
    role: "switch",
    class: "share-switch",
    "aria-checked": String(on),
    "aria-label": "Anyone with the link can open this document",
  });
  const role = h(
    "select",
    { id: newId("public-role"), "aria-label": "Role of anyone with the link" },
    h("option", { value: "viewer", selected: doc.public_sharing_role === "viewer" }, "View only"),
    h("option", { value: "editor", selected: doc.public_sharing_role === "editor" }, "Editor"),
  );
  const reset = h("button", { type: "button", class: "link-button" }, "Reset link");
  const linkId = newId("public-link");
  const linkField = h("input", { id: linkId, type: "text", readonly: true, class: "public-link", value: link });
  linkField.addEventListener("focus", () => linkField.select());
  const options = h(
    "div",
    { class: "share-general-options" },
    h("div", { class: "inline" }, h("label", { class: "muted", for: role.id }, "Link access"), role, reset),
    h("label", { class: "visually-hidden", for: linkId }, "Public link"),
    linkField,
  );

  const paint = (sharing?: PublicSharing | null): void => {
    if (sharing !== undefined) link = sharing?.link_path ? `${location.origin}${sharing.link_path}` : plain;
    linkField.value = link;
    badge.replaceChildren(icon(on ? Globe : Lock));
    badge.classList.toggle("on", on);
    title.textContent = on ? "Anyone with the link" : "Only people with access";
    detail.textContent = on
      ? `Anyone who has the link ${role.value === "editor" ? "can edit" : "can view"}, even without an account.`
      : "Only the people listed above can open it.";
    toggle.setAttribute("aria-checked", String(on));
    options.hidden = !on;
  };
  const save = async (enabled: boolean, grant: GrantRole): Promise<void> => {
    const sharing = await api.setPublic(doc.id, enabled, grant);
    on = enabled;
    doc.public_sharing_enabled = enabled;
    doc.public_sharing_role = grant;
    paint(sharing);
  };
  onAsync(toggle, "click", async () => {
    try {
      await save(!on, role.value as GrantRole);
      toast(on ? "Anyone with the link can open this document." : "The public link is off.");
    } catch (exc) {
      toast(errorText(exc), "error");
    }
  });
  onAsync(role, "change", async () => {
    try {
      await save(on, role.value as GrantRole);
    } catch (exc) {
      toast(errorText(exc), "error");
      role.value = doc.public_sharing_role;
    }
  });
  onAsync(reset, "click", async () => {
    const sure = await confirmDialog(
      "Reset the public link?",
      "The current link stops working at once, and people using it are disconnected. Share the new link with whoever should keep access.",
      "Reset link",
    );
    if (!sure) return;
    try {
      paint(await api.resetLink(doc.id));
      toast("The public link was reset; the old one no longer works.");
    } catch (exc) {
      toast(errorText(exc), "error");
    }
  });

  const row = h("div", { class: "share-general-row" }, badge, h("span", { class: "person-text" }, title, detail));
  const section = h(
    "section",
    { class: "share-section", "aria-labelledby": headingId },
    h("h3", { id: headingId }, "General access"),
    row,
  );
  if (isOwner) {
    row.append(toggle);
    section.append(options);
    paint();
    void api.publicLink(doc.id).then(paint, () => undefined);
  } else {
    // Only the owner holds the public link: everyone else copies the plain address.
    paint();
    detail.textContent = on
      ? `The owner shared a public link: anyone who has it ${doc.public_sharing_role === "editor" ? "can edit" : "can view"}. "Copy link" copies the address for the people listed above.`
      : "Only the people listed above can open it; the link is for them.";
  }
  return {
    section,
    copy,
    linkOn: () => on,
    turnOff: () => save(false, role.value as GrantRole),
  };
}
