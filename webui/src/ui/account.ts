/** The account dialog: change the password, sign out everywhere, delete the account. */
import { ApiError, type Api } from "../api";
import { deleteAccountDialog } from "./admin/account";
import { confirmDialog, field, h, onAsync, modal, toast } from "./dom";
import { digestSetting } from "./notifications/digest";
import { providers } from "./sso/api";

function msg(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

export function accountDialog(api: Api, signedOut: () => void): void {
  const current = field("Current password", {
    type: "password",
    autocomplete: "current-password",
    required: true,
    maxlength: 1024,
  });
  const next = field("New password", {
    type: "password",
    autocomplete: "new-password",
    required: true,
    maxlength: 1024,
  });
  const save = h("button", { type: "submit", class: "primary" }, "Change password");
  const form = h(
    "form",
    { class: "stack", "aria-label": "Change password", novalidate: true },
    current.wrap,
    next.wrap,
    h("p", { class: "hint" }, "At least 8 characters. Your other devices and browsers are signed out."),
    save,
  );
  const everywhere = h("button", { type: "button", class: "danger" }, "Sign out everywhere");
  const passwordHeading = h("h3", {}, "Password");
  // An account made by single sign-on has no password to change, nor has anyone on a server that
  // signs in only with single sign-on.
  passwordHeading.hidden = form.hidden = api.user?.has_password === false;
  void providers(api).then((offer) => {
    if (!offer.password) passwordHeading.hidden = form.hidden = true;
  });
  const remove = h("button", { type: "button", class: "danger" }, "Delete account…");
  const dialog = modal("Account", [
    passwordHeading,
    form,
    ...digestSetting(api),
    h("h3", {}, "Sessions"),
    h("p", {}, "Sign out of DocStream on every device and browser, this one included."),
    everywhere,
    h("h3", {}, "Delete account"),
    h("p", {}, "Delete your account for good; your documents go to someone else or are deleted."),
    remove,
  ]);
  remove.addEventListener("click", () => {
    dialog.close();
    deleteAccountDialog(api, signedOut);
  });
  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    current.error.textContent = "";
    next.error.textContent = "";
    if (next.input.value.length < 8) {
      next.error.textContent = "The new password must have at least 8 characters.";
      next.input.focus();
      return;
    }
    save.disabled = true;
    try {
      await api.changePassword(current.input.value, next.input.value);
      toast("Password changed. Your other sessions were signed out.");
      dialog.close();
    } catch (exc) {
      (exc instanceof ApiError && exc.status === 403 ? current : next).error.textContent = msg(exc);
    } finally {
      save.disabled = false;
    }
  });
  onAsync(everywhere, "click", async () => {
    if (
      !(await confirmDialog(
        "Sign out everywhere?",
        "Every device and browser signed in to your account will be signed out.",
        "Sign out everywhere",
        true,
      ))
    )
      return;
    try {
      await api.logoutAll();
      dialog.close();
      signedOut();
    } catch (exc) {
      toast(msg(exc), "error");
    }
  });
}
