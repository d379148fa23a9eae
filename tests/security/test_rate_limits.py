"""Rate limits in separate budgets: typing, handshakes, sign-in; IPv6 by /64; forwarded headers.

The network attacks run against a real ``docstream serve`` per backend (``start_server``, with the
budgets under test set back to real values: the fixtures lift them for every other test); the
ones that need many client addresses use the in-process app with a test-only layer that sets the
TCP peer from a header.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from docstream.web.app import create_app
from testkit.accounts import Users
from testkit.config import SettingsFactory
from testkit.processes import ServerFactory, ServerProcess, a_minute_with_room
from testkit.raw import RawPeer, replica
from tests.web.api import PASSWORD, PeerFromHeader, assert_error, peer, register, unique_email

Client = AsyncTestClient[Litestar]

#: The real budgets (the collaboration fixtures lift them for the tests that do not test them).
REAL_BUDGETS = {
    "DOCSTREAM_RATE_LIMIT_PER_MINUTE": "100",
    "DOCSTREAM_TYPEAHEAD_RATE_LIMIT_PER_MINUTE": "1200",
    "DOCSTREAM_WS_HANDSHAKES_PER_MINUTE": "120",
}


@pytest.fixture(autouse=True)
async def one_window() -> None:
    """Every budget here counts per wall-clock minute: start each test where it fits in one."""
    await a_minute_with_room()


@asynccontextmanager
async def app_from_peers(make_settings: SettingsFactory, **overrides: Any) -> AsyncIterator[Client]:
    app = create_app(make_settings(**overrides))
    app.asgi_handler = PeerFromHeader(app.asgi_handler)  # type: ignore[assignment]
    async with AsyncTestClient(app) as client:
        yield client


async def test_a_person_typing_can_still_open_their_document(
    start_server: ServerFactory,
) -> None:
    """130 word completions in a minute (one person typing) used to spend the whole per-address
    budget, and the next WebSocket handshake was refused with HTTP 403."""
    with start_server(env=REAL_BUDGETS) as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Typing")
            headers = {"Authorization": f"Bearer {ann.access_token}"}
            async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
                statuses = [
                    (
                        await http.get(f"/documents/{doc['id']}/suggest", params={"q": "wor"[:n]})
                    ).status_code
                    for n in [1, 2, 3] * 44
                ]
                assert statuses == [200] * 132
                # Other API requests still have their own budget...
                assert (await http.get("/documents")).status_code == 200
            # ...and so has the handshake: the document opens.
            peer = await RawPeer.open(server.url, doc["id"], ann.access_token)
            welcome = await peer.hello(replica())
            assert welcome["doc_id"] == doc["id"]
            await peer.close()
        finally:
            await users.close()


async def test_a_refused_handshake_answers_429_with_retry_after_not_403(
    start_server: ServerFactory,
) -> None:
    with start_server(env={"DOCSTREAM_WS_HANDSHAKES_PER_MINUTE": "3"}) as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Handshakes")
            url = f"{server.ws_url}/ws/document/{doc['id']}?token={ann.access_token}"
            for _ in range(3):
                async with connect(url):
                    pass
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url):
                    pass
            response = refused.value.response
            assert response.status_code == 429
            assert 1 <= int(response.headers["Retry-After"]) <= 60
            assert b"RATE_LIMIT_EXCEEDED" in bytes(response.body or b"")
            # REST requests from the same address are not affected.
            async with httpx.AsyncClient(base_url=server.url) as http:
                me = await http.get(
                    "/auth/me", headers={"Authorization": f"Bearer {ann.access_token}"}
                )
                assert me.status_code == 200
        finally:
            await users.close()


async def test_sign_in_attempts_on_one_account_are_limited_whatever_the_address(
    make_settings: SettingsFactory,
) -> None:
    """A password guesser spread over many addresses still gets 10 tries a minute per account."""
    async with app_from_peers(make_settings, auth_rate_limit_per_account=10) as client:
        victim = await register(client)
        statuses = []
        for i in range(12):
            response = await client.post(
                "/auth/login",
                json={"email": victim.email.upper(), "password": f"guess-{i}-xxxx"},
                headers=peer(f"198.51.100.{i + 1}"),
            )
            statuses.append(response.status_code)
        # The sign-up counted as the first attempt on this account.
        assert statuses == [401] * 9 + [429] * 3, statuses
        refused = await client.post(
            "/auth/login",
            json={"email": victim.email, "password": PASSWORD},
            headers=peer("203.0.113.50"),
        )
        body = assert_error(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert "this account" in body["error"]["message"]
        assert int(refused.headers["retry-after"]) >= 1
        # Another account is not affected.
        other = await register(client)
        ok = await client.post(
            "/auth/login",
            json={"email": other.email, "password": PASSWORD},
            headers=peer("198.51.100.1"),
        )
        assert ok.status_code == 200


async def test_sign_in_attempts_from_one_address_are_limited_in_their_own_budget(
    make_settings: SettingsFactory,
) -> None:
    async with app_from_peers(
        make_settings, auth_rate_limit_per_minute=5, rate_limit_per_minute=100
    ) as client:
        attacker = peer("192.0.2.66")
        statuses = [
            (
                await client.post(
                    "/auth/login",
                    json={"email": unique_email("spray"), "password": "password123"},
                    headers=attacker,
                )
            ).status_code
            for _ in range(7)
        ]
        assert statuses == [401] * 5 + [429] * 2
        signup = await client.post(
            "/auth/register",
            json={"email": unique_email(), "password": PASSWORD},
            headers=attacker,
        )
        assert_error(signup, 429, "RATE_LIMIT_EXCEEDED")
        # The general API budget of that address is untouched; another address signs in.
        assert (await client.get("/documents", headers=attacker)).status_code == 401
        other = await client.post(
            "/auth/register",
            json={"email": unique_email(), "password": PASSWORD},
            headers=peer("192.0.2.67"),
        )
        assert other.status_code == 201


async def test_ipv6_clients_share_one_budget_per_64(make_settings: SettingsFactory) -> None:
    """Minting a fresh address of one's /64 per request does not buy a fresh budget."""
    async with app_from_peers(make_settings, rate_limit_per_minute=5) as client:
        statuses = [
            (await client.get("/documents", headers=peer(f"2001:db8:1:2::{i:x}"))).status_code
            for i in range(1, 8)
        ]
        assert statuses == [401] * 5 + [429] * 2
        # An IPv4-mapped address counts as its IPv4 address.
        assert (await client.get("/documents", headers=peer("::ffff:192.0.2.9"))).status_code == 401
        # Another /64 has its own budget.
        assert (await client.get("/documents", headers=peer("2001:db8:1:3::1"))).status_code == 401


