/** A tiny DOM toolkit: element builder, dialogs and an aria-live announcer. No framework. */

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** `h("button", {class: "x", onclick: fn}, "Label")`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * Listen with an async handler. A DOM listener's return value is ignored, so the handler's
 * promise is let go explicitly (a rejection still surfaces as unhandled, as it would inline).
 */
export function onAsync<K extends keyof HTMLElementEventMap>(
  target: HTMLElement,
  type: K,
  handler: (ev: HTMLElementEventMap[K]) => Promise<void>,
): void {
  target.addEventListener(type, (ev) => void handler(ev));
}

let uid = 0;
/** A unique element id with a readable prefix. */
export function newId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled input: returns the wrapper, the input and a slot for its error message. */
export function field(label: string, attrs: Attrs): { wrap: HTMLElement; input: HTMLInputElement; error: HTMLElement } {
  const id = newId("f");
  const errId = `${id}-err`;
  const input = h("input", { id, "aria-describedby": errId, ...attrs });
  const error = h("p", { id: errId, class: "field-error", role: "alert" });
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, error);
  return { wrap, input, error };
}

/**
 * The toast region is a manual popover so that it lives in the top layer: a modal dialog (also
 * top layer) would otherwise cover it with its backdrop. Showing it again moves it to the top of
 * that layer, above a dialog opened after it.
 */
function raiseToasts(): void {
  const region = document.getElementById("toasts");
  if (!region || !region.childElementCount || typeof region.showPopover !== "function") return;
  if (region.matches(":popover-open")) region.hidePopover();
  region.showPopover();
}

/**
 * Announce a message to screen readers and show it briefly. An `action` (such as Undo) adds a
 * button to the toast, which then stays longer; using it dismisses the toast.
 */
export function toast(
  message: string,
  severity: "info" | "error" = "info",
  action?: { label: string; run: () => void },
): void {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", "aria-live": "polite", role: "status", popover: "manual" });
    document.body.append(region);
  }
  const item = h("div", { class: `toast toast-${severity}` }, message);
  if (action) {
    const button = h("button", { type: "button", class: "toast-action" }, action.label);
    button.addEventListener("click", () => {
      item.remove();
      action.run();
    });
    item.append(button);
  }
  region.append(item);
  raiseToasts();
  setTimeout(() => item.remove(), action ? 10000 : severity === "error" ? 8000 : 4000);
}

/** A modal dialog (native <dialog>: focus is trapped and Escape closes it). */
export function modal(
  title: string,
  body: Node[],
  opts: { onClose?: () => void; wide?: boolean } = {},
): HTMLDialogElement {
  const titleId = newId("dlg");
  const close = h("button", { type: "button", class: "icon-button", "aria-label": "Close" }, "×");
  const dialog = h(
    "dialog",
    { class: opts.wide ? "modal wide" : "modal", "aria-labelledby": titleId },
    h("header", { class: "modal-head" }, h("h2", { id: titleId }, title), close),
    ...body,
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    dialog.remove();
    opts.onClose?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  raiseToasts();
  return dialog;
}

/** Ask for confirmation; resolves true when the person confirms. */
export function confirmDialog(title: string, message: string, confirmLabel: string, danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { type: "button", class: danger ? "danger" : "primary" }, confirmLabel);
    const no = h("button", { type: "button" }, "Cancel");
    const dialog = modal(title, [h("p", {}, message), h("div", { class: "actions" }, no, yes)], {
      onClose: () => resolve(answer),
    });
    yes.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    no.addEventListener("click", () => dialog.close());
    no.focus();
  });
}

/** Ask for one line of text; resolves null when cancelled. */
export function promptDialog(title: string, label: string, value: string, okLabel: string): Promise<string | null> {
  return new Promise((resolve) => {
    let answer: string | null = null;
    const f = field(label, { type: "text", value, required: true, maxlength: 200 });
    const ok = h("button", { type: "submit", class: "primary" }, okLabel);
    const cancel = h("button", { type: "button" }, "Cancel");
    const form = h("form", { class: "stack" }, f.wrap, h("div", { class: "actions" }, cancel, ok));
    const dialog = modal(title, [form], { onClose: () => resolve(answer) });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const v = f.input.value.trim();
      if (!v) {
        f.error.textContent = "Please enter a title.";
        return;
      }
      answer = v;
      dialog.close();
    });
    cancel.addEventListener("click", () => dialog.close());
    f.input.focus();
    f.input.select();
  });
}

/** Initials for an avatar. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0]!, parts[parts.length - 1]!] : parts;
  return letters.map((p) => Array.from(p)[0]!.toUpperCase()).join("") || "?";
}

/** "3 minutes ago" style dates. */
export function ago(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.round(m / 60);
  if (hrs < 24) return `${hrs} h ago`;
  return new Date(t).toLocaleDateString();
}
