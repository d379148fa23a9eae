/**
 * A menu button (the WAI-ARIA menu button pattern): the ⋯ menus of the top bar and the list
 * rows, the user menu. One implementation so every menu behaves the same with mouse, touch and
 * keyboard: Enter, Space or ↓ opens it on the first item, ↑/↓/Home/End move, Esc closes it and
 * returns focus to the button, Tab or a click elsewhere closes it.
 *
 * Items are built each time the menu opens (`items()`), so they always reflect the current state
 * (a role that changed, a panel that is open).
 */
import type { IconNode } from "lucide";
import { h, newId } from "./dom";
import { icon } from "./icons";

export interface MenuItem {
  label: string;
  run: () => void | Promise<void>;
  icon?: IconNode;
  danger?: boolean;
  disabled?: boolean;
  /** A checked state, for toggles (drawn as menuitemcheckbox). */
  checked?: boolean;
}

export interface MenuOptions {
  /** The button's accessible name (and tooltip). */
  label: string;
  items: () => (MenuItem | "separator")[];
  icon?: IconNode;
  /** Visible text next to the icon (the label is used when there is no icon). */
  text?: string | Node;
  class?: string;
  /** Which edge of the button the menu lines up with. */
  align?: "start" | "end";
}

export function menuButton(opts: MenuOptions): { element: HTMLElement; button: HTMLButtonElement } {
  const menuId = newId("menu");
  const button = h(
    "button",
    {
      type: "button",
      class: `menu-button ${opts.class ?? ""}`.trim(),
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": menuId,
      "aria-label": opts.text ? null : opts.label,
      title: opts.label,
    },
    opts.icon ? icon(opts.icon) : null,
    opts.text ?? (opts.icon ? null : opts.label),
  );
  const list = h("ul", {
    id: menuId,
    role: "menu",
    class: `menu menu-${opts.align ?? "end"}`,
    "aria-label": opts.label,
    hidden: true,
  });
  const element = h("div", { class: "menu-anchor" }, button, list);

  const entries = (): HTMLElement[] =>
    [...list.querySelectorAll<HTMLElement>('[role^="menuitem"]')].filter(
      (el) => el.getAttribute("aria-disabled") !== "true",
    );
  const focusAt = (index: number): void => {
    const all = entries();
    if (all.length) all[(index + all.length) % all.length]!.focus();
  };
  const close = (refocus: boolean): void => {
    if (list.hidden) return;
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    if (refocus) button.focus();
  };
  const outside = (ev: Event): void => {
    if (!element.contains(ev.target as Node)) close(false);
  };
  const open = (focusIndex: number): void => {
    list.replaceChildren(
      ...opts.items().map((item) => {
        if (item === "separator") return h("li", { role: "separator", class: "menu-separator" });
        const li = h(
          "li",
          {
            role: item.checked === undefined ? "menuitem" : "menuitemcheckbox",
            "aria-checked": item.checked === undefined ? null : String(item.checked),
            "aria-disabled": item.disabled ? "true" : null,
            tabindex: "-1",
            class: item.danger ? "menu-item danger" : "menu-item",
          },
          item.icon ? icon(item.icon) : h("span", { class: "icon-space", "aria-hidden": "true" }),
          h("span", {}, item.label),
        );
        const activate = (): void => {
          if (item.disabled) return;
          close(true);
          void item.run();
        };
        li.addEventListener("click", activate);
        li.addEventListener("keydown", (ev) => {
          if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            activate();
          }
        });
        return li;
      }),
    );
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", outside, true);
    focusAt(focusIndex);
  };

  button.addEventListener("click", () => (list.hidden ? open(0) : close(true)));
  button.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      open(ev.key === "ArrowDown" ? 0 : -1);
    }
  });
  list.addEventListener("keydown", (ev) => {
    const all = entries();
    const at = all.indexOf(document.activeElement as HTMLElement);
    switch (ev.key) {
      case "ArrowDown":
        focusAt(at + 1);
        break;
      case "ArrowUp":
        focusAt(at - 1);
        break;
      case "Home":
        focusAt(0);
        break;
      case "End":
        focusAt(-1);
        break;
      case "Escape":
        ev.stopPropagation();
        close(true);
        break;
      case "Tab":
        close(false);
        return;
      default:
        return;
    }
    ev.preventDefault();
  });
  return { element, button };
}
