/**
 * The command palette (Ctrl/Cmd+K): one search box to jump to a document by title or run a
 * command. It is a modal dialog holding an ARIA 1.2 combobox: the input keeps the focus, the
 * arrows move the highlighted option (`aria-activedescendant`), Enter runs it, Esc closes.
 *
 * Titles come from `GET /suggest/titles?q=` (its `match: [start, end]` is marked), then from the
 * person's document list, matched here the same way (at the start of any word of a title): that
 * covers a server without the route (404) or one out of reach. Once typing pauses, documents whose
 * text holds the words follow, with a snippet (`GET /search`, ui/search/palette.ts).
 */
import { ApiError, type Api, type DocumentInfo } from "../api";
import { h, newId } from "./dom";
import { marked } from "./list/mark";
import { wordPrefixMatch, type Match } from "./list/match";
import { editorPath } from "./router";
import { searchPath } from "./search/api";
import { CONTENT_DELAY_MS, contentMatches, snippetLine, wait } from "./search/palette";

export interface PaletteContext {
  api: Api;
  navigate: (path: string) => void;
  /** Create a document and open it. */
  newDocument: () => Promise<void>;
  toggleTheme: () => void;
  showShortcuts: () => void;
}

interface Item {
  kind: "Command" | "Document";
  id?: string;
  label: string;
  /** The part of `label` matched (UTF-16 offsets), marked. */
  match?: Match | undefined;
  /** A full-text match: its snippet and the matched ranges in it. */
  snippet?: { text: string; ranges: [number, number][] };
  run: () => void | Promise<void>;
}

const LIMIT = 8;

function commands(ctx: PaletteContext): Item[] {
  const signedIn = ctx.api.user !== null;
  const all: (Item | null)[] = [
    signedIn ? { kind: "Command", label: "New document", run: ctx.newDocument } : null,
    signedIn ? { kind: "Command", label: "Go to documents", run: () => ctx.navigate("/") } : null,
    { kind: "Command", label: "Toggle theme", run: ctx.toggleTheme },
    { kind: "Command", label: "Keyboard shortcuts", run: ctx.showShortcuts },
  ];
  return all.filter((i): i is Item => i !== null);
}

/** Where `query` matches `label`: at the start of a word, as the server and the list match. */
function matchOf(label: string, query: string): Match | undefined {
  return wordPrefixMatch(label, query) ?? undefined;
}

/** A server's span, if it is one within `label`. */
function span(label: string, match: unknown): Match | undefined {
  if (!Array.isArray(match) || match.length !== 2) return undefined;
  const [start, end] = match as unknown[];
  if (!Number.isInteger(start) || !Number.isInteger(end)) return undefined;
  return 0 <= Number(start) && Number(start) <= Number(end) && Number(end) <= label.length
    ? [Number(start), Number(end)]
    : undefined;
}

let openDialog: HTMLDialogElement | null = null;

/** Open the palette, or close it when it is open. */
export function togglePalette(ctx: PaletteContext): void {
  if (openDialog) {
    openDialog.close();
    return;
  }
  if (document.querySelector("dialog[open]")) return; // another dialog has the keyboard
  openDialog = buildPalette(ctx);
}

