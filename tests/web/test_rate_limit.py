"""The rate limiter: 100 API requests per minute per client IP, then 429 with ``Retry-After``.

The limiter's clock is injected (no sleeps): ``create_app(settings, clock=...)`` gets a settable
clock. Client addresses are set per request through a test-only outer ASGI layer that copies the
``X-Test-Peer`` header into ``scope["client"]`` (the Litestar test client always says
``testclient``), so the ``X-Forwarded-For`` rules can be exercised from different peers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.web.app import create_app
from docstream.web.middleware import (
    FixedWindowCounter,
    RateLimitMiddleware,
    Scope,
    TrustedProxies,
)
from testkit.config import SettingsFactory
from tests.web.api import PeerFromHeader, assert_error, peer, register

Client = AsyncTestClient[Litestar]
MINUTE_START = 60.0 * 29_000_000  # an arbitrary window boundary


class FakeClock:
    def __init__(self, now: float = MINUTE_START + 5) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def limited_app(
    make_settings: SettingsFactory, **overrides: Any
) -> AsyncIterator[tuple[Client, FakeClock]]:
    clock = FakeClock()
    app = create_app(make_settings(**{"rate_limit_per_minute": 100, **overrides}), clock=clock)
    app.asgi_handler = PeerFromHeader(app.asgi_handler)  # type: ignore[assignment]
    async with AsyncTestClient(app) as client:
        yield client, clock


async def spend(client: Client, n: int, headers: dict[str, str]) -> list[int]:
    return [(await client.get("/documents", headers=headers)).status_code for _ in range(n)]


async def test_the_101st_request_in_a_minute_gets_429(make_settings: SettingsFactory) -> None:
    async with limited_app(make_settings) as (client, clock):
        account = await register(client)  # sign-up has a budget of its own
        statuses = [
            (await client.get("/auth/me", headers=account.headers)).status_code for _ in range(49)
        ]
        statuses += await spend(client, 50, {})  # anonymous: 401s count too
        assert 429 not in statuses and len(statuses) == 99
        hundredth = await client.get("/auth/me", headers=account.headers)
        assert hundredth.status_code == 200
        refused = await client.get("/auth/me", headers={**account.headers, "X-Request-Id": "rl-1"})
        assert_error(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert refused.headers["retry-after"] == "55"  # the window ends 55 s after MINUTE_START+5
        assert refused.headers["x-request-id"] == "rl-1"
        # Every further request this minute is refused, whatever the route or method.
        for method, path in (
            ("POST", "/documents"),
            ("GET", "/documents"),
            ("PUT", "/auth/me"),
            ("GET", "/schema/openapi.json"),
        ):
            assert_error(await client.request(method, path), 429, "RATE_LIMIT_EXCEEDED")
        clock.now = MINUTE_START + 59.2
        late = await client.get("/documents")
        assert late.status_code == 429 and late.headers["retry-after"] == "1"
        # The next minute starts afresh.
        clock.now = MINUTE_START + 60
        assert (await client.get("/auth/me", headers=account.headers)).status_code == 200


async def test_health_is_not_limited(make_settings: SettingsFactory) -> None:
    async with limited_app(make_settings, rate_limit_per_minute=3) as (client, _):
        for _ in range(20):
            assert (await client.get("/health")).status_code == 200
        assert await spend(client, 4, {}) == [401, 401, 401, 429]
        assert (await client.get("/health")).status_code == 200


async def test_the_limit_is_per_client_and_configurable(make_settings: SettingsFactory) -> None:
    async with limited_app(make_settings, rate_limit_per_minute=5) as (client, _):
        assert await spend(client, 6, peer("192.0.2.1")) == [401] * 5 + [429]
        assert await spend(client, 5, peer("192.0.2.2")) == [401] * 5
        assert await spend(client, 1, peer("2001:db8::1")) == [401]
        assert await spend(client, 1, peer("192.0.2.1")) == [429]


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    make_settings: SettingsFactory,
) -> None:
    # No trusted proxies at all, then a trusted proxy that is not this peer.
    for proxies in ((), ("10.0.0.0/8",)):
        async with limited_app(make_settings, rate_limit_per_minute=5, trusted_proxies=proxies) as (
            client,
            _,
        ):
            statuses = [
                (
                    await client.get("/documents", headers=peer("203.0.113.7", f"198.51.100.{i}"))
                ).status_code
                for i in range(6)
            ]
            assert statuses == [401] * 5 + [429], proxies
            # A spoofed chain that names the trusted proxy does not help either.
            chained = await client.get(
                "/documents", headers=peer("203.0.113.7", "198.51.100.99, 10.0.0.1")
            )
            assert_error(chained, 429, "RATE_LIMIT_EXCEEDED")


async def test_forwarded_for_from_a_trusted_proxy_is_honoured(
    make_settings: SettingsFactory,
) -> None:
    async with limited_app(
        make_settings,
        rate_limit_per_minute=5,
        trusted_proxies=("10.0.0.0/8", "::1"),
        # A proxy on loopback forwards the public host name: it must be an allowed host.
        allowed_hosts=("testserver.local",),
    ) as (client, _):
        proxy = "10.0.0.1"
        assert await spend(client, 6, peer(proxy, "198.51.100.1")) == [401] * 5 + [429]
        # Another client behind the same proxy has its own budget.
        assert await spend(client, 5, peer(proxy, "198.51.100.2")) == [401] * 5
        # The client is the nearest untrusted hop: what it prepends itself is ignored.
        spoofs = [f"1.1.1.{i}, 198.51.100.3, 10.0.0.2" for i in range(6)]
        statuses = [
            (await client.get("/documents", headers=peer(proxy, chain))).status_code
            for chain in spoofs
        ]
        assert statuses == [401] * 5 + [429]
        # The proxy's own requests (no header) count against the proxy's address.
        assert await spend(client, 5, peer(proxy)) == [401] * 5
        assert await spend(client, 1, peer("::1", "198.51.100.4")) == [401]


@pytest.mark.parametrize(
    "proxies, client, forwarded, expected",
    [
        ((), "203.0.113.1", "198.51.100.1", "203.0.113.1"),
        (("10.0.0.1",), "203.0.113.1", "198.51.100.1", "203.0.113.1"),
        (("10.0.0.1",), "10.0.0.1", "198.51.100.1", "198.51.100.1"),
        (("10.0.0.1",), "10.0.0.1", None, "10.0.0.1"),
        (("10.0.0.1",), "10.0.0.1", "", "10.0.0.1"),
        (("10.0.0.0/8",), "10.1.2.3", "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (("10.0.0.0/8",), "10.1.2.3", "10.0.0.7, 10.0.0.9", "10.1.2.3"),
        (("10.0.0.0/8",), "10.1.2.3", " , ,198.51.100.5 ", "198.51.100.5"),
        (("::1",), "::1", "2001:db8::5", "2001:db8::5"),
        (("10.0.0.1",), "not-an-ip", "198.51.100.1", "not-an-ip"),
    ],
)
def test_client_ip(
    proxies: tuple[str, ...], client: str, forwarded: str | None, expected: str
) -> None:
    headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
    scope = {"type": "http", "client": (client, 1234), "headers": headers}
    assert TrustedProxies(proxies).client_ip(scope) == expected


async def test_fixed_window_counter() -> None:
    counter = FixedWindowCounter()
    assert [await counter.hit("a", 7) for _ in range(3)] == [1, 2, 3]
    assert await counter.hit("b", 7) == 1
    assert await counter.hit("a", 8) == 1  # a new window
    assert await counter.hit("b", 8) == 1  # old windows are swept


async def test_the_limiter_alone_with_an_injected_clock() -> None:
    """The middleware without the app: exact Retry-After arithmetic at the window's edges."""
    sent: list[dict[str, Any]] = []

    async def inner(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    clock = FakeClock(MINUTE_START)
    limiter = RateLimitMiddleware(
        inner, limit=2, proxies=TrustedProxies(()), counter=FixedWindowCounter(), clock=clock
    )
    scope = {"type": "http", "path": "/documents", "client": ("192.0.2.9", 1), "headers": []}
    for now, status, retry in (
        (0, 204, None),
        (30, 204, None),
        (30.5, 429, "30"),
        (59.999, 429, "1"),
        (60, 204, None),
        (61, 204, None),
        (61, 429, "59"),
    ):
        clock.now = MINUTE_START + now
        sent.clear()
        await limiter(dict(scope), receive, send)
        start = sent[0]
        assert start["status"] == status, now
        headers = dict(start["headers"])
        assert headers.get(b"retry-after") == (retry.encode() if retry else None), now
