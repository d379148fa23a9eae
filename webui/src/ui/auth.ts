/**
 * Sign-in and sign-up screens: what DocStream is in one line, client-side validation with an
 * error under each field (announced), the server's messages, and a show-password toggle.
 */
import { Eye, EyeOff } from "lucide";
import { ApiError, NetworkError, type Api } from "../api";
import { signupNotice } from "./admin/signup";
import { field, h, onAsync } from "./dom";
import { icon } from "./icons";
import { navigate } from "./router";
import { errorMessage, providers, startUrl } from "./sso/api";

export const TAGLINE = "Write together in real time. Works offline; your server, your data.";

export interface AuthOptions {
  /** Where "Forgot password?" leads, when the server offers password resets. */
  resetPasswordHref?: string;
}

/**
 * Put a show-password toggle inside a password field. The button's name comes from its (hidden)
 * text, not aria-label, so the field stays the only thing labelled "Password"; focus stays on the
 * button when it is pressed.
 */
export function revealable(input: HTMLInputElement): HTMLElement {
  const button = h(
    "button",
    { type: "button", class: "reveal", "aria-pressed": "false", "aria-controls": input.id },
    icon(Eye),
    h("span", { class: "visually-hidden" }, "Show password"),
  );
  button.addEventListener("click", () => {
    const shown = input.type === "password";
    input.type = shown ? "text" : "password";
    button.setAttribute("aria-pressed", String(shown));
    button.firstElementChild!.replaceWith(icon(shown ? EyeOff : Eye));
  });
  const wrap = h("div", { class: "reveal-wrap" });
  input.replaceWith(wrap);
  wrap.append(input, button);
  return wrap;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function serverMessage(exc: unknown): string {
  if (exc instanceof NetworkError) return "The server cannot be reached. Check your connection and try again.";
  if (exc instanceof ApiError) {
    if (exc.code === "RATE_LIMIT_EXCEEDED") return "Too many attempts. Please wait a minute and try again.";
    return exc.message;
  }
  return "Something went wrong. Please try again.";
}

export function authView(
  api: Api,
  mode: "signin" | "signup",
  next: string | null,
  options: AuthOptions = {},
): HTMLElement {
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
  const reveal = revealable(password.input);
  if (signup) {
    const hint = h("p", { id: `${password.input.id}-hint`, class: "hint" }, "At least 8 characters.");
    reveal.after(hint);
    password.input.setAttribute("aria-describedby", `${hint.id} ${password.error.id}`);
  }
  if (options.resetPasswordHref && !signup)
    password.wrap.append(
      h("a", { href: options.resetPasswordHref, class: "forgot", "data-link": true }, "Forgot password?"),
    );
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, signup ? "Create account" : "Sign in");
  const form = h(
    "form",
    { class: "stack auth-form", novalidate: true, "aria-label": signup ? "Sign up" : "Sign in" },
    email.wrap,
    signup ? name.wrap : null,
    password.wrap,
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
    for (const f of [email, password, name])
      f.input.setAttribute("aria-invalid", f.error.textContent ? "true" : "false");
    return ok;
  };
  for (const f of [email, password, name])
    f.input.addEventListener("input", () => {
      if (!f.error.textContent) return;
      f.error.textContent = "";
      f.input.setAttribute("aria-invalid", "false");
    });
  onAsync(form, "submit", async (ev) => {
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
  // Single sign-on: the provider's button, a failed attempt explained, the password form hidden
  // when the server signs in with single sign-on only (ui/sso/api.ts).
  const ssoError = h("p", { class: "form-error sso-error", role: "alert" });
  const reason = signup ? null : new URLSearchParams(location.search).get("error");
  const sso = h("div", { class: "sso", hidden: true });
  queueMicrotask(() => email.input.focus());
  void providers(api).then((offer) => {
    if (offer.oidc) {
      const look = offer.password ? "button sso-button" : "button primary sso-button";
      const link = h("a", { href: startUrl(next), class: look }, `Sign in with ${offer.oidc.name}`);
      sso.replaceChildren(link);
      if (offer.password) sso.append(h("p", { class: "sso-or" }, h("span", {}, "or")));
      else if (signup)
        sso.append(
          h("p", { class: "hint" }, `Your account is created when you first sign in with ${offer.oidc.name}.`),
        );
      sso.hidden = false;
    }
    if (!offer.password) {
      form.hidden = true;
      other.hidden = true;
    }
    if (offer.oidc && (!offer.password || document.activeElement === document.body)) sso.querySelector("a")?.focus();
    // Set after the page settled, so that screen readers announce it.
    ssoError.textContent = errorMessage(reason) ?? "";
  });
  return h(
    "main",
    { class: "auth-page", id: "main" },
    h("h1", {}, signup ? "Create your DocStream account" : "Sign in to DocStream"),
    h("p", { class: "tagline" }, TAGLINE),
    ssoError,
    sso,
    signup ? signupNotice(api, email.input) : null,
    form,
    other,
  );
}