function buildPalette(ctx: PaletteContext): HTMLDialogElement {
  const listId = newId("palette-list");
  const input = h("input", {
    type: "text",
    role: "combobox",
    "aria-label": "Search documents and commands",
    "aria-autocomplete": "list",
    "aria-expanded": "true",
    "aria-controls": listId,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Jump to a document or run a command…",
  });
  const list = h("ul", { id: listId, role: "listbox", class: "palette-list", "aria-label": "Results" });
  const status = h("p", { class: "visually-hidden", role: "status" });
  const dialog = h("dialog", { class: "modal palette", "aria-label": "Command palette" }, input, list, status);
  let items: Item[] = [];
  let active = 0;
  let docs: DocumentInfo[] | null = null;
  let serverSide = true;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const run = (item: Item | undefined): void => {
    if (!item) return;
    dialog.close();
    void item.run();
  };

  const render = (): void => {
    list.replaceChildren(
      ...items.map((item, i) => {
        const li = h(
          "li",
          { id: `${listId}-${i}`, role: "option", "aria-selected": i === active ? "true" : "false" },
          h("span", { class: "palette-label" }, ...marked(item.label, item.match ?? null)),
          h("span", { class: "palette-kind" }, item.kind),
          item.snippet ? snippetLine(item.snippet.text, item.snippet.ranges) : null,
        );
        if (item.snippet) li.classList.add("palette-text");
        li.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep the focus in the input
        li.addEventListener("click", () => run(item));
        return li;
      }),
    );
    if (items.length) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
    else input.removeAttribute("aria-activedescendant");
    list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
    status.textContent = items.length ? `${items.length} result${items.length > 1 ? "s" : ""}` : "No results";
  };

  const documents = async (q: string): Promise<Item[]> => {
    if (!ctx.api.user) return [];
    const open = (id: string) => () => ctx.navigate(editorPath(id));
    const found: Item[] = [];
    const ids = new Set<string>();
    if (q && serverSide) {
      try {
        for (const s of await ctx.api.suggestTitles(q, LIMIT)) {
          if (!s.doc_id || ids.has(s.doc_id)) continue;
          ids.add(s.doc_id);
          found.push({
            kind: "Document",
            id: s.doc_id,
            label: s.word,
            match: span(s.word, s.match),
            run: open(s.doc_id),
          });
        }
      } catch (exc) {
        if (exc instanceof ApiError && exc.status === 404) serverSide = false; // a server without the route
      }
    }
    // The person's own list fills up the rest: a word inside a title, or the server unreachable.
    docs ??= await ctx.api.listDocuments().catch(() => []);
    const recent = [...docs].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
    for (const d of recent) {
      if (found.length >= LIMIT) break;
      const match = q ? matchOf(d.title, q) : undefined;
      if (ids.has(d.id) || (q && !match)) continue;
      ids.add(d.id);
      found.push({ kind: "Document", id: d.id, label: d.title, match, run: open(d.id) });
    }
    return found;
  };

  const update = async (): Promise<void> => {
    const q = input.value.trim();
    const mine = ++seq;
    const cmds = commands(ctx)
      .map((c) => ({ ...c, match: q ? matchOf(c.label, q) : undefined }))
      .filter((c) => !q || c.match);
    if (!items.length && !q) {
      // On opening, the commands show at once; the documents join them when the list arrives.
      items = cmds;
      render();
    }
    const found = await documents(q);
    if (mine !== seq) return;
    // Typing a title puts documents first; an empty box offers the commands first.
    items = q ? [...found, ...cmds] : [...cmds, ...found];
    active = 0;
    render();
    if (q && ctx.api.user) void byContent(q, mine, found, cmds);
  };

  /** Then documents whose text holds the words, once typing pauses; and the search page. */
  const byContent = async (q: string, mine: number, found: Item[], cmds: Item[]): Promise<void> => {
    await wait(CONTENT_DELAY_MS);
    if (mine !== seq) return;
    const ids = new Set(found.map((i) => i.id));
    const texts: Item[] = (await contentMatches(ctx.api, q, LIMIT))
      .filter((r) => !ids.has(r.id))
      .map((r) => ({
        kind: "Document",
        id: r.id,
        label: r.title,
        match: span(r.title, r.title_matches[0]),
        snippet: { text: r.snippet, ranges: r.matches },
        run: () => ctx.navigate(editorPath(r.id)),
      }));
    if (mine !== seq || (!found.length && !texts.length)) return; // commands only: as they were
    const all: Item = {
      kind: "Command",
      label: `Search all documents for “${q}”`,
      run: () => ctx.navigate(searchPath(q)),
    };
    // Appended after what is shown, so the highlighted option stays the same one.
    const current = items[active];
    items = [...found, ...texts, ...cmds, all];
    active = Math.max(0, current ? items.indexOf(current) : 0);
    render();
  };

  input.addEventListener("input", () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void update(), 80);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!items.length) return;
      active = (active + (ev.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      render();
    } else if (ev.key === "Home" || ev.key === "End") {
      if (!items.length || input.value) return;
      ev.preventDefault();
      active = ev.key === "Home" ? 0 : items.length - 1;
      render();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (timer !== null) {
        // Enter right after typing: run the best result for what was typed.
        clearTimeout(timer);
        timer = null;
        void update().then(() => run(items[0]));
        return;
      }
      run(items[active]);
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    openDialog = null;
  });
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
  void update();
  return dialog;
}
