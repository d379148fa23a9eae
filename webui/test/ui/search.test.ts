// The search page's route and address, and the match ranges a snippet is marked with: only valid,
// sorted, non-overlapping ranges are used, whatever the server sends.
import { describe, expect, it } from "vitest";
import { parseRoute } from "../../src/ui/router";
import { searchPath } from "../../src/ui/search/api";
import { cleanRanges } from "../../src/ui/search/highlight";

describe("search route", () => {
  it("reads the query from the address", () => {
    expect(parseRoute("/search", "?q=rocket%20plans")).toEqual({ name: "search", q: "rocket plans" });
    expect(parseRoute("/search/", "")).toEqual({ name: "search", q: "" });
  });
  it("writes the query into the address", () => {
    expect(searchPath("a&b=c <x>")).toBe("/search?q=a%26b%3Dc+%3Cx%3E");
    expect(parseRoute("/search", searchPath("a&b=c <x>").slice(7))).toEqual({ name: "search", q: "a&b=c <x>" });
    expect(searchPath("")).toBe("/search");
  });
});

describe("cleanRanges", () => {
  const text = "the needle and 😀 needles";
  it("keeps valid ranges in order", () => {
    expect(
      cleanRanges(text, [
        [18, 25],
        [4, 10],
      ]),
    ).toEqual([
      [4, 10],
      [18, 25],
    ]);
    // UTF-16 offsets: the emoji counts two code units, as the server counts it.
    expect(text.slice(18, 25)).toBe("needles");
  });
  it("drops what is out of bounds, reversed, empty, overlapping or not numbers", () => {
    expect(
      cleanRanges(text, [[-1, 3], [5, 4], [2, 2], [0, 99], [4, 10], [6, 12], ["4", "10"], [1.5, 3], null, [1], "x"]),
    ).toEqual([[4, 10]]);
  });
});
