"""Raw ASGI middleware: request ids (in every response and every log line), traces, metrics and
the rate limit.

They are plain ASGI callables rather than Litestar middleware so that they also wrap the responses
Litestar produces for unknown routes and wrong methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from docstream import metrics, tracing
from docstream.logs import request_id_var, scope_var
from docstream.web.errors import code_for_status, error_body
from docstream.web.limits import (
    FORWARDING_HEADERS,
    TokenPeek,
    address_key,
    budget_of,
    refuse_websocket,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("docstream.web")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class RequestIdMiddleware:
    """Echo a sane ``X-Request-Id`` or generate one; expose it and the scope to logging
    (:mod:`docstream.logs`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        rid = given if given and _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        scope_token = scope_var.set(scope)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.send":  # the hot path of a live socket
                await send(message)
                return
            if kind in ("http.response.start", "websocket.accept", "websocket.http.response.start"):
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            scope_var.reset(scope_token)
            request_id_var.reset(token)


class MetricsMiddleware:
    """Times every HTTP request for ``docstream_http_request_seconds``, labelled by the route's
    template (``/documents/{doc_id}``, never the id itself: one series per route, not per
    document) and the response status. Requests no route matched share ``unmatched``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("path_template") or "unmatched"
            metrics.HTTP_SECONDS.labels(scope.get("method", ""), route, str(status)).observe(
                time.perf_counter() - started
            )


#: The request methods a span names as they are; any other is ``_OTHER`` (the conventions'
#: rule: a client must not be able to make up span names).
_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "QUERY")
)


class TracingMiddleware:
    """One OpenTelemetry span per HTTP request (:mod:`docstream.tracing`), named like the
    metrics' series by the route's template (``GET /documents/{doc_id}``, never the id; a
    request no route matched is named by its method alone), with the OpenTelemetry HTTP
    attributes ``http.request.method``, ``http.route`` and ``http.response.status_code``.

    A ``traceparent`` header (W3C trace context) makes the span a child of the caller's. A 5xx
    answer sets the span's status to error; a 4xx does not (the server did its job: the
    conventions' rule for server spans). No path or query string is recorded: both may carry
    tokens (invitation and reset links, public links). WebSocket sessions have their own span
    (``docstream.web.routes.ws``). ``create_app`` adds this layer only when tracing is on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not tracing.enabled():
            await self.app(scope, receive, send)
            return
        given = str(scope.get("method", ""))
        method = given if given in _METHODS else "_OTHER"
        headers = {
            bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
            for k, v in scope.get("headers", ())
        }
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        attributes = {
            "http.request.method": method,
            "url.scheme": str(scope.get("scheme", "http")),
            "network.protocol.version": str(scope.get("http_version", "1.1")),
            "docstream.request_id": request_id_var.get(),
        }
        name = "HTTP" if method == "_OTHER" else method
        with tracing.span(name, attributes, kind="server", parent_headers=headers) as span:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = scope.get("path_template")
                if route:
                    span.set_attribute("http.route", route)
                    tracing.rename(span, f"{name} {route}")
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    tracing.fail(span, f"HTTP {status}")


class DrainRefusedBodyMiddleware:
    """Read the rest of a request body the app refused (413) before answering.

    A server that answers and closes while the client is still sending leaves unread data in the
    socket, and the kernel then resets the connection: the client loses the 413 (and its message).
    Draining a bounded amount first lets the client read the answer.
    """

    def __init__(
        self, app: ASGIApp, *, limit: int = 16 * 1024 * 1024, timeout: float = 2.0
    ) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False

        async def tracking_receive() -> Message:
            nonlocal complete
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                complete = True
            return message

        async def drain() -> None:
            nonlocal complete
            drained = 0
            while not complete and drained < self.limit:
                message = await receive()
                drained += len(message.get("body", b""))
                if message["type"] == "http.disconnect" or not message.get("more_body", False):
                    complete = True

        async def send_after_drain(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(drain(), self.timeout)
            await send(message)

        await self.app(scope, tracking_receive, send_after_drain)


class TrustedProxies:
    """Which peers may tell us the client address through ``X-Forwarded-For``.

    Forwarding headers from any other peer are ignored (anyone can send them) and logged as a
    warning, once per peer per ``warn_interval`` seconds: a proxy that is missing from
    ``trusted_proxies`` makes every client look like the proxy (one shared rate limit).
    """

    FORWARDING = FORWARDING_HEADERS

    def __init__(
        self,
        entries: tuple[str, ...],
        *,
        warn_interval: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._networks = [ipaddress.ip_network(e, strict=False) for e in entries]
        self._warn_interval = warn_interval
        self._clock = clock
        self._warned: dict[str, float] = {}

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._networks)

    def client_ip(self, scope: Scope) -> str:
        peer = scope.get("client")
        address = str(peer[0]) if peer else "unknown"
        if not self._networks or not self.trusts(address):
            self._warn_if_forwarded(scope, address)
            return address
        forwarded = _header(scope, b"x-forwarded-for")
        if not forwarded:
            return address
        # Walk from the nearest hop back; the first untrusted address is the client.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not self.trusts(hop):
                return hop
        return address

    def _warn_if_forwarded(self, scope: Scope, peer: str) -> None:
        names = [
            key.decode("latin-1")
            for key, _ in scope.get("headers", ())
            if bytes(key).lower() in self.FORWARDING
        ]
        if not names:
            return
        now = self._clock()
        last = self._warned.get(peer)
        if last is not None and now - last < self._warn_interval:
            return
        if len(self._warned) >= 10_000:  # bounded: forget peers not warned about lately
            cutoff = now - self._warn_interval
            self._warned = {p: t for p, t in self._warned.items() if t >= cutoff}
        self._warned[peer] = now
        log.warning(
            "ignored %s from %s, which is not a trusted proxy (set trusted_proxies if it is "
            "your load balancer; until then its clients share one rate limit)",
            "/".join(sorted(set(names))),
            peer,
        )


class FixedWindowCounter:
    """In-process per-key counter for one-minute windows (the single-process default)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._last_sweep = 0

    async def hit(self, key: str, window: int) -> int:
        if window != self._last_sweep:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            self._last_sweep = window
        current = self._counts.get(key)
        count = current[1] + 1 if current and current[0] == window else 1
        self._counts[key] = (window, count)
        return count


class Counter(Protocol):
    """A per-key counter of hits in a window; ``hit`` returns the count including this hit."""

    async def hit(self, key: str, window: int) -> int: ...


@dataclass(frozen=True, slots=True)
class Budget:
    """``limit`` requests per minute; keyed by the signed-in user if ``per_user`` (and there is
    one), else by the client address (its /64 for IPv6)."""

    limit: int
    per_user: bool = False


class RateLimitMiddleware:
    """Requests per minute in separate budgets (see :mod:`docstream.web.limits`); 429 with
    ``Retry-After`` beyond. ``limit`` is the general API budget per client address; ``budgets``
    adds the others by name (``auth``, ``ws``, ``typeahead``); a request whose budget is not
    listed spends the general one. A refused WebSocket handshake answers HTTP 429 (or, on a
    server without the denial response extension, closes with 4429 after accepting)."""

    EXEMPT = ("/health",)
    API_PREFIXES = (
        "/auth",
        "/documents",
        "/suggest",
        "/people",
        "/ws",
        "/schema",
        "/invitations",
        "/events",
        "/search",
    )

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        proxies: TrustedProxies,
        counter: Counter,
        clock: Callable[[], float] = time.time,
        budgets: Mapping[str, Budget] | None = None,
        peek: TokenPeek | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.proxies = proxies
        self.counter = counter
        self.clock = clock
        self.budgets: dict[str, Budget] = {"api": Budget(limit), **(budgets or {})}
        self.peek = peek or TokenPeek()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not path.startswith(self.API_PREFIXES):
            await self.app(scope, receive, send)
            return
        now = self.clock()
        window = int(now // 60)
        name = budget_of(scope)
        if name not in self.budgets:
            name = "api"
        budget = self.budgets[name]
        user = self.peek.user_id(scope) if budget.per_user else None
        who = f"u:{user}" if user else f"a:{address_key(self.proxies.client_ip(scope))}"
        key = who if name == "api" else f"{name}:{who}"
        count = await self.counter.hit(key, window)
        if count <= budget.limit:
            await self.app(scope, receive, send)
            return
        retry_after = str(max(1, int((window + 1) * 60 - now + 0.999)))
        log.info("rate limit (%s) exceeded for %s (%d requests this minute)", name, who, count)
        metrics.RATE_LIMITED.labels(name).inc()
        message = f"more than {budget.limit} {_WHAT[name]} per minute; retry in {retry_after} s"
        if scope["type"] == "websocket":
            await refuse_websocket(
                scope,
                receive,
                send,
                status=429,
                code="RATE_LIMIT_EXCEEDED",
                message=message,
                headers=[(b"retry-after", retry_after.encode())],
            )
            return
        body = error_body("RATE_LIMIT_EXCEEDED", message)
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", retry_after.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_WHAT = {
    "api": "requests",
    "auth": "sign-in or sign-up attempts",
    "ws": "connection attempts",
    "typeahead": "suggestion requests",
}


class ErrorEnvelopeMiddleware:
    """Turn any non-JSON error response into the JSON envelope of docs/protocol.md §7.

    Litestar answers a few errors itself, below the exception handlers: a refused CORS preflight
    is a ``text/plain`` 400 ("Disallowed CORS Origin"). This layer buffers such a response (only
    responses with status >= 400 and a non-JSON content type) and replaces its body with the
    envelope, keeping the status and the other headers; the original text becomes the message.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "HEAD":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_enveloped(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if message["status"] >= 400 and not _is_json(message.get("headers", [])):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(bytes(message.get("body", b"")))
                if message.get("more_body", False):
                    return
                status = int(held["status"])
                original = b"".join(chunks).decode("utf-8", "replace").strip()
                text = original if 0 < len(original) <= 200 and original.isprintable() else ""
                body = error_body(code_for_status(status), text or f"HTTP {status}")
                headers = [
                    (k, v)
                    for k, v in held.get("headers", [])
                    if k.lower() not in (b"content-type", b"content-length")
                ]
                headers += [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({**held, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_enveloped)


def _is_json(headers: Any) -> bool:
    for key, value in headers:
        if bytes(key).lower() == b"content-type":
            return bytes(value).split(b";")[0].strip().lower() == b"application/json"
    return False
