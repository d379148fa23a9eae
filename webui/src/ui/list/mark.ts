/** A title with the part a search matched wrapped in <mark> (see styles/list.css for its colours). */
import { h } from "../dom";
import type { Match } from "./match";

export function marked(text: string, match: Match | null): (string | HTMLElement)[] {
  if (!match) return [text];
  const [start, end] = match;
  return [text.slice(0, start), h("mark", {}, text.slice(start, end)), text.slice(end)].filter((p) => p !== "");
}
