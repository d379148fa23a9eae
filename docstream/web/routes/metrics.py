"""``GET /metrics``: the Prometheus scrape (what is counted: :mod:`docstream.metrics`).

Metrics leak activity (how many documents are open, how busy the server is, which error codes
clients hit), so the route is not public: it answers requests from this host only (a Prometheus
or an agent beside the server), unless ``metrics_token`` is set, in which case exactly the callers
that present it as a bearer token, from anywhere. The token is compared in constant time.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get

from docstream import metrics
from docstream.bootstrap import Services
from docstream.errors import ForbiddenError, UnauthorizedError
from docstream.web.limits import is_local


@get(
    "/metrics", summary="Prometheus metrics (local requests, or the metrics token)", tags=["health"]
)
async def scrape(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    token = services.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise UnauthorizedError("GET /metrics needs the metrics token as a bearer token")
    elif not is_local(request.scope):
        raise ForbiddenError(
            "GET /metrics answers requests from this host only; set metrics_token to scrape "
            "from elsewhere"
        )
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
