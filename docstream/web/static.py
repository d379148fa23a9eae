"""Serving the built web UI: ``/assets/*`` files and ``index.html`` for every other page path.

The UI is built by Vite into ``docstream/web/static/`` (never committed; the wheel build requires
it). Unknown paths under the API prefixes stay JSON 404s; any other GET path gets ``index.html`` so
the single-page app can route it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Response, get

from docstream.errors import NotFoundError

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_PREFIXES = ("auth/", "documents", "suggest/", "ws/", "schema", "health", "invitations")

_MISSING_UI = b"""<!doctype html><meta charset="utf-8"><title>DocStream</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>DocStream is running</h1><p>The web UI has not been built. From a source checkout run
<code>make run</code> (it builds the UI), or
<code>cd webui &amp;&amp; npm ci &amp;&amp; npm run build</code>.
The API is available; see <a href="/schema">/schema</a>.</p></body>"""


def _file(path: Path, cache: str) -> Response[bytes]:
    media, _ = mimetypes.guess_type(path.name)
    return Response(
        path.read_bytes(),
        media_type=media or "application/octet-stream",
        headers={"Cache-Control": cache},
    )


def _index(static_dir: Path) -> Response[bytes]:
    index = static_dir / "index.html"
    if not index.is_file():
        return Response(_MISSING_UI, media_type="text/html", status_code=200)
    return _file(index, "no-cache")


@get("/", include_in_schema=False, sync_to_thread=False)
def index_page() -> Response[bytes]:
    return _index(STATIC_DIR)


@get("/{path:path}", include_in_schema=False, sync_to_thread=False)
def ui_files(path: str) -> Response[bytes]:
    relative = path.lstrip("/")
    if relative.startswith(API_PREFIXES):
        raise NotFoundError(f"no route GET /{relative}")
    root = STATIC_DIR.resolve()
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        immutable = relative.startswith("assets/")
        return _file(candidate, "public, max-age=31536000, immutable" if immutable else "no-cache")
    if relative.startswith("assets/") or "." in relative.rsplit("/", 1)[-1]:
        raise NotFoundError(f"no file /{relative}")
    return _index(STATIC_DIR)
