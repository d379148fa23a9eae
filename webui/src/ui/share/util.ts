/** Small pieces the share dialog's sections have in common: error text and copy buttons. */
import { ApiError } from "../../api";
import { h, onAsync, toast } from "../dom";

export function errorText(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

/** Put text on the clipboard; false when the browser refuses (no permission, insecure page). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** An icon button that copies `text` (its accessible name is `label`). */
export function copyButton(
  text: string | (() => string),
  label: string,
  glyph: SVGElement,
  done: string,
): HTMLButtonElement {
  const button = h("button", { type: "button", class: "icon-only", "aria-label": label, title: label }, glyph);
  onAsync(button, "click", async () => {
    const value = typeof text === "function" ? text() : text;
    if (await copyText(value)) toast(done);
    else toast(`Copying was refused by the browser. The link: ${value}`, "error");
  });
  return button;
}
