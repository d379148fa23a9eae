"""Abuse limits at the edge: which budget a request spends, whose it is, how a socket is refused.

The rate limiter (:class:`docstream.web.middleware.RateLimitMiddleware`) keeps separate budgets so
that one kind of traffic cannot starve another: a person typing (hundreds of word completions a
minute) must not use up the budget that their next WebSocket handshake or sign-in needs. Budgets
are keyed by the client address, or by the signed-in user where that is fairer (typeahead: many
people behind one NAT each type at their own pace). An IPv6 client is keyed by its /64, because one
subscriber usually holds a whole /64 and could otherwise mint a fresh address per request.

The user is found without the database, by verifying the access token's signature and expiry
(:class:`TokenPeek`): cheap enough to run before every request, and unforgeable (an unverified
``sub`` would let anyone spend someone else's budget, or mint budgets at will).

A refused WebSocket handshake answers HTTP 429 through the ASGI websocket denial response extension
when the server offers it (granian does), and otherwise accepts and closes with 4429: never the
bare ``websocket.close`` before accept, which servers turn into a 403 that a client would take for
"forbidden". :class:`SocketLimitMiddleware` caps the sockets open at once per user and per address
(per process: each worker counts its own). A connection's own flood control (messages and bytes
per second, spent by every frame, also before ``hello``) is part of the socket session
(``docstream/protocol/budget.py``).
"""

from __future__ import annotations

import collections
import hashlib
import ipaddress
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from docstream.errors import RateLimitedError
from docstream.protocol.codes import CLOSE_RATE_LIMITED
from docstream.web.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("docstream.web")

AUTH_COOKIE = "docstream_access"  # the same name as docstream.web.deps.AUTH_COOKIE
_TYPEAHEAD = re.compile(
    r"^/(?:search|suggest/titles|people/suggest|documents/[^/]+/(?:suggest|mentions/suggest|mentions/select))/?$"
)
_SIGN_IN = (
    "/auth/login",
    "/auth/register",
    "/auth/login/",
    "/auth/register/",
    "/auth/password-reset",
    "/auth/password-reset/",
    "/auth/password-reset/confirm",
    "/auth/password-reset/confirm/",
)


def address_key(address: str) -> str:
    """The budget key of a client address: IPv4 as is, IPv6 by its /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


FORWARDING_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def is_local(scope: Mapping[str, object]) -> bool:
    """A request from this host itself: a loopback peer that was not forwarded by a proxy (a
    proxy on this host passes its clients on from loopback too, with a forwarding header)."""
    peer = scope.get("client")
    if not isinstance(peer, (tuple, list)) or not peer:
        return False
    try:
        if not ipaddress.ip_address(str(peer[0])).is_loopback:
            return False
    except ValueError:
        return False
    headers = scope.get("headers")
    names = [bytes(h[0]).lower() for h in headers] if isinstance(headers, (list, tuple)) else []
    return not any(name in FORWARDING_HEADERS for name in names)


def budget_of(scope: Scope) -> str:
    """Which budget a request spends: ``auth``, ``ws``, ``typeahead`` or ``api``."""
    path: str = scope.get("path", "")
    if scope["type"] == "websocket":
        return "ws"
    method = scope.get("method", "GET")
    if method == "POST" and path in _SIGN_IN:
        return "auth"
    if _TYPEAHEAD.match(path):
        return "typeahead"
    return "api"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def token_of(scope: Scope) -> str | None:
    """The access token a request carries: Authorization header, ``?token=`` (WebSocket) or the
    auth cookie, in the order ``docstream.web.deps.bearer_token`` reads them."""
    header = _header(scope, b"authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None
    if scope["type"] == "websocket":
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        tokens = parse_qs(query).get("token")
        if tokens and tokens[0]:
            return tokens[0]
    cookies = _header(scope, b"cookie")
    if cookies:
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == AUTH_COOKIE and value:
                return value
    return None


class TokenPeek:
    """The verified user id behind a request, from its access token alone (no database).

    ``decode`` (token -> user id, raising on an invalid token) is set once the services are built;
    until then, and for invalid tokens, a request has no user and spends its address's budget.
    """

    def __init__(self, decode: Callable[[str], str] | None = None) -> None:
        self.decode = decode

    def user_id(self, scope: Scope) -> str | None:
        if self.decode is None:
            return None
        token = token_of(scope)
        if token is None or len(token) > 4096:
            return None
        try:
            return self.decode(token)
        except Exception:  # any invalid token: no user (the route will say 401 itself)
            return None


async def refuse_websocket(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    status: int,
    code: str,
    message: str,
    close_code: int = CLOSE_RATE_LIMITED,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Refuse a WebSocket handshake the app has not answered yet.

    With the denial response extension: an HTTP ``status`` with the JSON error envelope. Without
    it: accept, then close with ``close_code`` (a bare close before accept would read as 403).
    """
    await receive()  # websocket.connect
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = error_body(code, message)
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": close_code, "reason": message[:120]})


class ClientAddress(Protocol):
    """What the socket cap needs of ``TrustedProxies``."""

    def client_ip(self, scope: Scope) -> str: ...


class SocketLimitMiddleware:
    """At most ``per_user`` open WebSockets per signed-in user and ``per_address`` per client
    address (its /64 for IPv6), in this process; one more is refused with HTTP 429 before the
    upgrade. A socket counts from its handshake until its handler returns."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_user: int,
        per_address: int,
        proxies: ClientAddress,
        peek: TokenPeek,
    ) -> None:
        self.app = app
        self.per_user = per_user
        self.per_address = per_address
        self.proxies = proxies
        self.peek = peek
        self.open: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        keys = [(f"a:{address_key(self.proxies.client_ip(scope))}", self.per_address, "address")]
        user = self.peek.user_id(scope)
        if user is not None:
            keys.append((f"u:{user}", self.per_user, "account"))
        for key, limit, what in keys:
            if self.open[key] >= limit:
                log.info("websocket refused: %s already has %d open sockets", key, limit)
                await refuse_websocket(
                    scope,
                    receive,
                    send,
                    status=429,
                    code="RATE_LIMIT_EXCEEDED",
                    message=f"too many open connections from this {what} (at most {limit})",
                    headers=[(b"retry-after", b"5")],
                )
                return
        for key, _, _ in keys:
            self.open[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            for key, _, _ in keys:
                self.open[key] -= 1
                if self.open[key] <= 0:
                    del self.open[key]


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> int: ...


class AccountLimiter:
    """Sign-in and sign-up attempts per account (e-mail address) and minute, whatever address
    they come from (a password guesser spread over many addresses). The e-mail is hashed into
    the key, so the shared counter (Redis) never holds addresses."""

    def __init__(
        self, counter: Counter, limit: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.counter = counter
        self.limit = limit
        self.clock = clock

    async def check(self, email: str) -> None:
        """Count one attempt; raise RateLimitedError past the limit."""
        now = self.clock()
        window = int(now // 60)
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
        count = await self.counter.hit(f"account:{digest[:32]}", window)
        if count > self.limit:
            retry = max(1.0, (window + 1) * 60 - now)
            raise RateLimitedError(
                f"too many sign-in attempts for this account; retry in {int(retry + 0.999)} s",
                retry_after=retry,
            )
