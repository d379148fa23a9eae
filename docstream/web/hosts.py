"""The ``Host`` check: a page from another site cannot talk to a server on loopback (DNS rebinding).

A web page at ``http://attacker.example:8000`` can make its own name resolve to ``127.0.0.1`` a
moment after it loaded (DNS rebinding). Its requests then reach a DocStream server on the user's
loopback interface as *same-origin* requests of ``attacker.example``, so neither CORS nor the
WebSocket ``Origin`` check stops them; only the ``Host`` header still names the attacker's domain.
This layer refuses such requests before anything else sees them:

- with ``allowed_hosts`` unset (the default), a request from a loopback client address (every
  request, on a server bound to loopback) must name a loopback host: ``localhost``,
  ``*.localhost`` (browsers resolve these to loopback themselves), ``127.0.0.0/8`` or ``[::1]``.
  Requests from other addresses are not checked (the server's public name is unknown);
- with ``allowed_hosts`` set, every request must name one of them (``*``: any), except that
  loopback names stay allowed from loopback clients (health checks, the desktop window).

HTTP requests get a 400 in the JSON error envelope; WebSocket upgrades get the same 400 through
the ASGI ``websocket.http.response`` extension when the server offers it (granian does), else a
close before the upgrade (HTTP 403). A request without a ``Host`` header cannot come from a browser
(HTTP/1.1 browsers always send one) and is let through; one with two ``Host`` headers is refused.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from docstream.errors import HostNotAllowedError
from docstream.protocol.codes import CLOSE_FORBIDDEN
from docstream.web.errors import error_body, status_and_code

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("docstream.web")


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header, lower-cased: ``[::1]:8000`` -> ``[::1]``."""
    value = host_header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end > 0 else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback_name(name: str) -> bool:
    """``localhost``, ``*.localhost``, a 127.0.0.0/8 address or ``[::1]``."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_loopback_address(address: object) -> bool:
    try:
        return ipaddress.ip_address(str(address)).is_loopback
    except ValueError:
        return str(address) == "localhost"


def _matches(name: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        pattern = pattern[1:]
    if pattern.startswith("."):
        return name == pattern[1:] or name.endswith(pattern)
    return name == pattern


class AllowedHostsMiddleware:
    """Refuse requests whose ``Host`` this server does not answer to (see the module docstring).

    Args:
        app: the wrapped ASGI app.
        allowed: the ``allowed_hosts`` setting (empty: automatic).
    """

    def __init__(self, app: ASGIApp, *, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = tuple(a.lower() for a in allowed)

    def permits(self, host_header: str | None, client: object) -> bool:
        if not host_header:
            return True
        name = host_name(host_header)
        local = _is_loopback_address(client)
        if local and is_loopback_name(name):
            return True
        if not self.allowed:
            return not local
        return any(_matches(name, pattern) for pattern in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [bytes(v).decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"]
        host = hosts[0] if hosts else None
        peer = scope.get("client")
        # Two Host headers are refused outright (RFC 9112 §3.2): one of them could pass the
        # check and the other be the one a later layer reads.
        if len(hosts) <= 1 and self.permits(host, peer[0] if peer else None):
            await self.app(scope, receive, send)
            return
        shown = (host or "")[:100]
        log.warning("refused a %s request for host %r (not in allowed_hosts)", kind, shown)
        exc = HostNotAllowedError(
            f"this server does not answer to the host {shown!r} (protection against DNS "
            "rebinding); if that is its name, add it to the allowed_hosts setting "
            "(DOCSTREAM_ALLOWED_HOSTS)"
        )
        status, code = status_and_code(exc)
        body = error_body(code, exc.detail)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if kind == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in (scope.get("extensions") or {}):
            await send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send(
                {"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": "host not allowed"}
            )
