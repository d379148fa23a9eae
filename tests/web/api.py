"""Helpers shared by the REST tests: accounts, auth headers and the error-envelope check."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"
_ids = itertools.count(1)
#: Text that must never reach a client: stack traces, SQL, driver names, file paths.
_LEAKS = re.compile(
    r"Traceback|File \"|\bline \d+\b|sqlite3?\.|psycopg|SELECT |INSERT |UPDATE |DELETE FROM|"
    r"\.py\b|Exception\(",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_ids)}@example.com"


async def register(
    client: Any, email: str | None = None, password: str = PASSWORD, name: str | None = None
) -> Account:
    body: dict[str, Any] = {"email": email or unique_email(), "password": password}
    if name is not None:
        body["name"] = name
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    # The response also sets the HttpOnly auth cookie; the tests authenticate with explicit
    # headers, so forget it (or every later "anonymous" request would be signed in).
    client.cookies.clear()
    data = response.json()
    return Account(
        id=data["user"]["id"],
        email=data["user"]["email"],
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
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
