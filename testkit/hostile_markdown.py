"""A hostile Markdown corpus: what a collaborator could type to run script in another person's
preview or in an exported ``.html`` file. Shared by the browser test of the live preview and the
REST test of the export route; every payload that would run sets ``window.__pwned``.

``DANGEROUS_TAGS`` and the URL rule are what a rendering must never contain, whatever the input.
"""

from __future__ import annotations

import re

PAYLOADS = (
    "<script>window.__pwned = 'script'</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="window.__pwned = \'img-onerror\'">',
    "<svg onload=\"window.__pwned = 'svg'\"><script>window.__pwned = 'svg-script'</script></svg>",
    "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__pwned='srcdoc'</script>\"></iframe>",
    "<object data=\"javascript:window.__pwned='object'\"></object>",
    "<embed src=\"javascript:window.__pwned='embed'\">",
    "<form action=\"javascript:window.__pwned='form'\"><button>Go</button></form>",
    "<style>body { background: url(javascript:window.__pwned='style') }</style>",
    '<meta http-equiv="refresh" content="0; url=javascript:window.__pwned=\'meta\'">',
    "<a href=\"javascript:window.__pwned='raw-a'\">raw link</a>",
    "<details open ontoggle=\"window.__pwned='details'\"><summary>x</summary></details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss'\">",
    "[plain](javascript:window.__pwned='md-link')",
    "[upper](JAVASCRIPT:window.__pwned='upper')",
    "[mixed](JaVaScRiPt:window.__pwned='mixed')",
    "[entity](javascript&#58;window.__pwned='entity')",
    "[hex entity](&#x6A;avascript:window.__pwned='hex')",
    "[tab](java\tscript:window.__pwned='tab')",
    "[encoded](javascript%3Awindow.__pwned='pct')",
    "[vb](vbscript:msgbox('x'))",
    "[VB](VBScript:msgbox('x'))",
    "[data](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0nZGF0YSc8L3NjcmlwdD4=)",
    "[data upper](DATA:text/html,<script>parent.__pwned='data2'</script>)",
    "![img](javascript:window.__pwned='img')",
    "![svg](data:image/svg+xml,<svg onload=\"parent.__pwned='svgdata'\"/>)",
    "<javascript:window.__pwned='autolink'>",
    "[ref][evil]\n\n[evil]: javascript:window.__pwned='ref'",
    "<div onmouseover=\"window.__pwned='div'\">hover</div>",
    "<!-- <script>window.__pwned='comment'</script> -->",
    "<base href=\"javascript:window.__pwned='base'//\">",
    "<link rel=import href=\"data:text/html,<script>parent.__pwned='link'</script>\">",
    "`<script>window.__pwned='code'</script>` and\n\n"
    "```html\n<script>window.__pwned='fence'</script>\n```",
)

CORPUS = (
    "# Hostile\n\n"
    + "\n\n".join(PAYLOADS)
    + "\n\n[fine](https://example.org/) [mail](mailto:a@example.org) [here](#top)\n"
)

#: Elements that must not appear in a rendering of the corpus.
DANGEROUS_TAGS = (
    "script", "iframe", "object", "embed", "form", "style", "meta", "svg", "math", "base", "link",
    "details", "div", "button", "frame", "frameset", "applet", "template", "noscript",
)  # fmt: skip

_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/|\./|\.\./|[^:/?#]*([/?#]|$))", re.IGNORECASE)


def safe_url(url: str) -> bool:
    """http(s), mailto and relative URLs only (after what browsers ignore before a scheme)."""
    bare = re.sub(r"[\x00-\x20]", "", url)
    return bool(_SAFE_URL.match(bare))
