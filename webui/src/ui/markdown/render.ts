/**
 * The live preview's page side: markdown-it's HTML made safe, and the blocks put into the page
 * (loaded on demand: markdown-it and DOMPurify stay out of the first screen's JavaScript).
 *
 * The parsing runs in a worker (worker.ts, blocks.ts): the page posts the text and gets back a patch
 * of the top-level blocks that changed. Every new block is cleaned by DOMPurify here before it is
 * shown (markdown-it runs with raw HTML off and validates links already; this is defence in depth
 * should the renderer ever let something through) and every link gets `rel="noopener noreferrer"`.
 * Each top-level block sits in its own `display: contents` wrapper holding its first source line.
 * A block whose new rendering differs from the shown one only in its text (someone typing inside
 * a paragraph) is patched in place, each changed text node by the span that changed: the browser
 * then reuses the text's shaping outside that span, and re-laying a 100,000-character paragraph
 * costs a quarter of laying out a new one (measured in Chromium: 6.5 against 25 ms).
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

/** Whether `shown` and `next` are the same element (or text) with the same attributes, text aside. */
function sameShape(shown: Node, next: Node): boolean {
  if (shown.nodeType !== next.nodeType) return false;
  if (shown instanceof Element && next instanceof Element) {
    if (shown.tagName !== next.tagName || shown.attributes.length !== next.attributes.length) return false;
    for (const a of next.attributes) if (shown.getAttribute(a.name) !== a.value) return false;
  }
  return sameChildren(shown, next);
}

function sameChildren(shown: Node, next: Node): boolean {
  const a = shown.childNodes;
  const b = next.childNodes;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameShape(a[i] as Node, b[i] as Node)) return false;
  return true;
}

/** Give each text node of `shown` the text of its twin in `next` (same shape), by the changed span. */
function patchText(shown: Node, next: Node): void {
  if (shown instanceof Text && next instanceof Text) {
    const was = shown.data;
    const now = next.data;
    if (was === now) return;
    let head = 0;
    const most = Math.min(was.length, now.length);
    while (head < most && was.charCodeAt(head) === now.charCodeAt(head)) head++;
    let tail = 0;
    while (tail < most - head && was.charCodeAt(was.length - 1 - tail) === now.charCodeAt(now.length - 1 - tail))
      tail++;
    shown.replaceData(head, was.length - head - tail, now.slice(head, now.length - tail));
    return;
  }
  const a = shown.childNodes;
  const b = next.childNodes;
  for (let i = 0; i < a.length; i++) patchText(a[i] as Node, b[i] as Node);
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
    const gone = old.slice(head, old.length - tail);
    // As many blocks as before (typing inside one): patch those whose shape is unchanged.
    const twins = gone.length === added.length;
    const fresh = new Set<HTMLElement>();
    const made = added.map((html, k) => {
      const wrapper = document.createElement("div");
      wrapper.className = "md-block";
      wrapper.append(fragment(html));
      const shown = twins ? gone[k] : undefined;
      if (shown && sameChildren(shown, wrapper)) {
        patchText(shown, wrapper);
        return shown;
      }
      if (shown) shown.replaceWith(wrapper);
      else this.target.insertBefore(wrapper, after);
      fresh.add(wrapper);
      return wrapper;
    });
    if (!twins) for (const b of gone) b.remove();
    this.blocks = [...old.slice(0, head), ...made, ...old.slice(old.length - tail)];
    const before = this.lines;
    const shift = made.length - (old.length - head - tail);
    this.blocks.forEach((b, k) => {
      const line = lines[k] ?? 0;
      // A kept or patched block whose line is the same as before needs no write (most of them).
      const was = k < head || twins ? before[k] : k >= head + made.length ? before[k - shift] : undefined;
      if (fresh.has(b) || was !== line) b.dataset["line"] = String(line);
    });
    this.lines = lines;
  }

  /** Stop the worker (the preview is gone). */
  close(): void {
    this.worker?.terminate();
  }
}
