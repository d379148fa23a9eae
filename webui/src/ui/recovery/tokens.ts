/**
 * `/tokens`: personal API tokens. Create one (name, scope, expiry): its secret is shown once,
 * with a copy button and a warning; list them (scope, created, last used, expiry); revoke one
 * after a confirmation. Managing tokens needs a signed-in session (a token cannot).
 */
import { Copy, KeyRound, Trash2 } from "lucide";
import type { Api } from "../../api";
import type { ApiTokenInfo, TokenScope } from "../../protocol/rest";
import { ago, confirmDialog, field, h, newId, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { copyText } from "../share/util";
import { createToken, listTokens, revokeToken } from "./api";
import { problem } from "./forgot";

const EXPIRY: [string, string][] = [
  ["30", "30 days"],
  ["90", "90 days"],
  ["365", "1 year"],
  ["7", "7 days"],
  ["", "Never"],
];

function labelled(label: string, control: HTMLSelectElement): HTMLElement {
  const id = newId("f");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function when(iso: string | null, never: string): string {
  return iso ? new Date(iso).toLocaleDateString() : never;
}

function scopeChip(scope: TokenScope): HTMLElement {
  return h(
    "span",
    { class: `role-chip ${scope === "read" ? "role-viewer" : "role-editor"}` },
    scope === "read" ? "Read only" : "Read and write",
  );
}

export function tokensView(api: Api): HTMLElement {
  const name = field("Name", { type: "text", name: "token-name", required: true, maxlength: 100, autocomplete: "off" });
  name.input.placeholder = "e.g. Backup script";
  const scope = h(
    "select",
    { name: "scope" },
    h("option", { value: "read" }, "Read only"),
    h("option", { value: "read-write" }, "Read and write"),
  );
  const expiry = h("select", { name: "expiry" }, ...EXPIRY.map(([v, l]) => h("option", { value: v }, l)));
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, icon(KeyRound), "Create token");
  const form = h(
    "form",
    { class: "token-form", novalidate: true, "aria-label": "New API token" },
    name.wrap,
    h("div", { class: "token-form-row" }, labelled("Access", scope), labelled("Expires", expiry)),
    formError,
    submit,
  );
  const secretBox = h("section", { class: "token-secret", "aria-labelledby": "token-secret-title", hidden: true });
  const list = h("ul", { class: "token-list", "aria-label": "Your API tokens" });
  const listStatus = h("p", { class: "muted", role: "status" }, "Loading…");

  const showSecret = (secret: string, tokenName: string): void => {
    const input = h("input", {
      type: "text",
      readonly: true,
      value: secret,
      class: "token-secret-value",
      "aria-label": `The secret of ${tokenName}`,
      spellcheck: "false",
    });
    const copy = h("button", { type: "button" }, icon(Copy), "Copy");
    onAsync(copy, "click", async () => {
      if (await copyText(secret)) toast("Token copied.");
      else {
        input.select();
        toast("Copying was refused by the browser: select the token and copy it.", "error");
      }
    });
    const done = h("button", { type: "button", class: "primary" }, "I have copied it");
    done.addEventListener("click", () => {
      secretBox.hidden = true;
      secretBox.replaceChildren();
      name.input.focus();
    });
    secretBox.replaceChildren(
      h("h2", { id: "token-secret-title" }, `Your new token “${tokenName}”`),
      h(
        "p",
        { class: "token-warning", role: "alert" },
        "Copy it now: it is shown only this once. Anyone who has it can use DocStream as you (within its access). Keep it secret.",
      ),
      h("div", { class: "token-secret-row" }, input, copy),
      h("p", { class: "auth-actions" }, done),
    );
    secretBox.hidden = false;
    input.focus();
    input.select();
  };

  const row = (token: ApiTokenInfo): HTMLElement => {
    const revoke = h(
      "button",
      { type: "button", class: "danger", "aria-label": `Revoke ${token.name}` },
      icon(Trash2),
      h("span", { class: "token-revoke-label" }, "Revoke"),
    );
    onAsync(revoke, "click", async () => {
      const ok = await confirmDialog(
        "Revoke this token?",
        `Scripts using “${token.name}” stop working at once. This cannot be undone.`,
        "Revoke",
        true,
      );
      if (!ok) return;
      try {
        await revokeToken(api, token.id);
        toast(`“${token.name}” was revoked.`);
        await refresh();
      } catch (exc) {
        toast(problem(exc), "error");
      }
    });
    return h(
      "li",
      { class: "token-item" },
      h(
        "div",
        { class: "token-main" },
        h("span", { class: "token-name" }, token.name),
        scopeChip(token.scope),
        h(
          "span",
          { class: "token-meta" },
          `Created ${when(token.created_at, "")} · Last used ${token.last_used_at ? ago(token.last_used_at) : "never"} · Expires ${when(token.expires_at, "never")}`,
        ),
      ),
      revoke,
    );
  };

  const refresh = async (): Promise<void> => {
    try {
      const tokens = await listTokens(api);
      list.replaceChildren(...tokens.map(row));
      listStatus.textContent = tokens.length ? "" : "You have no API tokens.";
    } catch (exc) {
      listStatus.textContent = problem(exc);
    }
  };

  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    name.error.textContent = formError.textContent = "";
    const label = name.input.value.trim();
    if (!label) {
      name.error.textContent = "Please name the token (what uses it), so you can recognise it later.";
      name.input.setAttribute("aria-invalid", "true");
      name.input.focus();
      return;
    }
    name.input.setAttribute("aria-invalid", "false");
    submit.disabled = true;
    try {
      const made = await createToken(api, {
        name: label,
        scope: scope.value as TokenScope,
        expires_in_days: expiry.value ? Number(expiry.value) : null,
      });
      form.reset();
      await refresh();
      showSecret(made.secret, made.token.name);
    } catch (exc) {
      formError.textContent = problem(exc);
    } finally {
      submit.disabled = false;
    }
  });

  void refresh();
  return h(
    "main",
    { class: "tokens-page", id: "main" },
    h("h1", {}, "API tokens"),
    h(
      "p",
      { class: "muted" },
      "Personal API tokens let your scripts use the DocStream REST API as you: send ",
      h("code", {}, "Authorization: Bearer dst_…"),
      ". A read-only token can change nothing. Tokens cannot open live editing sessions.",
    ),
    secretBox,
    h(
      "section",
      { class: "token-create", "aria-labelledby": "token-new-title" },
      h("h2", { id: "token-new-title" }, "New token"),
      form,
    ),
    h(
      "section",
      { "aria-labelledby": "token-list-title" },
      h("h2", { id: "token-list-title" }, "Your tokens"),
      listStatus,
      list,
    ),
  );
}
