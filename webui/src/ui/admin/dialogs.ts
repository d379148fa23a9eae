/**
 * The administrator's dialogs (delete an account, a password-reset link, a new invitation's link)
 * and the documents choice that deleting an account asks for, shared with "Delete account…" in
 * the account dialog: hand the documents over to another account, or delete them.
 */
import { Copy } from "lucide";
import { ApiError, type Api } from "../../api";
import type { AdminUser, DeleteUserBody } from "../../protocol/rest";
import { field, h, modal, newId, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { deleteUser, passwordResetLink } from "./api";

export function message(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

/** Radio buttons: transfer the documents (to the address typed) or delete them. */
export function documentsChoice(owner: string): {
  element: HTMLElement;
  value: () => DeleteUserBody | null;
  error: HTMLElement;
} {
  const name = newId("docs");
  const transfer = h("input", { type: "radio", name, value: "transfer", checked: true });
  const remove = h("input", { type: "radio", name, value: "delete" });
  const to = field("New owner's e-mail address", { type: "email", autocomplete: "off", maxlength: 320 });
  const legend = h("legend", {}, `What happens to the documents ${owner} own${owner === "you" ? "" : "s"}?`);
  const element = h(
    "fieldset",
    { class: "choice-group" },
    legend,
    h("label", { class: "choice" }, transfer, h("span", {}, "Hand them over to another account")),
    to.wrap,
    h("label", { class: "choice" }, remove, h("span", {}, "Delete them, with their history, for everyone")),
  );
  const sync = (): void => {
    to.input.disabled = !transfer.checked;
  };
  transfer.addEventListener("change", sync);
  remove.addEventListener("change", sync);
  const value = (): DeleteUserBody | null => {
    to.error.textContent = "";
    if (remove.checked) return { documents: "delete" };
    const address = to.input.value.trim();
    if (!address.includes("@")) {
      to.error.textContent = "Enter the e-mail address of the account that gets the documents.";
      to.input.focus();
      return null;
    }
    return { documents: "transfer", transfer_to: address };
  };
  return { element, value, error: to.error };
}

/** Delete another person's account, after typing their address to confirm. */
export function deleteUserDialog(api: Api, user: AdminUser, done: () => void): void {
  const choice = documentsChoice(user.name || user.email);
  const confirm = field(`Type ${user.email} to confirm`, { type: "text", autocomplete: "off", maxlength: 320 });
  const submit = h("button", { type: "submit", class: "danger" }, "Delete account");
  const cancel = h("button", { type: "button" }, "Cancel");
  const formError = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "stack", novalidate: true, "aria-label": "Delete account" },
    h(
      "p",
      {},
      `${user.name} (${user.email}) is signed out everywhere and the account is deleted. This cannot be undone.`,
    ),
    choice.element,
    confirm.wrap,
    formError,
    h("div", { class: "actions" }, cancel, submit),
  );
  const dialog = modal("Delete account", [form]);
  cancel.addEventListener("click", () => dialog.close());
  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    confirm.error.textContent = "";
    formError.textContent = "";
    const body = choice.value();
    if (!body) return;
    if (confirm.input.value.trim().toLowerCase() !== user.email) {
      confirm.error.textContent = `Type ${user.email} exactly.`;
      confirm.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await deleteUser(api, user.id, body);
      toast(`The account of ${user.email} was deleted.`);
      dialog.close();
      done();
    } catch (exc) {
      formError.textContent = message(exc);
      submit.disabled = false;
    }
  });
}

/** A link shown once, with a copy button. */
export function linkDialog(title: string, text: string, link: string, expires: string | null): void {
  const input = h("input", { type: "text", readonly: true, value: link, "aria-label": "Link", class: "link-field" });
  const copy = h("button", { type: "button", class: "primary" }, icon(Copy), "Copy link");
  copy.addEventListener("click", () => {
    input.select();
    navigator.clipboard?.writeText(link).then(
      () => toast("Link copied."),
      () => toast("Select the link and copy it.", "error"),
    );
  });
  const when = expires
    ? h("p", { class: "hint" }, `It works once, until ${new Date(expires).toLocaleString()}.`)
    : null;
  modal(title, [h("p", {}, text), h("div", { class: "link-row" }, input, copy), ...(when ? [when] : [])]);
  input.select();
}

/** Ask the server for a password-reset link for this person, and show it. */
export async function resetPasswordLink(api: Api, user: AdminUser): Promise<void> {
  try {
    const reply = await passwordResetLink(api, user.id);
    linkDialog(
      "Password reset link",
      `Send this link to ${user.email}: it lets them choose a new password. It is shown only now.`,
      reply.link,
      reply.expires_at,
    );
  } catch (exc) {
    toast(message(exc), "error");
  }
}
