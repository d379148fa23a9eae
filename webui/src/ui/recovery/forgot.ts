/**
 * `/forgot`: "Forgot password?". With e-mail on the server, a form for the address, then the
 * same answer whatever the address ("if an account exists, we sent a link"). Without e-mail,
 * the explanation that an administrator issues reset links.
 */
import { ApiError, NetworkError, type Api } from "../../api";
import { field, h, onAsync } from "../dom";
import { requestReset, resetPolicy } from "./api";

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function problem(exc: unknown): string {
  if (exc instanceof NetworkError) return "The server cannot be reached. Check your connection and try again.";
  if (exc instanceof ApiError) {
    if (exc.code === "RATE_LIMIT_EXCEEDED") return "Too many attempts. Please wait a minute and try again.";
    return exc.message;
  }
  return "Something went wrong. Please try again.";
}

export function forgotView(api: Api): HTMLElement {
  const status = h("p", { role: "status", class: "reset-status" });
  const back = h("p", {}, h("a", { href: "/signin", "data-link": true }, "Back to sign in"));
  const main = h("main", { class: "auth-page", id: "main" }, h("h1", {}, "Forgot your password?"), status, back);

  const email = field("Email", { type: "email", name: "email", autocomplete: "email", required: true, maxlength: 320 });
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Send me a link");
  const form = h(
    "form",
    { class: "stack auth-form", novalidate: true, "aria-label": "Reset your password" },
    email.wrap,
    formError,
    submit,
  );
  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    email.error.textContent = formError.textContent = "";
    const value = email.input.value.trim();
    if (!EMAIL_RE.test(value)) {
      email.error.textContent = value
        ? "This does not look like an email address (name@example.com)."
        : "Please enter your email address.";
      email.input.setAttribute("aria-invalid", "true");
      email.input.focus();
      return;
    }
    email.input.setAttribute("aria-invalid", "false");
    submit.disabled = true;
    try {
      const reply = await requestReset(api, value);
      form.remove();
      status.textContent = reply.message;
      back.querySelector("a")?.focus();
    } catch (exc) {
      formError.textContent = problem(exc);
      submit.disabled = false;
    }
  });

  const load = async (): Promise<void> => {
    try {
      const policy = await resetPolicy(api);
      if (!policy.emailed) {
        status.textContent = policy.message;
        return;
      }
      status.textContent = "Enter the address of your account: we will e-mail you a link to choose a new password.";
      status.after(form);
      email.input.focus();
    } catch (exc) {
      status.textContent = problem(exc);
    }
  };
  void load();
  return main;
}
