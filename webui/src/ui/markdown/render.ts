/**
 * The live preview's page side: markdown-it's HTML made safe, and the blocks put into the page
 * (loaded on demand: markdown-it and DOMPurify stay out of the first screen's JavaScript).
 *
 * The parsing runs in a worker (worker.ts, blocks.ts): the page posts the text and gets back a patch
 * of the top-level blocks that changed. Every new block is cleaned by DOMPurify here before it is
 * shown (markdown-it runs with raw HTML off and validates links already; this is defence in depth
 * should the renderer ever let something through) and every link gets `rel="noopener noreferrer"`.
 * Each top-level block sits in its own `display: contents` wrapper holding its first source line.
 * Where a worker cannot start, the same parsing runs on the page.
 */
import DOMPurify from "dompurify";
import { BlockRenderer, md, type Patch } from "./blocks";

// A style attribute is kept only as a table cell's alignment (markdown-it's only use of it).
DOMPurify.addHook(
  "uponSanitizeAttribute",
  (_node: Element, data: { attrName: string; attrValue: string; keepAttr: boolean }) => {
    if (data.attrName === "style" && !/^text-align: ?(left|right|center);?$/.test(data.attrValue))
      data.keepAttr = false;
  },
);

DOMPurify.addHook("afterSanitizeAttributes", (node: Element) => {
  if (node.tagName === "A") {
    node.setAttribute("rel", "noopener noreferrer");
    node.setAttribute("target", "_blank");
  }
});

const PURIFY = {
  ALLOWED_TAGS: [
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "input", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
  ],
  ALLOWED_ATTR: ["href", "title", "src", "alt", "start", "style", "class", "type", "checked", "data-line", "data-task-line", "aria-label", "target", "rel"],
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
} as const; // prettier-ignore

/** markdown-it's HTML for `text` (unsanitised: for the benchmark's floor and tests only). */
export function renderRaw(text: string): string {
  return md.render(text);
}

/** The text as sanitised HTML. */
export function renderMarkdown(text: string): string {
  return sanitize(md.render(text));
}

const CONFIG = { ...PURIFY, ALLOWED_TAGS: [...PURIFY.ALLOWED_TAGS], ALLOWED_ATTR: [...PURIFY.ALLOWED_ATTR] };

export function sanitize(html: string): string {
  return String(DOMPurify.sanitize(html, CONFIG));
}

function fragment(html: string): DocumentFragment {
  return DOMPurify.sanitize(html, { ...CONFIG, RETURN_DOM_FRAGMENT: true });
}

/** The whole text rendered and sanitised into `target` at once (the benchmark's floor). */
export function renderInto(target: HTMLElement, text: string): void {
  target.replaceChildren(fragment(md.render(text)));
}

/** The live preview's renderer: the worker parses, only the blocks that changed are replaced. */
export class PreviewRenderer {
  private blocks: HTMLElement[] = [];
  private lines: Int32Array = new Int32Array(0);
  private readonly worker: Worker | null;
  private local: BlockRenderer | null = null;
  private reply: ((patch: Patch) => void) | null = null;
  /** The text the worker is parsing (parsed on the page instead should the worker fail). */
  private pending = "";

  constructor(private readonly target: HTMLElement) {
    let worker: Worker | null;
    try {
      worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      worker.addEventListener("message", (ev: MessageEvent<Patch>) => this.reply?.(ev.data));
      worker.addEventListener("error", () => this.fallBack());
    } catch {
      worker = null;
    }
    this.worker = worker;
    if (!worker) this.local = new BlockRenderer();
  }

  /** The wrappers of the top-level blocks, in source order; `dataset.line` is the first line. */
  get wrappers(): HTMLElement[] {
    return this.blocks;
  }

  /** Show `text`: resolves once its blocks are in the page. One update at a time. */
  async update(text: string): Promise<void> {
    this.apply(this.local ? this.local.update(text) : await this.ask(text));
  }

  private ask(text: string): Promise<Patch> {
    return new Promise((resolve) => {
      this.reply = (patch) => {
        this.reply = null;
        resolve(patch);
      };
      this.pending = text;
      this.worker?.postMessage({ text });
    });
  }

  /** The worker failed (it could not load, say): parse on the page from now on. */
  private fallBack(): void {
    if (this.local) return;
    this.worker?.terminate();
    this.local = new BlockRenderer();
    for (const b of this.blocks) b.remove();
    this.blocks = [];
    this.lines = new Int32Array(0);
    this.reply?.(this.local.update(this.pending));
  }

  private apply({ head, tail, added, lines }: Patch): void {
    const old = this.blocks;
    const after = old[old.length - tail] ?? null;
    for (const b of old.slice(head, old.length - tail)) b.remove();
    const made = added.map((html) => {
      const wrapper = document.createElement("div");
      wrapper.className = "md-block";
      wrapper.append(fragment(html));
      this.target.insertBefore(wrapper, after);
      return wrapper;
    });
    this.blocks = [...old.slice(0, head), ...made, ...old.slice(old.length - tail)];
    const before = this.lines;
    const shift = made.length - (old.length - head - tail);
    this.blocks.forEach((b, k) => {
      const line = lines[k] ?? 0;
      // A kept block whose line is the same as before needs no write (most of them).
      const was = k < head ? before[k] : k >= head + made.length ? before[k - shift] : undefined;
      if (was !== line) b.dataset["line"] = String(line);
    });
    this.lines = lines;
  }

  /** Stop the worker (the preview is gone). */
  close(): void {
    this.worker?.terminate();
  }
}
