"""CORS: only the configured origins get CORS headers (none by default: the UI is same-origin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import assert_error, register

Client = AsyncTestClient[Litestar]
DEV_UI = "http://localhost:5173"


@pytest.fixture
async def client(make_settings: SettingsFactory) -> AsyncIterator[Client]:
    """An app that allows one extra origin (this file's tests are about that origin)."""
    async with AsyncTestClient(create_app(make_settings(allowed_origins=(DEV_UI,)))) as c:
        yield c


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
    }


@pytest.mark.parametrize("path", ["/documents", "/auth/login", "/documents/some-id/share"])
async def test_preflight_from_the_allowed_origin_succeeds(client: Client, path: str) -> None:
    response = await client.options(path, headers=preflight(DEV_UI))
    assert response.status_code in (200, 204), response.text
    assert response.headers["access-control-allow-origin"] == DEV_UI
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-request-id"} <= {
        h.strip() for h in allowed.split(",")
    }
    assert response.headers.get("x-request-id")


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://localhost:5174",
        "https://localhost:5173",
        "http://localhost:5173.evil.example",
        "http://evil.example/http://localhost:5173",
    ],
)
async def test_preflight_from_another_origin_gets_no_allow_origin(
    client: Client, origin: str
) -> None:
    response = await client.options("/documents", headers=preflight(origin))
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code < 500
    assert response.headers.get("x-request-id")


async def test_actual_requests_get_cors_headers_only_for_allowed_origins(client: Client) -> None:
    account = await register(client)
    allowed = await client.get("/documents", headers={**account.headers, "Origin": DEV_UI})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == DEV_UI
    exposed = {
        h.strip().lower() for h in allowed.headers["access-control-expose-headers"].split(",")
    }
    assert {"x-request-id", "retry-after"} <= exposed
    other = await client.get(
        "/documents", headers={**account.headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    # Errors carry CORS headers too, so the UI can read the envelope.
    refused = await client.get("/documents", headers={"Origin": DEV_UI})
    assert_error(refused, 401, "UNAUTHORIZED")
    assert refused.headers["access-control-allow-origin"] == DEV_UI


async def test_allowed_origins_follow_the_setting(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(allowed_origins=("https://docs.example.com",)))
    async with AsyncTestClient(app) as client:
        ok = await client.options("/documents", headers=preflight("https://docs.example.com"))
        assert ok.headers["access-control-allow-origin"] == "https://docs.example.com"
        dev = await client.options("/documents", headers=preflight(DEV_UI))
        assert "access-control-allow-origin" not in dev.headers


async def test_no_extra_origin_is_allowed_by_default(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings())) as default:
        refused = await default.options("/documents", headers=preflight(DEV_UI))
        assert "access-control-allow-origin" not in refused.headers


async def test_refused_preflight_is_the_json_envelope(client: Client) -> None:
    response = await client.options("/documents", headers=preflight("https://evil.example"))
    assert_error(response, 400)
