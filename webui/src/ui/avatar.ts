/**
 * A person's avatar: their initials (at most two letters, sized to the circle) on their protocol
 * colour, with the text colour that reads on it (see contrast.ts). Used by the presence list in
 * the editor's bar and by the user menu.
 */
import { h, initials } from "./dom";
import { textOn } from "./contrast";

export function avatar(name: string, color: string, attrs: Record<string, string> = {}): HTMLElement {
  return h(
    "span",
    { ...attrs, class: `avatar ${attrs["class"] ?? ""}`.trim(), style: `background:${color};color:${textOn(color)}` },
    initials(name),
  );
}
