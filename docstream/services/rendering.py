"""A document's text rendered as a standalone, sanitised HTML page (the ``.html`` export).

Documents stay plain text; this is only a view of it. The text is read as Markdown by
markdown-it-py (CommonMark plus tables and strikethrough) with raw HTML switched off, so
``<script>`` in a document comes out as text. The result is then cleaned by nh3 (the Ammonia
sanitiser) with an allow-list of tags, attributes and URL schemes (http, https, mailto and
relative links): defence in depth should the renderer ever let something through. Links get
``rel="noopener noreferrer"``.

The page carries its own small stylesheet (no external resources) and prints well, so "Print to
PDF" in a browser gives a clean document. The same function serves the REST export route and
``docstream export --format html``.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

# What markdown-it produces for CommonMark + tables + strikethrough + task lists, and no more.
_TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "img", "input", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
    "input": {"type", "checked", "disabled"},
    "li": {"class"},
    "ul": {"class"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})
_ALIGN = {"text-align"}

_STYLE = """
:root { color-scheme: light; }
body { font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  background: #fff; max-width: 46rem; margin: 2rem auto; padding: 0 1.25rem; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.6em 0 .6em; }
h1 { font-size: 2em; border-bottom: 1px solid #d8dee4; padding-bottom: .3em; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d8dee4; padding-bottom: .3em; }
a { color: #0a58ca; }
code, pre { font: .9em/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: #f3f4f6; padding: .1em .3em; border-radius: 4px; }
pre { background: #f3f4f6; padding: .8em 1em; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
blockquote { margin: 0 0 1em; padding: 0 1em; color: #57606a; border-left: 4px solid #d0d7de; }
table { border-collapse: collapse; margin: 0 0 1em; }
th, td { border: 1px solid #d0d7de; padding: .35em .7em; }
img { max-width: 100%; }
ul.contains-task-list { list-style: none; padding-left: 1.2em; }
hr { border: 0; border-top: 1px solid #d8dee4; margin: 1.5em 0; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  a { color: inherit; }
  pre, blockquote, table, img { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
}
"""


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md


_MD = _markdown()


def _task_items(rendered: str) -> str:
    """``[ ]``/``[x]`` opening a list item become (disabled) checkboxes, as in the preview."""
    for mark, checked in (("[ ] ", ""), ("[x] ", " checked"), ("[X] ", " checked")):
        box = f'<input type="checkbox" disabled{checked}> '
        rendered = rendered.replace(f"<li>{mark}", f'<li class="task-list-item">{box}')
        rendered = rendered.replace(f"<li>\n<p>{mark}", f'<li class="task-list-item">\n<p>{box}')
    return rendered


def _keep_alignment(tag: str, attr: str, value: str) -> str | None:
    """Table cells keep ``style="text-align: …"`` (markdown-it's alignment) and nothing else."""
    if attr == "style":
        name, _, val = value.partition(":")
        ok = name.strip() in _ALIGN and val.strip().rstrip(";") in {"left", "right", "center"}
        return value if ok else None
    return value


def render_fragment(text: str) -> str:
    """The text as sanitised HTML (a body fragment)."""
    rendered = _task_items(_MD.render(text))
    return nh3.clean(
        rendered,
        tags=set(_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel="noopener noreferrer",
        attribute_filter=_keep_alignment,
        strip_comments=True,
    )


def render_page(title: str, text: str) -> str:
    """A standalone HTML page: the title, a print-friendly stylesheet and the rendered text."""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing runs and nothing loads from elsewhere, even if opened from a web site.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src http: https:\">\n"
        f"<title>{html.escape(title or 'Untitled')}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"{render_fragment(text)}"
        "</main>\n</body>\n</html>\n"
    )
