/** "Delete account…" of the account dialog: the current password (an account made by single
 * sign-on, which has none, types its e-mail address), the documents choice and a typed
 * confirmation; then this browser is signed out. */
import type { Api } from "../../api";
import { field, h, modal, onAsync, toast } from "../dom";
import { deleteMyAccount } from "./api";
import { documentsChoice, message } from "./dialogs";

const CONFIRM = "delete my account";

export function deleteAccountDialog(api: Api, signedOut: () => void): void {
  const sso = api.user?.has_password === false;
  const password = sso
    ? field("Your e-mail address", { type: "email", autocomplete: "off", required: true, maxlength: 320 })
    : field("Current password", {
        type: "password",
        autocomplete: "current-password",
        required: true,
        maxlength: 1024,
      });
  const choice = documentsChoice("you");
  const confirm = field(`Type “${CONFIRM}” to confirm`, { type: "text", autocomplete: "off", maxlength: 100 });
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "danger" }, "Delete my account");
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h(
    "form",
    { class: "stack", novalidate: true, "aria-label": "Delete account" },
    h("p", {}, "Your account is deleted and you are signed out everywhere. This cannot be undone."),
    password.wrap,
    choice.element,
    confirm.wrap,
    formError,
    h("div", { class: "actions" }, cancel, submit),
  );
  const dialog = modal("Delete your account", [form]);
  cancel.addEventListener("click", () => dialog.close());
  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    for (const f of [password, confirm]) f.error.textContent = "";
    formError.textContent = "";
    if (!password.input.value) {
      password.error.textContent = sso ? "Enter your e-mail address." : "Enter your current password.";
      password.input.focus();
      return;
    }
    const body = choice.value();
    if (!body) return;
    if (confirm.input.value.trim().toLowerCase() !== CONFIRM) {
      confirm.error.textContent = `Type “${CONFIRM}” exactly.`;
      confirm.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const proof = sso ? { confirm_email: password.input.value } : { password: password.input.value };
      await deleteMyAccount(api, { ...proof, ...body });
      dialog.close();
      await api.logout().catch(() => undefined);
      toast("Your account was deleted.");
      signedOut();
    } catch (exc) {
      const said = message(exc);
      (/password|e-mail address/.test(said) ? password.error : formError).textContent = said;
      submit.disabled = false;
    }
  });
}
