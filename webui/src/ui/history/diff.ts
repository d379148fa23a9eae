/**
 * The diff view: what changed between two texts (two versions, a version and the current text,
 * or a session's before and after), as words added and removed, wrapped like prose so it reads on
 * a phone. The diffing is jsdiff's (`diff` on npm, maintained), loaded only when a diff is first
 * shown. Very long texts fall back to a line diff, which jsdiff computes much faster.
 */
import { h } from "../dom";

/** Above this many characters on either side, compare lines instead of words. */
const WORD_LIMIT = 200_000;

interface Part {
  value: string;
  added?: boolean;
  removed?: boolean;
}

export interface DiffResult {
  element: HTMLElement;
  added: number;
  removed: number;
}

/** Render the changes from `before` to `after`. */
export async function renderDiff(before: string, after: string): Promise<DiffResult> {
  const { diffWordsWithSpace, diffLines } = await import("diff");
  const long = before.length > WORD_LIMIT || after.length > WORD_LIMIT;
  const parts: Part[] = long ? diffLines(before, after) : diffWordsWithSpace(before, after);
  let added = 0;
  let removed = 0;
  const body = h("div", { class: "diff-text", tabindex: 0, "aria-label": "Changes" });
  for (const part of parts) {
    if (part.added) {
      added += part.value.length;
      body.append(h("ins", {}, part.value));
    } else if (part.removed) {
      removed += part.value.length;
      body.append(h("del", {}, part.value));
    } else {
      body.append(part.value);
    }
  }
  if (!parts.some((p) => p.added || p.removed)) body.append(h("p", { class: "muted" }, "No changes."));
  return { element: body, added, removed };
}
