/**
 * The document list, the first screen after signing in: a one-click "New document", a search
 * that filters the rows as you type, All / Owned by me / Shared with me, a remembered sort, and
 * one row per document (ui/list/rows.ts). The list fetches itself again when the server says it
 * changed (a document shared with you, renamed or deleted elsewhere), so it never needs a reload.
 */
import { FilePlus, FileText, Trash2 } from "lucide";
import type { Api } from "../../api";
import { h, newId, toast } from "../dom";
import { icon } from "../icons";
import { editorPath, navigate } from "../router";
import { onListChanged } from "../live-events";
import {
  filterDocuments,
  sortDocuments,
  wordPrefixMatch,
  type Filter,
  type ListedDocument,
  type SortKey,
} from "./match";
import { acceptDrops, importButton } from "./import";
import { docRow, problem } from "./rows";
import { searchBox } from "./search";

const SORT_KEY = "docstream.list.sort";

function storedSort(): SortKey {
  try {
    return localStorage.getItem(SORT_KEY) === "title" ? "title" : "edited";
  } catch {
    return "edited"; // storage blocked
  }
}

function storeSort(key: SortKey): void {
  try {
    localStorage.setItem(SORT_KEY, key);
  } catch {
    // storage blocked: the choice lasts as long as the page
  }
}

/** A button that creates an untitled document and opens it (the editor focuses its title). */
function newDocumentButton(api: Api): HTMLButtonElement {
  const button = h("button", { type: "button", class: "primary new-doc" }, icon(FilePlus), "New document");
  button.addEventListener("click", () => {
    button.disabled = true;
    api.createDocument("Untitled").then(
      (doc) => navigate(`${editorPath(doc.id)}?new=1`),
      (exc: unknown) => {
        toast(problem(exc), "error");
        button.disabled = false;
      },
    );
  });
  return button;
}

function matching(n: number): string {
  return n === 1 ? "1 document matches." : `${n} documents match.`;
}

const FILTERS: [Filter, string][] = [
  ["all", "All"],
  ["owned", "Owned by me"],
  ["shared", "Shared with me"],
];

export function listView(api: Api): HTMLElement {
  let docs: ListedDocument[] = [];
  let loaded = false;
  let filter: Filter = "all";
  let sort = storedSort();
  let query = "";
  const me = (): string | null => api.user?.id ?? null;

  const list = h("ul", { class: "doc-list", "aria-label": "Documents" });
  const status = h("p", { class: "list-status", role: "status" }, "Loading…");
  const empty = h(
    "section",
    { class: "empty-state", hidden: true, "aria-labelledby": "empty-title" },
    icon(FileText, undefined, 40),
    // Not a heading: "Documents" must stay the only heading with that word (tests and people look for it).
    h("p", { id: "empty-title", class: "empty-title" }, "No documents yet"),
    h("p", {}, "Write together in real time, even offline. Start a document and share it when you are ready."),
    newDocumentButton(api),
  );

  const render = (): void => {
    const focusedId = (document.activeElement?.closest("[data-doc-id]") as HTMLElement | null)?.dataset["docId"];
    const shown = sortDocuments(filterDocuments(docs, filter, me()), sort)
      .map((d) => ({ d, match: query ? wordPrefixMatch(d.title, query) : null }))
      .filter(({ match }) => !query || match !== null);
    list.replaceChildren(
      ...shown.map(({ d, match }) => docRow(d, match, me(), { api, changed: render, remove: removeDoc })),
    );
    empty.hidden = !loaded || docs.length > 0;
    toolbar.hidden = loaded && docs.length === 0;
    main.dataset["state"] = !loaded ? "loading" : docs.length ? "list" : "empty";
    if (!loaded) return;
    if (shown.length || !docs.length) status.textContent = query ? matching(shown.length) : "";
    else if (query) status.textContent = `No documents match “${query}”.`;
    else
      status.textContent = filter === "owned" ? "You do not own any documents yet." : "Nothing is shared with you yet.";
    // Focus stays on the row it was in, or (that row deleted) moves to the first row.
    if (focusedId)
      (
        list.querySelector<HTMLElement>(`[data-doc-id="${CSS.escape(focusedId)}"] .doc-title`) ??
        list.querySelector<HTMLElement>(".doc-title")
      )?.focus();
  };
  const removeDoc = (id: string): void => {
    docs = docs.filter((d) => d.id !== id);
    render();
  };
  const load = async (): Promise<void> => {
    try {
      docs = await api.listDocuments();
      loaded = true;
      render();
    } catch (exc) {
      status.textContent = problem(exc);
      if (!loaded) main.dataset["state"] = "failed"; // creating may still work
    }
  };

  const segments = FILTERS.map(([value, label]) => {
    const b = h("button", { type: "button", "aria-pressed": String(value === filter) }, label);
    b.addEventListener("click", () => {
      filter = value;
      for (const s of segments) s.setAttribute("aria-pressed", String(s === b));
      render();
    });
    return b;
  });
  const sortId = newId("sort");
  const sortSelect = h(
    "select",
    { id: sortId },
    h("option", { value: "edited", selected: sort === "edited" }, "Last edited"),
    h("option", { value: "title", selected: sort === "title" }, "Title"),
  );
  sortSelect.addEventListener("change", () => {
    sort = sortSelect.value === "title" ? "title" : "edited";
    storeSort(sort);
    render();
  });
  const toolbar = h(
    "div",
    { class: "list-toolbar" },
    searchBox(
      api,
      () => docs,
      (q) => {
        query = q;
        render();
      },
    ),
    h("div", { class: "segmented", role: "group", "aria-label": "Show" }, ...segments),
    h("div", { class: "sort" }, h("label", { for: sortId }, "Sort by"), sortSelect),
  );

  // One "New document" button is shown at a time: the header's once documents are listed (or the
  // list failed to load), the empty state's when there are none; neither while loading, so a
  // button never disappears under the pointer that is about to click it.
  const main = h(
    "main",
    { class: "list-page", id: "main", "data-state": "loading" },
    h(
      "div",
      { class: "list-head" },
      h("h1", {}, "Documents"),
      h(
        "div",
        { class: "list-actions" },
        h(
          "a",
          { href: "/trash", "data-link": true, class: "button trash-link", title: "Trash" },
          icon(Trash2),
          h("span", { class: "button-text" }, "Trash"),
        ),
        importButton(api, () => void load()),
        newDocumentButton(api),
      ),
    ),
    toolbar,
    status,
    empty,
    list,
  );
  const stop = onListChanged(api, () => {
    if (main.isConnected) void load();
    else stop(); // the list was left: stop listening
  });
  acceptDrops(main, api, () => void load());
  void load();
  return main;
}
