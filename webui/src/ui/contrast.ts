/**
 * Readable text on a person's colour. The protocol gives every user a fixed colour (colorFor in
 * protocol/messages.ts), some light (yellow, cyan) and some dark (purple, red): white text on
 * all of them fails WCAG contrast on the light ones. The text colour is chosen per background by
 * the WCAG 2 contrast ratio, computed, so every avatar and caret label reads (AA: 4.5:1).
 */

/** Near-black and white: the two text colours an avatar or a caret label can take. */
export const DARK_TEXT = "#111111";
export const LIGHT_TEXT = "#ffffff";

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

/** WCAG relative luminance of a `#rrggbb` colour. */
export function luminance(hex: string): number {
  const n = Number.parseInt(hex.replace("#", "").slice(0, 6), 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** The WCAG contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The text colour (near-black or white) with the higher contrast on `background`. */
export function textOn(background: string): string {
  return contrastRatio(background, DARK_TEXT) >= contrastRatio(background, LIGHT_TEXT) ? DARK_TEXT : LIGHT_TEXT;
}
