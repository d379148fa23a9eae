/**
 * The document list: create, rename, delete (with confirmation), open, and a search box with
 * title typeahead (`GET /suggest/titles`; until the server has that route it answers 404 and the
 * box filters the loaded list locally instead).
 */
import { ApiError, NetworkError, type Api, type DocumentInfo, type Suggestion } from "../api";
import { ago, confirmDialog, field, h, newId, promptDialog, toast } from "./dom";
import { editorPath, navigate } from "./router";

function message(exc: unknown): string {
  if (exc instanceof NetworkError) return "You are offline: the document list cannot be loaded.";
  if (exc instanceof ApiError) return exc.message;
  return "Something went wrong.";
}

export function listView(api: Api): HTMLElement {
  let docs: DocumentInfo[] = [];
  const list = h("ul", { class: "doc-list", "aria-label": "Your documents" });
  const status = h("p", { class: "muted", role: "status" }, "Loading…");

  const render = (): void => {
    list.replaceChildren();
    status.textContent = docs.length ? "" : "No documents yet. Create one above.";
    for (const d of docs) {
      const open = h("a", { href: editorPath(d.id), "data-link": true, class: "doc-title" }, d.title);
      const rename = h("button", { type: "button", "aria-label": `Rename ${d.title}` }, "Rename");
      const del = h("button", { type: "button", class: "danger", "aria-label": `Delete ${d.title}` }, "Delete");
      rename.addEventListener("click", async () => {
        const title = await promptDialog("Rename document", "Title", d.title, "Rename");
        if (title === null || title === d.title) return;
        try {
          const updated = await api.renameDocument(d.id, title);
          d.title = updated.title;
          render();
          toast(`Renamed to “${updated.title}”.`);
        } catch (exc) {
          toast(message(exc), "error");
        }
      });
      del.addEventListener("click", async () => {
        const ok = await confirmDialog(
          "Delete document?",
          `“${d.title}” will be deleted for everyone it is shared with. This cannot be undone.`,
          "Delete",
          true,
        );
        if (!ok) return;
        try {
          await api.deleteDocument(d.id);
          docs = docs.filter((x) => x.id !== d.id);
          render();
          toast(`Deleted “${d.title}”.`);
        } catch (exc) {
          toast(message(exc), "error");
        }
      });
      list.append(
        h(
          "li",
          { class: "doc-item", "data-doc-id": d.id },
          open,
          h("span", { class: `role-badge role-${d.role}` }, d.role),
          h("span", { class: "muted" }, ago(d.updated_at)),
          h("span", { class: "doc-actions" }, d.role !== "viewer" ? rename : null, d.role === "owner" ? del : null),
        ),
      );
    }
  };

  const load = async (): Promise<void> => {
    try {
      docs = await api.listDocuments();
      docs.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
      render();
    } catch (exc) {
      status.textContent = message(exc);
    }
  };

  // Create
  const title = field("New document title", { type: "text", required: true, maxlength: 200, placeholder: "Untitled" });
  const create = h("button", { type: "submit", class: "primary" }, "Create document");
  const createForm = h("form", { class: "create-form", "aria-label": "Create a document" }, title.wrap, create);
  createForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const t = title.input.value.trim() || "Untitled";
    create.disabled = true;
    try {
      const doc = await api.createDocument(t);
      navigate(editorPath(doc.id));
    } catch (exc) {
      title.error.textContent = message(exc);
      create.disabled = false;
    }
  });

  void load();
  return h(
    "main",
    { class: "list-page", id: "main" },
    h("div", { class: "list-head" }, h("h1", {}, "Documents"), searchBox(api, () => docs)),
    createForm,
    status,
    list,
  );
}

/** The search combobox (ARIA 1.2 pattern): type, arrows to move, Enter to open. */
function searchBox(api: Api, loaded: () => DocumentInfo[]): HTMLElement {
  const inputId = newId("search");
  const listId = newId("search-list");
  const input = h("input", {
    id: inputId,
    type: "search",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    autocomplete: "off",
    placeholder: "Search titles…",
  });
  const box = h("ul", { id: listId, role: "listbox", class: "combo-list", hidden: true, "aria-label": "Matching documents" });
  let items: { title: string; id: string }[] = [];
  let active = -1;
  let serverSide = true;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let seq = 0;

  const close = (): void => {
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const show = (): void => {
    box.replaceChildren();
    if (!items.length) {
      if (input.value.trim()) {
        box.append(h("li", { class: "combo-empty", role: "option", "aria-disabled": "true" }, "No matching documents"));
        box.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else close();
      return;
    }
    items.forEach((item, i) => {
      const li = h("li", { id: `${listId}-${i}`, role: "option", "aria-selected": i === active ? "true" : "false" }, item.title);
      li.addEventListener("mousedown", (ev) => {
        ev.preventDefault();
        navigate(editorPath(item.id));
      });
      box.append(li);
    });
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const local = (q: string): { title: string; id: string }[] => {
    const needle = q.toLocaleLowerCase();
    return loaded()
      .filter((d) => d.title.toLocaleLowerCase().includes(needle))
      .slice(0, 8)
      .map((d) => ({ title: d.title, id: d.id }));
  };
  const query = async (): Promise<void> => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      items = [];
      close();
      return;
    }
    let found = local(q);
    if (serverSide) {
      try {
        const res: Suggestion[] = await api.suggestTitles(q);
        found = res.filter((s) => s.doc_id).map((s) => ({ title: s.word, id: s.doc_id! }));
      } catch (exc) {
        if (exc instanceof ApiError && exc.status === 404) serverSide = false; // route not there yet
      }
    }
    if (mine !== seq) return;
    items = found;
    active = -1;
    show();
  };
  input.addEventListener("input", () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void query(), 120);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      if (!items.length) return;
      ev.preventDefault();
      const step = ev.key === "ArrowDown" ? 1 : -1;
      active = (active + step + items.length) % items.length;
      show();
    } else if (ev.key === "Enter") {
      const item = items[active >= 0 ? active : 0];
      if (item) {
        ev.preventDefault();
        navigate(editorPath(item.id));
      }
    } else if (ev.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return h("div", { class: "search" }, h("label", { for: inputId, class: "visually-hidden" }, "Search documents by title"), input, box);
}
