/** The DocStream web UI: routing, the signed-in shell and the screens. */
import "./desktop";
import "./styles.css";
import { Api, ApiError } from "./api";
import { OfflineStore } from "./protocol/store";
import { authView } from "./ui/auth";
import { confirmDialog, h, initials, promptDialog, toast } from "./ui/dom";
import { editorPage, type EditorHandle } from "./ui/editor/page";
import { accountDialog } from "./ui/account";
import { inviteView } from "./ui/invite";
import { listView } from "./ui/list";
import { navigate, startRouter, type Route } from "./ui/router";
import { colorFor } from "./protocol/messages";

declare global {
  interface Window {
    __docstream?: { api: Api; editor: () => EditorHandle | null; store: OfflineStore | null };
  }
}

async function boot(): Promise<void> {
  const api = new Api();
  const store = await OfflineStore.open();
  const root = document.getElementById("app")!;
  let editor: EditorHandle | null = null;
  window.__docstream = { api, editor: () => editor, store };

  const skip = h("a", { href: "#main", class: "skip-link" }, "Skip to content");
  const userBox = h("div", { class: "user-box" });
  const header = h("header", { class: "app-header" }, h("a", { href: "/", "data-link": true, class: "brand" }, "DocStream"), userBox);
  const outlet = h("div", { class: "outlet" });
  root.replaceChildren(skip, header, outlet);

  const renderUser = (): void => {
    userBox.replaceChildren();
    const user = api.user;
    if (!user) return;
    const signOut = h("button", { type: "button" }, "Sign out");
    signOut.addEventListener("click", async () => {
      const unsaved = store ? await store.countPending(user.id).catch(() => 0) : 0;
      if (unsaved && !(await confirmDialog("Sign out?", `${unsaved} change${unsaved > 1 ? "s have" : " has"} not reached the server yet. They stay on this device and are sent the next time you sign in here.`, "Sign out"))) return;
      await api.logout();
      navigate("/signin", true);
    });
    // The name is what other people see of you (never your address): it can be changed here.
    const rename = h("button", { type: "button", class: "user-name link-button", title: "Change the name other people see" }, user.name);
    rename.addEventListener("click", async () => {
      const name = await promptDialog("Your name", "The name other people see", user.name, "Save");
      if (!name || name === user.name) return;
      try {
        await api.renameMe(name);
        toast("Your name was changed.");
      } catch (exc) {
        toast(exc instanceof ApiError ? exc.message : "The server cannot be reached.", "error");
      }
    });
    const account = h("button", { type: "button" }, "Account");
    account.addEventListener("click", () => accountDialog(api, () => navigate("/signin", true)));
    userBox.append(
      h("span", { class: "avatar small", style: `background:${colorFor(user.id)}`, "aria-hidden": "true" }, initials(user.name)),
      rename,
      ...(api.offline ? [h("span", { class: "muted" }, " (offline)")] : []),
      account,
      signOut,
    );
  };
  api.onUser(renderUser);

  /** Whether a public link opens this document without signing in. */
  const publicDocument = async (id: string): Promise<boolean> => {
    try {
      await api.getDocument(id);
      return true;
    } catch {
      return false;
    }
  };

  const show = async (route: Route): Promise<void> => {
    if (editor) {
      const old = editor;
      editor = null;
      await old.destroy();
    }
    renderUser();
    if (route.name === "editor" && route.link) api.useLink(route.id, route.link);
    if (!api.user && route.name === "editor" && route.link && (await publicDocument(route.id))) {
      document.title = "DocStream";
      editor = editorPage(api, null, route.id);
      userBox.replaceChildren(
        h("span", { class: "muted" }, "Guest"),
        h("a", { href: `/signin?next=${encodeURIComponent(location.pathname + location.hash)}`, "data-link": true }, "Sign in"),
      );
      outlet.replaceChildren(editor.element);
      return;
    }
    if (route.name === "invite") {
      document.title = "Invitation — DocStream";
      outlet.replaceChildren(inviteView(api, route.token));
      return;
    }
    if (!api.user && route.name !== "signin" && route.name !== "signup") {
      const here = location.pathname + location.search + location.hash;
      navigate(here === "/" ? "/signin" : `/signin?next=${encodeURIComponent(here)}`, true);
      return;
    }
    if (api.user && (route.name === "signin" || route.name === "signup")) {
      navigate("/", true);
      return;
    }
    let page: HTMLElement;
    switch (route.name) {
      case "signin":
      case "signup":
        document.title = route.name === "signin" ? "Sign in — DocStream" : "Sign up — DocStream";
        page = authView(api, route.name, route.next);
        break;
      case "list":
        document.title = "Documents — DocStream";
        page = listView(api);
        break;
      case "editor":
        document.title = "DocStream";
        editor = editorPage(api, store, route.id);
        page = editor.element;
        break;
    }
    outlet.replaceChildren(page);
  };

  await api.resume();
  startRouter((route) => void show(route));

  if ("serviceWorker" in navigator && import.meta.env.PROD) {
    navigator.serviceWorker.register("/sw.js").catch(() => undefined);
  }
}

void boot();
