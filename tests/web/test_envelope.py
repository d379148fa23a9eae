"""``ErrorEnvelopeMiddleware``: error responses Litestar writes itself become the JSON envelope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.web.app import create_app
from docstream.web.middleware import ErrorEnvelopeMiddleware, Scope
from testkit.config import SettingsFactory
from tests.web.api import assert_error


def responder(status: int, content_type: bytes | None, *chunks: bytes) -> Any:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        headers = [(b"x-extra", b"kept")]
        if content_type is not None:
            headers.append((b"content-type", content_type))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send(
                {"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1}
            )

    return app


async def call(app: Any, method: str = "GET") -> tuple[dict[str, Any], dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await ErrorEnvelopeMiddleware(app)(
        {"type": "http", "method": method, "path": "/x"}, receive, send
    )
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start, dict(start["headers"]), body


@pytest.mark.parametrize(
    "status, content_type, chunks, code, message",
    [
        (
            400,
            b"text/plain; charset=utf-8",
            [b"Disallowed CORS Origin"],
            "VALIDATION_ERROR",
            "Disallowed CORS Origin",
        ),
        (405, b"text/html", [b"<h1>", b"nope</h1>"], "METHOD_NOT_ALLOWED", "<h1>nope</h1>"),
        (404, None, [b""], "NOT_FOUND", "HTTP 404"),
        (502, b"text/plain", [b"bad\x00gateway"], "INTERNAL_ERROR", "HTTP 502"),
        (429, b"text/plain", [b"x" * 300], "RATE_LIMIT_EXCEEDED", "HTTP 429"),
    ],
)
async def test_non_json_errors_become_the_envelope(
    status: int, content_type: bytes | None, chunks: list[bytes], code: str, message: str
) -> None:
    start, headers, body = await call(responder(status, content_type, *chunks))
    assert start["status"] == status
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"x-extra"] == b"kept"
    assert json.loads(body) == {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    "status, content_type",
    [
        (400, b"application/json"),
        (401, b"application/json; charset=utf-8"),
        (200, b"text/html"),
        (204, None),
        (302, b"text/plain"),
    ],
)
async def test_json_errors_and_successes_pass_through(
    status: int, content_type: bytes | None
) -> None:
    start, headers, body = await call(responder(status, content_type, b"as", b" is"))
    assert start["status"] == status and body == b"as is"
    assert headers.get(b"content-type") == content_type


async def test_head_requests_pass_through() -> None:
    _, headers, body = await call(responder(400, b"text/plain", b""), method="HEAD")
    assert headers[b"content-type"] == b"text/plain" and body == b""


async def test_refused_cors_preflight_through_the_layer(make_settings: SettingsFactory) -> None:
    """How app.py should wire it: outside Litestar's own handler (a change request)."""
    app: Litestar = create_app(make_settings(allowed_origins=("http://localhost:5173",)))
    app.asgi_handler = ErrorEnvelopeMiddleware(app.asgi_handler)  # type: ignore[assignment]
    async with AsyncTestClient(app) as client:
        response = await client.options(
            "/documents",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert body["error"]["message"] == "Disallowed CORS Origin"
        assert "access-control-allow-origin" not in response.headers
        ok = await client.options(
            "/documents",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        )
        assert ok.status_code in (200, 204)
