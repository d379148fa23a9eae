/**
 * The admin page (`/admin`, administrators only): the server at a glance, the accounts (search,
 * a row menu per person: administrator role, disable, password-reset link, delete), the sign-up
 * policy and the server invitations outstanding. On a phone the table's rows become stacked
 * cards (admin.css); nothing scrolls sideways.
 */
import { Ban, CircleCheck, Ellipsis, KeyRound, Plus, ShieldCheck, ShieldOff, Trash2 } from "lucide";
import type { Api } from "../../api";
import type { AdminUser, ServerInvitation, SignupPolicy, SignupPolicyName } from "../../protocol/rest";
import { ago, confirmDialog, field, h, newId, onAsync, toast } from "../dom";
import { icon } from "../icons";
import { menuButton, type MenuItem } from "../menu";
import * as admin from "./api";
import { deleteUserDialog, linkDialog, message, resetPasswordLink } from "./dialogs";

const PAGE = 50;

const POLICIES: [SignupPolicyName, string, string][] = [
  ["open", "Open", "Anyone who can reach this server can create an account."],
  [
    "invite-only",
    "By invitation",
    "Only addresses holding an invitation (to the server, below, or to a document) can create an account.",
  ],
  [
    "closed",
    "Closed",
    "Nobody can create an account; administrators create them with the command “docstream admin create-user”.",
  ],
];

