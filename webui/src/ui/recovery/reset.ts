/**
 * `/reset/{token}`: choose a new password with a one-time link (e-mailed, or given by an
 * administrator). Setting it signs out every session of the account, then signs this browser in
 * and opens the documents.
 */
import type { Api } from "../../api";
import { revealable } from "../auth";
import { field, h, onAsync, toast } from "../dom";
import { navigate } from "../router";
import { confirmReset } from "./api";
import { problem } from "./forgot";

export function resetView(api: Api, token: string): HTMLElement {
  const password = field("New password", {
    type: "password",
    name: "new-password",
    autocomplete: "new-password",
    required: true,
    maxlength: 1024,
  });
  const reveal = revealable(password.input);
  const hint = h("p", { id: `${password.input.id}-hint`, class: "hint" }, "At least 8 characters.");
  reveal.after(hint);
  password.input.setAttribute("aria-describedby", `${hint.id} ${password.error.id}`);
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Set the new password");
  const form = h(
    "form",
    { class: "stack auth-form", novalidate: true, "aria-label": "Choose a new password" },
    password.wrap,
    formError,
    submit,
  );
  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    password.error.textContent = formError.textContent = "";
    if (password.input.value.length < 8) {
      password.error.textContent = "The password must have at least 8 characters.";
      password.input.setAttribute("aria-invalid", "true");
      password.input.focus();
      return;
    }
    password.input.setAttribute("aria-invalid", "false");
    submit.disabled = true;
    try {
      await confirmReset(api, token, password.input.value);
      toast("Your password was changed. Every other device was signed out.");
      navigate("/", true);
    } catch (exc) {
      formError.textContent = problem(exc);
      submit.disabled = false;
    }
  });
  queueMicrotask(() => password.input.focus());
  return h(
    "main",
    { class: "auth-page", id: "main" },
    h("h1", {}, "Choose a new password"),
    h("p", { class: "tagline" }, "The link works once. Setting the password signs you out everywhere else."),
    form,
    h("p", {}, h("a", { href: "/forgot", "data-link": true }, "Ask for a new link")),
  );
}
