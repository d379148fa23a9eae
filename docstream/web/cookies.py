"""The auth cookie: ``Secure`` over HTTPS, and a CSRF check on the requests it authenticates.

The cookie holds the access token so that same-origin pages (the WebSocket above all) are signed
in without script access to the token. A browser attaches it to requests other sites make, too:
``SameSite=Strict`` keeps it off cross-*site* requests, but not off requests from a sibling
origin of the same site (``evil.example.com`` to ``docs.example.com``) or from browsers that
ignore SameSite. So a state-changing request (POST, PUT, PATCH, DELETE) authenticated by the
cookie must also:

- carry ``Content-Type: application/json``: a page of another origin cannot send that without a
  CORS preflight, which only ``allowed_origins`` pass (a form or a ``text/plain`` fetch can);
- come from the serving origin or an allowed one: ``Sec-Fetch-Site: same-origin``, or an
  ``Origin`` that is the serving origin (its host is the request's ``Host``) or in
  ``allowed_origins``. A request with neither header is not from a current browser and passes on
  the content type alone.

Requests with ``Authorization: Bearer`` are not affected: a browser never adds that header by
itself. Register, login and refresh, which *set* the cookie, follow the same rules, so another
site cannot sign a visitor in to the attacker's account (login CSRF).

``https`` is what the request arrived over, directly or, from a trusted proxy
(``trusted_proxies``), as its ``X-Forwarded-Proto`` says.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response

from docstream.errors import ForbiddenError
from docstream.settings import Settings
from docstream.web.middleware import TrustedProxies

AUTH_COOKIE = "docstream_access"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@functools.lru_cache(maxsize=8)
def _proxies(entries: tuple[str, ...]) -> TrustedProxies:
    return TrustedProxies(entries)


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def is_https(scope: Any, settings: Settings) -> bool:
    """Whether the client reached us over HTTPS (directly or through a trusted proxy)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    peer = scope.get("client")
    if not peer or not _proxies(settings.trusted_proxies).trusts(str(peer[0])):
        return False
    forwarded = _header(scope, b"x-forwarded-proto")
    if not forwarded:
        return False
    # The proxy nearest to us appends last; it is the one we trust.
    return forwarded.split(",")[-1].strip().lower() == "https"


def serving_origin(request: Request[Any, Any, Any], settings: Settings) -> str:
    """``scheme://host`` as the client sees this server (for links shown to it)."""
    scheme = "https" if is_https(request.scope, settings) else "http"
    host = request.headers.get("host", "") or "localhost"
    return f"{scheme}://{host}"


def set_auth_cookie(
    response: Response[Any], token: str, request: Request[Any, Any, Any], settings: Settings
) -> None:
    response.set_cookie(
        AUTH_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_https(request.scope, settings),
        max_age=settings.access_token_ttl,
        path="/",
    )


def origin_allowed(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    if origin in allowed or "*" in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


def check_cookie_request(request: Request[Any, Any, Any], settings: Settings) -> None:
    """Refuse a state-changing request authenticated by the cookie unless it is same-origin
    JSON (see the module docstring). Safe methods pass."""
    if request.method.upper() not in UNSAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ForbiddenError(
            "send Content-Type: application/json (a browser request that uses or sets the auth "
            "cookie must be JSON; API clients may use Authorization: Bearer)"
        )
    site = request.headers.get("sec-fetch-site")
    if site == "same-origin":
        return
    origin = request.headers.get("origin")
    if origin is not None:
        if origin_allowed(origin, request.headers.get("host", ""), settings.allowed_origins):
            return
        raise ForbiddenError("cross-origin request refused")
    if site is not None:  # a browser that tells us it is cross-site and hides its origin
        raise ForbiddenError("cross-origin request refused")
