/**
 * Markdown highlighting in the editor (loaded on demand, like the preview): CodeMirror's Markdown
 * language and a highlight style made of the design tokens, so it follows the light and dark
 * themes without a second style. The text stays plain; only its look changes.
 */
import { markdown, markdownLanguage } from "@codemirror/lang-markdown";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import { tags as t } from "@lezer/highlight";

const style = HighlightStyle.define([
  { tag: t.heading1, fontWeight: "700", fontSize: "1.35em", color: "var(--fg)" },
  { tag: t.heading2, fontWeight: "700", fontSize: "1.2em", color: "var(--fg)" },
  { tag: [t.heading3, t.heading4, t.heading5, t.heading6], fontWeight: "700", color: "var(--fg)" },
  { tag: t.strong, fontWeight: "700" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.strikethrough, textDecoration: "line-through" },
  { tag: t.link, color: "var(--accent)", textDecoration: "underline" },
  { tag: t.url, color: "var(--accent)" },
  { tag: t.monospace, fontFamily: "var(--font-mono)", fontSize: "0.92em", color: "var(--accent-soft-fg)" },
  { tag: t.quote, color: "var(--muted)", fontStyle: "italic" },
  { tag: [t.processingInstruction, t.meta], color: "var(--muted)" },
  { tag: t.contentSeparator, color: "var(--muted)" },
  { tag: t.list, color: "var(--fg)" },
]);

export function markdownSupport(): Extension {
  return [markdown({ base: markdownLanguage, addKeymap: false }), syntaxHighlighting(style)];
}
