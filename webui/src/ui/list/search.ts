/**
 * The list's search box, an ARIA 1.2 combobox: typing filters the rows below at once (through
 * `onQuery`, over the loaded documents) and suggests titles, the loaded matches first and then
 * the server's (`GET /suggest/titles`, which also knows documents not loaded here); the matched
 * part is marked in both. The server's typo-tolerant near matches are offered only when nothing
 * matches as typed. Arrows move, Enter opens, Escape closes the suggestions and then clears
 * the search.
 */
import { ApiError, type Api, type TitleSuggestion } from "../../api";
import { h, newId } from "../dom";
import { editorPath, navigate } from "../router";
import { marked } from "./mark";
import { wordPrefixMatch, type ListedDocument, type Match } from "./match";

/** A title suggestion; `match` (the part matched, or nearly matched) comes with newer servers. */
type ServerSuggestion = TitleSuggestion & { match?: Match };

interface Item {
  id: string;
  title: string;
  match: Match | null;
  /** Matched as typed (not one of the server's one-typo near matches). */
  exact: boolean;
}

const MAX = 8;

export function searchBox(api: Api, loaded: () => ListedDocument[], onQuery: (q: string) => void): HTMLElement {
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
    enterkeyhint: "go",
    placeholder: "Search titles…",
  });
  const box = h("ul", {
    id: listId,
    role: "listbox",
    class: "combo-list",
    hidden: true,
    "aria-label": "Matching documents",
  });
  let items: Item[] = [];
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
      if (!input.value.trim()) return close();
      box.append(h("li", { class: "combo-empty", role: "option", "aria-disabled": "true" }, "No matching documents"));
    }
    items.forEach((item, i) => {
      const li = h(
        "li",
        { id: `${listId}-${i}`, role: "option", "aria-selected": i === active ? "true" : "false" },
        ...marked(item.title, item.match),
      );
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
  const local = (q: string): Item[] =>
    loaded()
      .map((d) => ({ id: d.id, title: d.title, match: wordPrefixMatch(d.title, q), exact: true }))
      .filter((item) => item.match !== null);
  const remote = async (q: string): Promise<Item[]> => {
    if (!serverSide) return [];
    try {
      const found: ServerSuggestion[] = await api.suggestTitles(q, MAX);
      return found
        .filter((s) => s.doc_id)
        .map((s) => {
          const typed = wordPrefixMatch(s.word, q);
          return { id: s.doc_id, title: s.word, match: s.match ?? typed, exact: typed !== null };
        });
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 404) serverSide = false; // an older server
      return [];
    }
  };
  const suggest = async (q: string): Promise<void> => {
    const mine = ++seq;
    const mineFirst = local(q);
    items = mineFirst.slice(0, MAX);
    active = -1;
    show();
    const more = await remote(q);
    if (mine !== seq) return;
    box.removeAttribute("aria-busy");
    const seen = new Set(mineFirst.map((i) => i.id));
    const exact = [...mineFirst, ...more.filter((i) => i.exact && !seen.has(i.id))];
    // The server forgives one typo; such near matches are offered only when nothing matches.
    items = (exact.length ? exact : more).slice(0, MAX);
    show();
  };
  /** Close the suggestions, and keep suggestions still on their way from opening them again. */
  const cancel = (): void => {
    if (timer !== null) clearTimeout(timer);
    seq++;
    box.removeAttribute("aria-busy");
    close();
  };
  const update = (): void => {
    const q = input.value.trim();
    onQuery(q);
    if (!q) {
      items = [];
      return cancel();
    }
    if (timer !== null) clearTimeout(timer);
    box.setAttribute("aria-busy", "true"); // until the server's suggestions are in
    timer = setTimeout(() => void suggest(q), 120);
  };
  input.addEventListener("input", update);
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
      ev.preventDefault();
      if (!box.hidden || box.hasAttribute("aria-busy")) return cancel();
      input.value = "";
      update();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return h(
    "div",
    { class: "search" },
    h("label", { for: inputId, class: "visually-hidden" }, "Search documents by title"),
    input,
    box,
  );
}