function section(title: string, ...children: (Node | null)[]): HTMLElement {
  const id = newId("admin");
  return h("section", { class: "admin-section", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function overviewSection(api: Api): HTMLElement {
  const list = h("dl", { class: "admin-overview" });
  const load = async (): Promise<void> => {
    try {
      const o = await admin.overview(api);
      const items: [string, string][] = [
        ["Version", o.version],
        ["Storage", o.storage],
        ["Redis", o.redis === "disabled" ? "Not configured" : o.redis],
        ["Accounts", String(o.users)],
        ["Documents", String(o.documents)],
        ["Open now", `${o.open_documents} document${o.open_documents === 1 ? "" : "s"}`],
      ];
      list.replaceChildren(...items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
    } catch (exc) {
      list.replaceChildren(h("p", { class: "form-error" }, message(exc)));
    }
  };
  void load();
  return section("Server", list);
}

function chips(u: AdminUser): HTMLElement {
  return h(
    "span",
    { class: "admin-chips" },
    u.is_admin ? h("span", { class: "role-chip role-owner" }, "Admin") : null,
    u.disabled ? h("span", { class: "role-chip role-disabled" }, "Disabled") : null,
  );
}

function usersSection(api: Api): HTMLElement {
  const search = h("input", {
    type: "search",
    placeholder: "Search by name or address",
    "aria-label": "Search accounts",
    maxlength: 200,
    class: "admin-search",
  });
  const body = h("tbody", {});
  const table = h(
    "table",
    { class: "admin-users" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Person"),
        h("th", { scope: "col" }, "Role"),
        h("th", { scope: "col" }, "Documents"),
        h("th", { scope: "col" }, "Last sign-in"),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
    body,
  );
  const status = h("p", { class: "hint", role: "status" });
  const more = h("button", { type: "button", hidden: true }, "Show more");
  let offset = 0;
  let query = "";
  let loading = 0;

  /** Apply a change and redraw that row only (focus back on its menu button). */
  const change = async (
    u: AdminUser,
    tr: () => HTMLElement,
    body: { is_admin?: boolean; disabled?: boolean },
    done: string,
  ): Promise<void> => {
    try {
      const fresh = row(await admin.changeUser(api, u.id, body));
      tr().replaceWith(fresh);
      fresh.querySelector<HTMLButtonElement>(".admin-actions button")?.focus();
      toast(done);
    } catch (exc) {
      toast(message(exc), "error");
    }
  };
  const row = (u: AdminUser): HTMLElement => {
    const me = u.id === api.user?.id;
    const self = (): HTMLElement => element;
    const items = (): (MenuItem | "separator")[] => [
      u.is_admin
        ? {
            label: "Remove administrator",
            icon: ShieldOff,
            disabled: me,
            run: () => change(u, self, { is_admin: false }, `${u.email} is no longer an administrator.`),
          }
        : {
            label: "Make administrator",
            icon: ShieldCheck,
            run: () => change(u, self, { is_admin: true }, `${u.email} is now an administrator.`),
          },
      u.disabled
        ? {
            label: "Enable",
            icon: CircleCheck,
            run: () => change(u, self, { disabled: false }, `${u.email} can sign in again.`),
          }
        : {
            label: "Disable",
            icon: Ban,
            disabled: me,
            run: async () => {
              const ok = await confirmDialog(
                `Disable ${u.email}?`,
                "They are signed out everywhere at once and cannot sign in until the account is enabled again.",
                "Disable",
                true,
              );
              if (ok) await change(u, self, { disabled: true }, `${u.email} is disabled and signed out.`);
            },
          },
      { label: "Reset password link…", icon: KeyRound, run: () => resetPasswordLink(api, u) },
      "separator",
      {
        label: "Delete…",
        icon: Trash2,
        danger: true,
        disabled: me,
        run: () => deleteUserDialog(api, u, () => void reload()),
      },
    ];
    const menu = menuButton({
      label: `Actions for ${u.email}`,
      icon: Ellipsis,
      class: "row-menu",
      items,
      align: "end",
    });
    const element = h(
      "tr",
      { "data-user": u.email },
      h(
        "td",
        { class: "admin-person-cell" },
        h(
          "div",
          { class: "admin-person" },
          h("span", { class: "admin-name" }, u.name, me ? " (you)" : ""),
          h("span", { class: "admin-email" }, u.email),
        ),
      ),
      h(
        "td",
        { "data-label": "Role" },
        chips(u),
        !u.is_admin && !u.disabled ? h("span", { class: "hint" }, "User") : null,
      ),
      h("td", { "data-label": "Documents" }, String(u.documents)),
      h("td", { "data-label": "Last sign-in" }, u.last_sign_in ? ago(u.last_sign_in) : "—"),
      h("td", { class: "admin-actions" }, menu.element),
    );
    return element;
  };
  const load = async (append: boolean): Promise<void> => {
    const mine = ++loading;
    try {
      const page = await admin.listUsers(api, query, append ? offset : 0, PAGE);
      if (mine !== loading) return;
      if (!append) body.replaceChildren();
      body.append(...page.users.map(row));
      offset = page.offset + page.users.length;
      more.hidden = offset >= page.total;
      status.textContent = `${page.total} account${page.total === 1 ? "" : "s"}${query ? ` matching “${query}”` : ""}.`;
    } catch (exc) {
      status.textContent = message(exc);
    }
  };
  const reload = (): Promise<void> => load(false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      query = search.value.trim();
      void reload();
    }, 200);
  });
  onAsync(more, "click", () => load(true));
  void reload();
  return section("Accounts", search, status, table, more);
}

function policySection(api: Api): HTMLElement {
  const name = newId("policy");
  const group = h("fieldset", { class: "choice-group" }, h("legend", {}, "Who can create an account"));
  const note = h("p", { class: "hint" });
  const reset = h("button", { type: "button", class: "link-button", hidden: true }, "Use the server's setting");
  let state: SignupPolicy | null = null;
  const radios = POLICIES.map(([value, label, help]) => {
    const input = h("input", { type: "radio", name, value, "aria-describedby": `${name}-${value}` });
    group.append(
      h(
        "label",
        { class: "choice" },
        input,
        h("span", {}, h("strong", {}, label), h("span", { id: `${name}-${value}`, class: "hint" }, help)),
      ),
    );
    return input;
  });
  const show = (s: SignupPolicy): void => {
    state = s;
    for (const r of radios) r.checked = r.value === s.policy;
    const setting = POLICIES.find(([v]) => v === s.configured)?.[1] ?? s.configured;
    note.textContent = s.overridden
      ? `Chosen here: this choice wins over the server's setting (${setting}).`
      : `This is the server's setting. A choice made here wins over it.`;
    reset.hidden = !s.overridden;
  };
  const save = async (policy: SignupPolicyName | null): Promise<void> => {
    try {
      show(await admin.setSignupPolicy(api, policy));
      toast("Sign-up policy saved.");
    } catch (exc) {
      toast(message(exc), "error");
      if (state) show(state);
    }
  };
  for (const r of radios) onAsync(r, "change", () => save(r.value as SignupPolicyName));
  onAsync(reset, "click", () => save(null));
  admin.signupPolicy(api).then(show, (exc: unknown) => (note.textContent = message(exc)));
  return section("Sign-up", group, note, reset);
}

function invitationsSection(api: Api): HTMLElement {
  const email = field("E-mail address to invite", {
    type: "email",
    autocomplete: "off",
    maxlength: 320,
    required: true,
  });
  const create = h("button", { type: "submit", class: "primary" }, icon(Plus), "Create invitation");
  const form = h(
    "form",
    { class: "admin-invite", novalidate: true, "aria-label": "Invite to this server" },
    email.wrap,
    create,
  );
  const list = h("ul", { class: "admin-invitations" });
  const load = async (): Promise<void> => {
    try {
      const found = await admin.invitations(api);
      list.replaceChildren(
        ...(found.length ? found.map(item) : [h("li", { class: "hint" }, "No invitations outstanding.")]),
      );
    } catch (exc) {
      list.replaceChildren(h("li", { class: "form-error" }, message(exc)));
    }
  };
  const item = (inv: ServerInvitation): HTMLElement => {
    const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
    onAsync(revoke, "click", async () => {
      try {
        await admin.revokeInvitation(api, inv.id);
        toast(`The invitation of ${inv.email} was revoked.`);
        await load();
      } catch (exc) {
        toast(message(exc), "error");
      }
    });
    const until = `expires ${new Date(inv.expires_at).toLocaleDateString()}`;
    return h("li", {}, h("span", { class: "admin-email" }, inv.email), h("span", { class: "hint" }, until), revoke);
  };
  onAsync(form, "submit", async (ev) => {
    ev.preventDefault();
    email.error.textContent = "";
    if (!email.input.value.includes("@")) {
      email.error.textContent = "Enter an e-mail address.";
      email.input.focus();
      return;
    }
    create.disabled = true;
    try {
      const inv = await admin.invite(api, email.input.value.trim());
      email.input.value = "";
      linkDialog(
        "Invitation link",
        `Send this link to ${inv.email}: it opens the sign-up page for that address. It is shown only now.`,
        inv.url ?? "",
        inv.expires_at,
      );
      await load();
    } catch (exc) {
      email.error.textContent = message(exc);
    } finally {
      create.disabled = false;
    }
  });
  void load();
  return section(
    "Invitations outstanding",
    h("p", { class: "hint" }, "A server invitation lets one address create an account while sign-up is by invitation."),
    form,
    list,
  );
}

export function adminView(api: Api): HTMLElement {
  if (!api.user?.is_admin) {
    return h(
      "main",
      { class: "admin-page", id: "main" },
      h("h1", {}, "Administration"),
      h("p", {}, "Only an administrator of this server can open this page."),
    );
  }
  return h(
    "main",
    { class: "admin-page", id: "main" },
    h("h1", {}, "Administration"),
    overviewSection(api),
    usersSection(api),
    policySection(api),
    invitationsSection(api),
  );
}