async def test_typeahead_is_limited_per_user_not_per_address(
    make_settings: SettingsFactory,
) -> None:
    """Two people behind one address each type at their own pace; each has their own budget."""
    async with app_from_peers(
        make_settings, typeahead_rate_limit_per_minute=20, rate_limit_per_minute=1000
    ) as client:
        office = peer("192.0.2.10")
        ann, bob = await register(client), await register(client)

        async def type_(account: Any, n: int) -> list[int]:
            return [
                (
                    await client.get(
                        "/suggest/titles", params={"q": "q"}, headers={**office, **account.headers}
                    )
                ).status_code
                for _ in range(n)
            ]

        assert await type_(ann, 22) == [200] * 20 + [429] * 2
        assert await type_(bob, 20) == [200] * 20
        # A forged token does not pick someone else's budget: it spends the address's.
        forged = {**office, "Authorization": "Bearer " + ann.access_token[:-4] + "AAAA"}
        assert (await client.get("/suggest/titles", headers=forged)).status_code == 401


async def test_forwarded_headers_from_an_untrusted_peer_are_logged_once_per_peer(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with app_from_peers(make_settings, trusted_proxies=("10.0.0.1",)) as client:
        with caplog.at_level(logging.WARNING, logger="docstream.web"):
            for i in range(5):
                await client.get("/documents", headers=peer("203.0.113.7", f"198.51.100.{i}"))
            await client.get(
                "/documents", headers={**peer("203.0.113.8"), "Forwarded": "for=198.51.100.1"}
            )
            # From the trusted proxy: no warning.
            await client.get("/documents", headers=peer("10.0.0.1", "198.51.100.1"))
    warnings = [r.getMessage() for r in caplog.records if "not a trusted proxy" in r.getMessage()]
    assert len(warnings) == 2, warnings
    assert "203.0.113.7" in warnings[0] and "x-forwarded-for" in warnings[0]
    assert "203.0.113.8" in warnings[1] and "forwarded" in warnings[1]


async def test_the_sign_in_budget_holds_across_two_workers_with_redis(
    start_server: ServerFactory, redis_url: str
) -> None:
    env = {"DOCSTREAM_AUTH_RATE_LIMIT_PER_MINUTE": "6", "DOCSTREAM_REDIS_URL": redis_url}
    with start_server(args=["--workers", "2"], env=env) as server:
        await _spray_logins(server, 10, expect_refused=4)


async def _spray_logins(server: ServerProcess, n: int, *, expect_refused: int) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        statuses = []
        for i in range(n):
            response = await http.post(
                "/auth/login",
                json={"email": f"nobody{i}@example.com", "password": "password123"},
                headers={"Connection": "close"},  # a fresh connection: both workers answer
            )
            statuses.append(response.status_code)
            await asyncio.sleep(0)
    assert statuses.count(429) == expect_refused, statuses
    assert set(statuses) == {401, 429}
