"""Helpers of the REST tests: the error-envelope check, documents, and accounts registered through
the in-process test client (``register`` is ``testkit.accounts.register_async``)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from testkit.accounts import PASSWORD, Account, bearer, unique_email
from testkit.accounts import register_async as register

__all__ = [
    "PASSWORD",
    "Account",
    "LoopbackPeer",
    "PeerFromHeader",
    "assert_error",
    "bearer",
    "create_document",
    "peer",
    "register",
    "unique_email",
]

#: Text that must never reach a client: stack traces, SQL, driver names, file paths.
_LEAKS = re.compile(
    r"Traceback|File \"|\bline \d+\b|sqlite3?\.|psycopg|SELECT |INSERT |UPDATE |DELETE FROM|"
    r"\.py\b|Exception\(",
    re.IGNORECASE,
)


async def create_document(client: Any, owner: Account, title: str = "Notes") -> dict[str, Any]:
    response = await client.post("/documents", json={"title": title}, headers=owner.headers)
    assert response.status_code == 201, response.text
    doc: dict[str, Any] = response.json()
    return doc


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The envelope ``{"error": {"code", "message"}}`` with ``X-Request-Id``, and no leaks."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("x-request-id"), "every response carries X-Request-Id"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and isinstance(error["message"], str), error
    if code is not None:
        assert error["code"] == code, error
    # The 404 for an unknown route names the path the client sent: that is not a leak.
    text = response.text.replace(response.request.url.path, "<path>")
    assert not _LEAKS.search(text), f"the error leaks internals: {response.text}"
    return body


class LoopbackPeer:
    """Test-only outermost ASGI layer: every request comes from 127.0.0.1 (the Litestar test
    client says ``testclient``) and names ``localhost``, as a request from the server's own host
    does (a loopback peer must name a loopback host: the DNS-rebinding check)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope["client"] = ("127.0.0.1", 50000)
        headers = [(k, v) for k, v in scope.get("headers", []) if bytes(k).lower() != b"host"]
        scope["headers"] = [*headers, (b"host", b"localhost")]
        await self.app(scope, receive, send)


class PeerFromHeader:
    """Test-only outermost layer: ``X-Test-Peer: 1.2.3.4`` becomes the TCP peer address."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        for key, value in scope.get("headers", ()):
            if key == b"x-test-peer":
                scope["client"] = (value.decode(), 40000)
        await self.app(scope, receive, send)


def peer(address: str, forwarded: str | None = None) -> dict[str, str]:
    headers = {"X-Test-Peer": address}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return headers
