/**
 * History-API routing. Page paths never start with an API prefix (`/auth/`, `/documents`,
 * `/suggest/`, `/ws/`...), so the server's SPA fallback serves index.html for them:
 * `/` documents, `/signin`, `/signup`, `/d/{id}` the editor, `/invite/{token}` an invitation link,
 * `/forgot` and `/reset/{token}` password reset, `/tokens` personal API tokens.
 * `/trash` the trashed documents (the one page path that is also an API path: the server answers a
 * browser's navigation there, which asks for HTML, with this app, and `fetch` calls with JSON).
 * `/admin` the admin page. `/search?q=` full-text search (also an API path, answered as `/trash`).
 *
 * A public link is `/d/{id}#link={token}`: the token rides in the fragment, which the browser
 * never sends to the server (so it stays out of access logs and Referer headers); `?link=` is
 * read too.
 */

export type Route =
  | { name: "list" }
  | { name: "signin"; next: string | null }
  | { name: "signup"; next: string | null }
  | { name: "editor"; id: string; link?: string }
  | { name: "invite"; token: string }
  | { name: "audit" }
  | { name: "forgot" }
  | { name: "reset"; token: string }
  | { name: "tokens" }
  | { name: "trash" }
  | { name: "search"; q: string }
  | { name: "admin" };

export function parseRoute(path: string, search = "", hash = ""): Route {
  const next = new URLSearchParams(search).get("next");
  if (path === "/signin") return { name: "signin", next };
  if (path === "/signup") return { name: "signup", next };
  if (/^\/admin\/audit\/?$/.test(path)) return { name: "audit" };
  if (path === "/trash" || path === "/trash/") return { name: "trash" };
  if (path === "/search" || path === "/search/")
    return { name: "search", q: new URLSearchParams(search).get("q") ?? "" };
  if (path === "/admin" || path === "/admin/") return { name: "admin" };
  const m = /^\/d\/([^/]+)\/?$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1]!);
    const link = new URLSearchParams(hash.replace(/^#/, "")).get("link") ?? new URLSearchParams(search).get("link");
    return link ? { name: "editor", id, link } : { name: "editor", id };
  }
  const invite = /^\/invite\/([^/]+)\/?$/.exec(path);
  if (invite) return { name: "invite", token: decodeURIComponent(invite[1]!) };
  if (path === "/forgot") return { name: "forgot" };
  if (path === "/tokens") return { name: "tokens" };
  const reset = /^\/reset\/([^/]+)\/?$/.exec(path);
  if (reset) return { name: "reset", token: decodeURIComponent(reset[1]!) };
  return { name: "list" };
}

export function editorPath(id: string): string {
  return `/d/${encodeURIComponent(id)}`;
}

let handler: ((route: Route) => void) | null = null;

export function startRouter(fn: (route: Route) => void): void {
  handler = fn;
  window.addEventListener("popstate", () => fn(parseRoute(location.pathname, location.search, location.hash)));
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element | null)?.closest?.("a[data-link]");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    navigate(a.getAttribute("href") ?? "/");
  });
  fn(parseRoute(location.pathname, location.search, location.hash));
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  const url = new URL(path, location.origin);
  handler?.(parseRoute(url.pathname, url.search, url.hash));
}
