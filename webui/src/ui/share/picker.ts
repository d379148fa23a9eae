/**
 * The people picker: the share dialog's "Add people" field, an ARIA 1.2 combobox.
 *
 * Typing a name suggests the people the user already works with (`GET /people/suggest`: ids and
 * names only, never addresses); ArrowDown in an empty field lists the most recent of them.
 * ArrowDown/ArrowUp move through the list, Enter or a click picks one, Escape closes the list. Typing a whole e-mail address instead invites anyone by address: Enter
 * with no suggestion highlighted submits the form around the field. People who already have
 * access are left out of the list.
 */
import type { Api, Person } from "../../api";
import { h, initials, newId } from "../dom";

export interface Picker {
  /** The labelled field with its listbox (goes inside the invite form). */
  element: HTMLElement;
  input: HTMLInputElement;
  error: HTMLElement;
  close(): void;
}

export function avatar(name: string): HTMLElement {
  return h("span", { class: "share-avatar", "aria-hidden": "true" }, initials(name));
}

export function peoplePicker(api: Api, hasAccess: (userId: string) => boolean, pick: (p: Person) => void): Picker {
  const inputId = newId("people");
  const listId = newId("people-list");
  const errId = `${inputId}-err`;
  const hintId = `${inputId}-hint`;
  const input = h("input", {
    id: inputId,
    type: "text",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    "aria-describedby": `${hintId} ${errId}`,
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: false,
    maxlength: 320,
    placeholder: "Name or email address",
  });
  const box = h("ul", {
    id: listId,
    role: "listbox",
    class: "combo-list people-options",
    hidden: true,
    "aria-label": "People you work with",
  });
  const error = h("p", { id: errId, class: "field-error", role: "alert" });
  let items: Person[] = [];
  let active = -1;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const close = (): void => {
    box.hidden = true;
    box.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const choose = (person: Person): void => {
    close();
    input.value = "";
    items = [];
    pick(person);
  };
  const show = (): void => {
    box.replaceChildren();
    if (!items.length) {
      close();
      return;
    }
    items.forEach((person, i) => {
      const li = h(
        "li",
        {
          id: `${listId}-${i}`,
          role: "option",
          "aria-selected": i === active ? "true" : "false",
          "data-user": person.id,
        },
        avatar(person.name),
        h("span", {}, person.name),
      );
      li.addEventListener("mousedown", (ev) => {
        ev.preventDefault(); // keep the focus in the field
        choose(person);
      });
      box.append(li);
    });
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const query = async (): Promise<void> => {
    const q = input.value.trim();
    const mine = ++seq;
    let found: Person[] = [];
    if (!q.includes("@")) {
      try {
        found = (await api.suggestPeople(q)).filter((p) => !hasAccess(p.id));
      } catch {
        found = []; // suggestions are a convenience: typing an address still works
      }
    }
    if (mine !== seq) return;
    items = found;
    active = -1;
    show();
  };
  const schedule = (): void => {
    timer = setTimeout(() => void query(), 120);
  };
  input.addEventListener("input", () => {
    error.textContent = "";
    seq += 1; // an answer to what was typed before is stale now
    if (timer !== null) clearTimeout(timer);
    if (input.value.trim()) schedule();
    else close(); // an empty field lists people only when asked (ArrowDown)
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!items.length) {
        void query();
        return;
      }
      const step = ev.key === "ArrowDown" ? 1 : -1;
      active = (active + step + items.length) % items.length;
      show();
    } else if (ev.key === "Enter" && active >= 0 && items[active]) {
      ev.preventDefault();
      choose(items[active]!);
    } else if (ev.key === "Escape" && !box.hidden) {
      ev.preventDefault(); // close the list, not the dialog
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  const element = h(
    "div",
    { class: "field people-field" },
    h("label", { for: inputId }, "Add people"),
    h("div", { class: "share-combo" }, input, box),
    h("p", { id: hintId, class: "hint" }, "Pick someone you work with, or type an e-mail address."),
    error,
  );
  return { element, input, error, close };
}
