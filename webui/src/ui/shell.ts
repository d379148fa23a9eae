/**
 * The app's shell: the header of the screens outside the editor (the brand and the user menu)
 * and the user menu itself, which the editor's top bar uses too, so a person finds their name,
 * account, theme and sign-out in the same place on every screen.
 *
 * A guest (a public link, not signed in) gets "Sign in" instead of a user menu.
 */
import { CircleUser, FileText, KeyRound, LogOut, Pencil, ScrollText, Search, ShieldCheck, Trash2 } from "lucide";
import { ApiError, type Api } from "../api";
import { colorFor } from "../protocol/messages";
import type { OfflineStore } from "../protocol/store";
import { accountDialog } from "./account";
import { avatar } from "./avatar";
import { confirmDialog, h, promptDialog, toast } from "./dom";
import { icon } from "./icons";
import { menuButton, type MenuItem } from "./menu";
import { notificationBell, type Bell } from "./notifications/bell";
import { navigate } from "./router";
import { setTheme, themeChoice, type ThemeChoice } from "./theme";

/** The brand: a link home for people with documents; for a guest, only the name. */
export function brand(guest: boolean): HTMLElement {
  const content = [icon(FileText, undefined, 20), h("span", { class: "brand-name" }, "DocStream")];
  return guest
    ? h("span", { class: "brand" }, ...content)
    : h("a", { href: "/", "data-link": true, class: "brand", title: "All your documents" }, ...content);
}

/** Sign out, asking first when edits made here have not reached the server yet. */
async function signOut(api: Api, store: OfflineStore | null, userId: string): Promise<void> {
  const unsaved = store ? await store.countPending(userId).catch(() => 0) : 0;
  if (
    unsaved &&
    !(await confirmDialog(
      "Sign out?",
      `${unsaved} change${unsaved > 1 ? "s have" : " has"} not reached the server yet. They stay on this device and are sent the next time you sign in here.`,
      "Sign out",
    ))
  )
    return;
  await api.logout();
  navigate("/signin", true);
}

/** The name is what other people see of you (never your address): it can be changed here. */
async function changeName(api: Api, current: string): Promise<void> {
  const name = await promptDialog("Your name", "The name other people see", current, "Save");
  if (!name || name === current) return;
  try {
    await api.renameMe(name);
    toast("Your name was changed.");
  } catch (exc) {
    toast(exc instanceof ApiError ? exc.message : "The server cannot be reached.", "error");
  }
}

const THEMES: [ThemeChoice, string][] = [
  ["system", "Theme: System"],
  ["light", "Theme: Light"],
  ["dark", "Theme: Dark"],
];

/** A guest's place for the user menu: who they are here, and the way to sign in (and back). */
export function guestBox(): HTMLElement {
  const here = location.pathname + location.search + location.hash;
  return h(
    "div",
    { class: "user-box" },
    h("span", { class: "guest-label" }, "Guest"),
    h("a", { href: `/signin?next=${encodeURIComponent(here)}`, "data-link": true, class: "button" }, "Sign in"),
  );
}

/**
 * The signed-in person's menu (an avatar button; the name beside it on wide screens); empty when
 * nobody is signed in. Redrawn when the person's name changes.
 */
export function userBox(api: Api, store: OfflineStore | null): { element: HTMLElement; destroy: () => void } {
  const element = h("div", { class: "user-box" });
  let bell: Bell | null = null; // notifications (ui/notifications), while someone is signed in
  const render = (): void => {
    const user = api.user;
    if (!user) {
      bell?.destroy();
      bell = null;
      element.replaceChildren();
      return;
    }
    bell ??= notificationBell(api);
    const items = (): (MenuItem | "separator")[] => [
      { label: user.name, run: () => undefined, disabled: true },
      "separator",
      { label: "Account", icon: CircleUser, run: () => accountDialog(api, () => navigate("/signin", true)) },
      { label: "Change name", icon: Pencil, run: () => changeName(api, user.name) },
      ...(user.is_admin ? [{ label: "Audit log", icon: ScrollText, run: () => navigate("/admin/audit") }] : []),
      { label: "API tokens", icon: KeyRound, run: () => navigate("/tokens") },
      { label: "Search documents", icon: Search, run: () => navigate("/search") },
      { label: "Trash", icon: Trash2, run: () => navigate("/trash") },
      ...(user.is_admin ? [{ label: "Administration", icon: ShieldCheck, run: () => navigate("/admin") }] : []),
      "separator",
      ...THEMES.map(([choice, label]) => ({ label, checked: themeChoice() === choice, run: () => setTheme(choice) })),
      "separator",
      { label: "Sign out", icon: LogOut, run: () => signOut(api, store, user.id) },
    ];
    const menu = menuButton({
      label: `Your account: ${user.name}${api.offline ? " (offline)" : ""}`,
      items,
      class: "user-menu",
      text: h(
        "span",
        { class: "user-menu-face" },
        avatar(user.name, colorFor(user.id), { class: "small", "aria-hidden": "true" }),
        h("span", { class: "user-name" }, user.name),
      ),
    });
    element.replaceChildren(bell.element, menu.element);
  };
  render();
  const stop = api.onUser(render);
  return {
    element,
    destroy: () => {
      stop();
      bell?.destroy();
    },
  };
}

/** The header of every screen but the editor (which has its own top bar with the same menu). */
export function appHeader(api: Api, store: OfflineStore | null): HTMLElement {
  return h("header", { class: "app-header" }, brand(false), userBox(api, store).element);
}
