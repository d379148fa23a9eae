// Avatars and caret labels read on every person's colour: the text colour is chosen per protocol
// colour by WCAG contrast, checked here against an independent computation for every colour of
// the palette (so for every user id) and for many generated ids.
import { describe, expect, it } from "vitest";
import { COLORS, colorFor } from "../../src/protocol/messages";
import { textOn } from "../../src/ui/contrast";

/** WCAG 2 contrast ratio, written out again so the test does not check the code against itself. */
function ratio(a: string, b: string): number {
  const lum = (hex: string): number => {
    const rgb = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255);
    const [r, g, bl] = rgb.map((c) => (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4))) as [
      number,
      number,
      number,
    ];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

describe("textOn", () => {
  it("gives AA contrast (4.5:1) on every colour of the palette", () => {
    for (const colour of COLORS) expect(ratio(colour, textOn(colour)), colour).toBeGreaterThanOrEqual(4.5);
  });

  it("gives AA contrast for many user ids", () => {
    for (let i = 0; i < 2000; i++) {
      const colour = colorFor(`user-${i}-${(i * 2654435761) % 4294967296}`);
      expect(ratio(colour, textOn(colour))).toBeGreaterThanOrEqual(4.5);
    }
  });

  it("puts dark text on yellow and white text on purple", () => {
    expect(textOn("#ECE513")).toBe("#111111");
    expect(textOn("#7E3AF2")).toBe("#ffffff");
  });
});
