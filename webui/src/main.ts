/** The DocStream web UI: routing, the app shell (ui/shell.ts) and the screens. */
import "./ui/theme"; // first: the theme is set before anything paints
import "./desktop";
import "./styles/index.css";
import { Api, ApiError } from "./api";
import { OfflineStore } from "./protocol/store";
import { auditPage } from "./ui/audit/page";
import { adminView } from "./ui/admin/page";
import { authView } from "./ui/auth";
import { h, toast } from "./ui/dom";
import type { EditorHandle } from "./ui/editor/page";
import { inviteView } from "./ui/invite";
import { forgotView } from "./ui/recovery/forgot";
import { resetView } from "./ui/recovery/reset";
import { tokensView } from "./ui/recovery/tokens";
import { listView } from "./ui/list";
import { togglePalette } from "./ui/palette";
import { editorPath, navigate, startRouter, type Route } from "./ui/router";
import { appHeader } from "./ui/shell";
import { finishSignOn, finishing, localPath } from "./ui/sso/api";
import { openShortcutHelp, startShortcuts } from "./ui/shortcuts";
import { toggleTheme } from "./ui/theme";
import { trashView } from "./ui/trash/page";

/** The editor (CodeMirror and the collaboration client) loads only when a document is opened. */
const loadEditor = () => import("./ui/editor/page");

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
  // The editor has its own top bar (with the same user menu): no second header above it.
  const header = appHeader(api, store);
  const outlet = h("div", { class: "outlet" });
  root.replaceChildren(skip, header, outlet);

  /** Whether a public link opens this document without signing in. */
  const publicDocument = async (id: string): Promise<boolean> => {
    try {
      await api.getDocument(id);
      return true;
    } catch {
      return false;
    }
  };

  let shown = 0;
  const show = async (route: Route): Promise<void> => {
    const mine = ++shown;
    if (editor) {
      const old = editor;
      editor = null;
      await old.destroy();
    }
    if (route.name === "editor") header.remove();
    else if (!header.isConnected) outlet.before(header);
    if (route.name === "editor" && route.link) api.useLink(route.id, route.link);
    if (!api.user && route.name === "editor" && route.link && (await publicDocument(route.id))) {
      document.title = "DocStream";
      const { editorPage } = await loadEditor();
      if (mine !== shown) return; // navigated elsewhere meanwhile
      editor = editorPage(api, null, route.id);
      outlet.replaceChildren(editor.element);
      return;
    }
    if (route.name === "invite") {
      document.title = "Invitation — DocStream";
      outlet.replaceChildren(inviteView(api, route.token));
      return;
    }
    if (route.name === "forgot" || route.name === "reset") {
      document.title = "Reset your password — DocStream";
      outlet.replaceChildren(route.name === "forgot" ? forgotView(api) : resetView(api, route.token));
      return;
    }
    if (!api.user && route.name !== "signin" && route.name !== "signup") {
      const here = location.pathname + location.search + location.hash;
      navigate(here === "/" ? "/signin" : `/signin?next=${encodeURIComponent(here)}`, true);
      return;
    }
    if (api.user && (route.name === "signin" || route.name === "signup")) {
      navigate(localPath(route.next) ?? "/", true);
      return;
    }
    let page: HTMLElement;
    switch (route.name) {
      case "signin":
      case "signup":
        document.title = route.name === "signin" ? "Sign in — DocStream" : "Sign up — DocStream";
        page = authView(api, route.name, route.next, { resetPasswordHref: "/forgot" });
        break;
      case "tokens":
        document.title = "API tokens — DocStream";
        page = tokensView(api);
        break;
      case "audit":
        document.title = "Audit log — DocStream";
        page = auditPage(api);
        break;
      case "admin":
        document.title = "Administration — DocStream";
        page = adminView(api);
        break;
      case "list":
        document.title = "Documents — DocStream";
        page = listView(api);
        break;
      case "trash":
        document.title = "Trash — DocStream";
        page = trashView(api);
        break;
      case "search": {
        const { searchView } = await import("./ui/search/page");
        if (mine !== shown) return; // navigated elsewhere meanwhile
        document.title = "Search — DocStream";
        page = searchView(api, route.q);
        break;
      }
      case "editor": {
        const { editorPage } = await loadEditor();
        if (mine !== shown) return; // navigated elsewhere meanwhile
        document.title = "DocStream";
        editor = editorPage(api, store, route.id);
        page = editor.element;
        break;
      }
    }
    outlet.replaceChildren(page);
  };

  if (finishing()) {
    // Back from the single sign-on provider: take the session it started (ui/sso/api.ts).
    try {
      await finishSignOn(api);
    } catch {
      history.replaceState(null, "", "/signin?error=finish");
    }
  } else await api.resume();
  startRouter((route) => void show(route));
  // The session ended under this tab (signed out elsewhere, account disabled or deleted): back
  // to the sign-in page, which brings the person back here afterwards.
  let signedIn = api.user !== null;
  api.onUser((user) => {
    const ended = signedIn && !user;
    signedIn = user !== null;
    if (ended && location.pathname !== "/signin" && location.pathname !== "/signup") {
      navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    }
  });

  startShortcuts(() =>
    togglePalette({
      api,
      navigate: (path) => navigate(path),
      newDocument: async () => {
        try {
          const doc = await api.createDocument("Untitled");
          navigate(`${editorPath(doc.id)}?new=1`); // opened as the list's New document opens it
        } catch (exc) {
          toast(exc instanceof ApiError ? exc.message : "The server cannot be reached.", "error");
        }
      },
      toggleTheme,
      showShortcuts: () => void openShortcutHelp(),
    }),
  );

  if ("serviceWorker" in navigator && import.meta.env.PROD) registerServiceWorker();
}

/** Register the service worker, and register it again (after 2, 4, 8… s, up to a minute) when
 * its install fails: otherwise one failed install would leave the tab without an offline shell
 * until the next visit. */
function registerServiceWorker(attempt = 0): void {
  const retry = () => {
    if (navigator.serviceWorker.controller) return;
    setTimeout(() => registerServiceWorker(attempt + 1), Math.min(60_000, 2000 * 2 ** attempt));
  };
  navigator.serviceWorker.register("/sw.js").then((registration) => {
    const installing = registration.installing;
    if (installing)
      installing.addEventListener("statechange", () => {
        if (installing.state === "redundant" && !registration.active) retry();
      });
    // Active but not controlling this page (it loaded while the worker installed, or was
    // hard-reloaded): ask to be claimed.
    void navigator.serviceWorker.ready.then((ready) => {
      if (!navigator.serviceWorker.controller) ready.active?.postMessage("claim");
    });
  }, retry);
}

void boot();
