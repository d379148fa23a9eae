"""``GET /search``: full-text search across every document the caller can open.

``/search`` is also the web UI's search page: a browser navigating there (``Accept: text/html``)
gets the UI, before any sign-in check; the UI itself and API clients ask for JSON. The rules (who
sees what, the query language, the limits) are in :mod:`docstream.services.search.query`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import Parameter

from docstream.bootstrap import Services
from docstream.services.identity import Identity
from docstream.services.search.query import MAX_LIMIT, MAX_OFFSET, MAX_QUERY, SearchPage
from docstream.web import static

Query = Annotated[str, Parameter(max_length=MAX_QUERY, description="the words to find")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="the most results")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="results to skip")]


async def _page_for_browsers(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """A browser opening the search page gets the web UI, not this route's JSON."""
    if "text/html" not in request.headers.get("accept", ""):
        return None
    page = static.ui_page()
    page.headers["Vary"] = "Accept"
    return page


@get(
    "/",
    summary="Documents you can open that contain these words, the best first",
    before_request=_page_for_browsers,
)
async def search_documents(
    caller: Identity, services: Services, q: Query = "", limit: Limit = 20, offset: Offset = 0
) -> SearchPage:
    return await services.search.search(caller, q, limit, offset)


router = Router(path="/search", route_handlers=[search_documents], tags=["search"])
