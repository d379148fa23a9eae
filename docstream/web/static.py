"""Serving the built web UI: ``/assets/*`` files and ``index.html`` for every other page path.

The UI is built by Vite into ``docstream/web/static/`` (never committed; the wheel build requires
it). Unknown paths under the API prefixes stay JSON 404s; any other GET path gets ``index.html`` so
the single-page app can route it, unless the request asks only for JSON (``Accept:
application/json``): an API client that mistyped a path gets the JSON error envelope and a 404,
not a page of HTML with a 200.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Request, Response, get

from docstream.errors import NotFoundError

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_PREFIXES = (
    "auth/",
    "documents",
    "suggest/",
    "people/",
    "ws/",
    "schema",
    "health",
    "metrics",
    "invitations",
    "events",
    "admin/",
)

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


def index_response() -> Response[bytes]:
    """The web UI's ``index.html``, for a page path that an API router also claims."""
    return _index(STATIC_DIR)


@get("/", include_in_schema=False, sync_to_thread=False)
def index_page() -> Response[bytes]:
    return index_response()


def ui_page() -> Response[bytes]:
    """The single-page app's ``index.html``, for a page path that an API route also answers."""
    return _index(STATIC_DIR)


def wants_only_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header lists JSON types only (``application/json``, ``+json``)."""
    if not accept:
        return False
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    types = [t for t in types if t]
    return bool(types) and all(t == "application/json" or t.endswith("+json") for t in types)


@get("/{path:path}", include_in_schema=False, sync_to_thread=False)
def ui_files(path: str, request: Request[Any, Any, Any]) -> Response[bytes]:
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
    if wants_only_json(request.headers.get("accept")):
        raise NotFoundError(f"no route GET /{relative}")
    return _index(STATIC_DIR)
