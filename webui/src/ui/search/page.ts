/**
 * The search page (`/search?q=`): every document the person can open that contains the words,
 * the best first, each with its title and a snippet of its text, matches marked. Searching starts
 * while typing (debounced) and the address follows the query (`replaceState`), so a reload or a
 * shared address shows the same results.
 *
 * Keyboard: ↓ from the box goes to the first result, ↑/↓ move between results, Home/End jump,
 * ↑ from the first result goes back to the box, Enter opens one; "More results" loads the next
 * page. Results are links, so middle-click and "open in a new tab" work as everywhere else.
 */
import { ArrowLeft, Search } from "lucide";
import { ApiError, type Api } from "../../api";
import type { Role } from "../../protocol/messages";
import type { SearchResult } from "../../protocol/rest";
import { ago, h, onAsync } from "../dom";
import { icon } from "../icons";
import { editorPath } from "../router";
import { searchDocuments, searchPath } from "./api";
import { highlighted } from "./highlight";

const PAGE = 20;
const DEBOUNCE_MS = 250;
const ROLE_LABEL: Record<Role, string> = {
  owner: "Yours",
  editor: "Shared with you: can edit",
  commenter: "Shared with you: can comment",
  viewer: "Shared with you: can view",
};

export function searchView(api: Api, initial: string): HTMLElement {
  const input = h("input", {
    type: "search",
    name: "q",
    id: "search-page-q",
    value: initial,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Words to find…",
    "aria-describedby": "search-page-hint",
  });
  const submit = h(
    "button",
    { type: "submit", class: "primary", "aria-label": "Search" },
    icon(Search),
    h("span", { class: "button-text" }, "Search"),
  );
  const form = h(
    "form",
    { role: "search", class: "search-form", "aria-label": "Search your documents" },
    h("label", { for: "search-page-q", class: "visually-hidden" }, "Search the text and titles of your documents"),
    input,
    submit,
  );
  const hint = h(
    "p",
    { class: "search-hint", id: "search-page-hint" },
    "Finds the documents you own or that were shared with you whose title or text contains every word (the start of a word is enough).",
  );
  const status = h("p", { class: "list-status", role: "status", "aria-live": "polite" });
  const list = h("ol", { class: "doc-list search-results", "aria-label": "Search results" });
  const more = h("button", { type: "button", class: "search-more", hidden: true }, "More results");

  let query = initial.trim();
  let next: number | null = null;
  let shown = 0;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const links = (): HTMLAnchorElement[] => [...list.querySelectorAll<HTMLAnchorElement>("a.search-hit")];

  const row = (r: SearchResult): HTMLElement => {
    const meta = h(
      "p",
      { class: "doc-meta" },
      h("span", {}, ROLE_LABEL[r.role] ?? r.role),
      h(
        "span",
        {},
        "Edited ",
        h("time", { datetime: r.updated_at, title: new Date(r.updated_at).toLocaleString() }, ago(r.updated_at)),
      ),
    );
    return h(
      "li",
      { class: "doc-item search-item", "data-doc-id": r.id },
      h(
        "a",
        { class: "search-hit", href: editorPath(r.id), "data-link": true },
        h("span", { class: "search-title" }, ...highlighted(r.title, r.title_matches)),
        r.snippet ? h("span", { class: "search-snippet" }, ...highlighted(r.snippet, r.matches)) : null,
        meta,
      ),
    );
  };

  const describe = (): string => {
    if (!query) return "";
    if (!shown) return `No document you can open contains “${query}”.`;
    const count = `${shown}${next !== null ? "+" : ""}`;
    return `${count} document${shown === 1 && next === null ? "" : "s"} found`;
  };

  const run = async (append: boolean): Promise<void> => {
    const mine = ++seq;
    if (!append) {
      const path = searchPath(query);
      if (location.pathname + location.search !== path) history.replaceState(null, "", path);
      document.title = query ? `${query} — Search — DocStream` : "Search — DocStream";
    }
    if (!query) {
      list.replaceChildren();
      shown = 0;
      next = null;
      more.hidden = true;
      status.textContent = "";
      main.dataset["state"] = "idle";
      return;
    }
    main.dataset["state"] = "loading";
    if (!append) status.textContent = "Searching…";
    try {
      const page = await searchDocuments(api, query, PAGE, append && next !== null ? next : 0);
      if (mine !== seq) return;
      const rows = page.results.map(row);
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      shown = (append ? shown : 0) + page.results.length;
      next = page.next_offset;
      more.hidden = next === null;
      status.textContent = describe();
      main.dataset["state"] = shown ? "results" : "empty";
    } catch (exc) {
      if (mine !== seq) return;
      status.textContent =
        exc instanceof ApiError ? exc.message : "The server cannot be reached. Try again in a moment.";
      main.dataset["state"] = "error";
    }
  };

  const schedule = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      query = input.value.trim();
      void run(false);
    }, DEBOUNCE_MS);
  };

  input.addEventListener("input", schedule);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (timer !== null) clearTimeout(timer);
    timer = null;
    query = input.value.trim();
    void run(false);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" && links().length) {
      ev.preventDefault();
      links()[0]!.focus();
    }
  });
  list.addEventListener("keydown", (ev) => {
    const all = links();
    const at = all.indexOf(document.activeElement as HTMLAnchorElement);
    if (at < 0) return;
    let to: number | null = null;
    if (ev.key === "ArrowDown") to = Math.min(at + 1, all.length - 1);
    else if (ev.key === "ArrowUp") to = at - 1;
    else if (ev.key === "Home") to = 0;
    else if (ev.key === "End") to = all.length - 1;
    if (to === null) return;
    ev.preventDefault();
    if (to < 0) input.focus();
    else all[to]!.focus();
  });
  onAsync(more, "click", async () => {
    const before = links().length;
    await run(true);
    links()[before]?.focus();
  });

  const back = h("a", { href: "/", "data-link": true, class: "back-link" }, icon(ArrowLeft), "Documents");
  const main = h(
    "main",
    { class: "list-page search-page", id: "main", "data-state": "idle" },
    back,
    h("div", { class: "list-head" }, h("h1", {}, "Search")),
    form,
    hint,
    status,
    list,
    more,
  );
  queueMicrotask(() => input.focus());
  void run(false);
  return main;
}
