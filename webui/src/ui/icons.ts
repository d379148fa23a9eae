/**
 * Icons: lucide's icon set (bundled and tree-shaken, never fetched from a CDN), drawn as inline
 * SVG by lucide's own `createElement`, so they take the text colour (`currentColor`) and scale
 * with the font.
 *
 * `icon(Share2)` is decorative (hidden from assistive technology): the button or link around it
 * carries the accessible name. Pass `label` only for an icon that stands alone as content.
 */
import { createElement, type IconNode } from "lucide";

export function icon(node: IconNode, label?: string, size = 18): SVGElement {
  return createElement(node, {
    width: size,
    height: size,
    class: "icon",
    focusable: "false",
    ...(label ? { role: "img", "aria-label": label } : { "aria-hidden": "true" }),
  });
}
