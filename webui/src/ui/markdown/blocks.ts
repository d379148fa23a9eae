/**
 * Markdown → HTML, block by block, with no DOM: shared by the preview's worker (worker.ts), which
 * does the parsing off the page's main thread, and by render.ts (the whole-text render of the
 * benchmark's floor and the tests).
 *
 * markdown-it runs with raw HTML off, so `<script>` in a document is shown as text; links are
 * validated (http, https, mailto and relative only). The HTML made here is not trusted by the page:
 * render.ts cleans every block with DOMPurify before it is shown. Each block carries `data-line`
 * (its first source line, 0-based, from markdown-it's source maps) for the scroll sync and the task
 * checkboxes.
 *
 * `BlockRenderer` keeps a 100,000-character document live: the text is parsed whole (so link
 * references and lists stay right), but the inline pass and the HTML are made only for the
 * top-level blocks whose source changed, and what it returns is a patch: the blocks kept at the
 * head and the tail, and the HTML of those in between. Each top-level block's lines are relative to
 * its first line, so typing a line break does not make every later block look changed.
 */
import markdownIt, { type Env, type MarkdownIt, type Token } from "markdown-it";

const SAFE_URL = /^(https?:|mailto:|[^:]*$|[^:]*[/?#])/i;

/** Control characters and spaces: browsers drop them from a URL, so `java\tscript:` is `javascript:`. */
function ignored(code: number): boolean {
  return code <= 0x20 || (code >= 0x7f && code <= 0x9f);
}

function markdown(): MarkdownIt {
  const md = markdownIt("commonmark", { html: false, linkify: false, typographer: false });
  md.enable(["table", "strikethrough"]);
  md.validateLink = (url: string): boolean => {
    // markdown-it has already decoded entities; strip what browsers ignore before the scheme.
    const bare = [...url].filter((c) => !ignored(c.charCodeAt(0))).join("");
    return SAFE_URL.test(bare);
  };
  md.core.ruler.push("docstream_lines", (state) => {
    for (const token of state.tokens) {
      if (token.map && token.nesting === 1) token.attrSet("data-line", String(token.map[0]));
    }
    return true;
  });
  md.core.ruler.push("docstream_tasks", (state) => {
    const tokens = state.tokens;
    for (let i = 2; i < tokens.length; i++) {
      const inline = tokens[i];
      const item = tokens[i - 2];
      if (
        !inline ||
        !item ||
        inline.type !== "inline" ||
        tokens[i - 1]?.type !== "paragraph_open" ||
        item.type !== "list_item_open"
      )
        continue;
      const m = /^\[([ xX])\] /.exec(inline.content);
      const first = inline.children?.[0];
      if (!m || !first || first.type !== "text" || !first.content.startsWith(m[0])) continue;
      const line = item.map ? item.map[0] : -1;
      item.attrJoin("class", "task-list-item");
      first.content = first.content.slice(m[0].length);
      const box = new state.Token("html_inline", "", 0);
      box.meta = { task: true, line, checked: m[1] !== " " };
      inline.children?.unshift(box);
    }
    return true;
  });
  // The only raw HTML the renderer emits is the checkbox above (html: false escapes the rest).
  md.renderer.rules.html_inline = (tokens: Token[], idx: number, _options, env?: Env) => {
    const meta = tokens[idx]?.meta as { task?: boolean; line: number; checked: boolean } | undefined;
    if (!meta?.task) return "";
    const line = meta.line - Number(env?.["base"] ?? 0);
    return `<input type="checkbox" class="task-box" data-task-line="${line}"${meta.checked ? " checked" : ""} aria-label="Done"> `;
  };
  return md;
}

export const md = markdown();
/** Block structure only: the preview parses inline content only for the blocks that changed. */
const blockOnly = markdown();
blockOnly.core.ruler.disable(["inline", "text_join", "docstream_tasks"]);
/** The inline pass over one block's tokens (what `blockOnly` left out). */
const inlineOnly = markdown();
inlineOnly.core.ruler.disable(["normalize", "block", "docstream_lines"]);

/** What changed since the last update: keep `head` blocks and `tail` blocks, put `added` between. */
export interface Patch {
  head: number;
  tail: number;
  /** The new blocks' HTML (unsanitised), in order. */
  added: string[];
  /** Every block's first source line (0-based), in order, after the patch. */
  lines: Int32Array;
}

export class BlockRenderer {
  /** Each block's HTML by its source text, from the last update (reused when unchanged). */
  private cache = new Map<string, string>();
  private references = "";
  private html: string[] = [];

  /** The patch from the last update's blocks to `text`'s. */
  update(text: string): Patch {
    const env: Env = {};
    const tokens = blockOnly.parse(text, env);
    // A changed link reference definition may change any block.
    const references = JSON.stringify(env["references"] ?? null);
    if (references !== this.references) this.cache.clear();
    this.references = references;
    const starts = [0];
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) starts.push(at + 1);
    const cache = new Map<string, string>();
    const fresh: string[] = [];
    const lines: number[] = [];
    for (let i = 0; i < tokens.length;) {
      let j = i;
      if (tokens[i]?.nesting === 1) {
        for (let depth = 0; j < tokens.length; j++) {
          depth += tokens[j]?.nesting ?? 0;
          if (depth === 0) break;
        }
      }
      const group = tokens.slice(i, j + 1);
      i = j + 1;
      const [line, end] = group[0]?.map ?? [0, 0];
      const source = text.slice(starts[line] ?? text.length, starts[end] ?? text.length);
      let html = this.cache.get(source) ?? cache.get(source);
      if (html === undefined) {
        const state = new inlineOnly.core.State(source, inlineOnly, env);
        state.tokens = group;
        inlineOnly.core.process(state);
        for (const t of group) if (t.map && t.nesting === 1) t.attrSet("data-line", String(t.map[0] - line));
        env["base"] = line;
        html = md.renderer.render(group, md.options, env);
      }
      cache.set(source, html);
      fresh.push(html);
      lines.push(line);
    }
    this.cache = cache;
    const old = this.html;
    let head = 0;
    while (head < old.length && head < fresh.length && old[head] === fresh[head]) head++;
    let tail = 0;
    while (
      tail < old.length - head &&
      tail < fresh.length - head &&
      old[old.length - 1 - tail] === fresh[fresh.length - 1 - tail]
    )
      tail++;
    this.html = fresh;
    return { head, tail, added: fresh.slice(head, fresh.length - tail), lines: Int32Array.from(lines) };
  }
}
