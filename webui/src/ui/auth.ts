/** Sign-in and sign-up screens, with client-side validation and the server's messages. */
import { ApiError, NetworkError, type Api } from "../api";
import { field, h } from "./dom";
import { navigate } from "./router";

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function serverMessage(exc: unknown): string {
  if (exc instanceof NetworkError) return "The server cannot be reached. Check your connection and try again.";
  if (exc instanceof ApiError) {
    if (exc.code === "RATE_LIMIT_EXCEEDED") return "Too many attempts. Please wait a minute and try again.";
    return exc.message;
  }
  return "Something went wrong. Please try again.";
}

export function authView(api: Api, mode: "signin" | "signup", next: string | null): HTMLElement {
  const signup = mode === "signup";
  const email = field("Email", { type: "email", name: "email", autocomplete: "email", required: true, maxlength: 320 });
  // Required: other people see this name (never the address); the server refuses invisible
  // characters and addresses as names.
  const name = field("Your name", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: 100 });
  const password = field("Password", {
    type: "password",
    name: "password",
    autocomplete: signup ? "new-password" : "current-password",
    required: true,
    maxlength: 1024,
  });
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, signup ? "Create account" : "Sign in");
  const form = h(
    "form",
    { class: "stack auth-form", novalidate: true, "aria-label": signup ? "Sign up" : "Sign in" },
    email.wrap,
    signup ? name.wrap : null,
    password.wrap,
    signup ? h("p", { class: "hint" }, "At least 8 characters.") : null,
    formError,
    submit,
  );
  const check = (): boolean => {
    let ok = true;
    email.error.textContent = "";
    password.error.textContent = "";
    name.error.textContent = "";
    formError.textContent = "";
    const e = email.input.value.trim();
    if (!e) {
      email.error.textContent = "Please enter your email address.";
      ok = false;
    } else if (!EMAIL_RE.test(e)) {
      email.error.textContent = "This does not look like an email address (name@example.com).";
      ok = false;
    }
    const p = password.input.value;
    if (!p) {
      password.error.textContent = "Please enter a password.";
      ok = false;
    } else if (signup && p.length < 8) {
      password.error.textContent = "The password must have at least 8 characters.";
      ok = false;
    }
    if (signup && !name.input.value.trim()) {
      name.error.textContent = "Please enter your name: it is what other people see.";
      ok = false;
    } else if (signup && name.input.value.length > 100) {
      name.error.textContent = "The name can have at most 100 characters.";
      ok = false;
    } else if (signup && EMAIL_RE.test(name.input.value.trim())) {
      name.error.textContent = "Please enter a name, not an email address: other people see it.";
      ok = false;
    }
    for (const f of [email, password, name]) f.input.setAttribute("aria-invalid", f.error.textContent ? "true" : "false");
    return ok;
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!check()) {
      form.querySelector<HTMLInputElement>("[aria-invalid=true]")?.focus();
      return;
    }
    submit.disabled = true;
    try {
      if (signup) await api.register(email.input.value.trim(), password.input.value, name.input.value.trim());
      else await api.login(email.input.value.trim(), password.input.value);
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", true);
    } catch (exc) {
      formError.textContent =
        exc instanceof ApiError && exc.status === 401 ? "Wrong email or password." : serverMessage(exc);
      submit.disabled = false;
    }
  });
  const suffix = next ? `?next=${encodeURIComponent(next)}` : "";
  const other = signup
    ? h("p", {}, "Already have an account? ", h("a", { href: `/signin${suffix}`, "data-link": true }, "Sign in"))
    : h("p", {}, "New here? ", h("a", { href: `/signup${suffix}`, "data-link": true }, "Create an account"));
  queueMicrotask(() => email.input.focus());
  return h("main", { class: "auth-page", id: "main" }, h("h1", {}, signup ? "Create your DocStream account" : "Sign in to DocStream"), form, other);
}
