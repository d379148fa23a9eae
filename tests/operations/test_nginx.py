"""The cluster behind the repository's own nginx configuration (a real nginx, two real nodes, a
real PostgreSQL and Redis): WebSockets through the proxy, forwarded headers believed only from
it, rate limits per real client, nodes stopped (SIGTERM) and killed (SIGKILL) while people type,
and a node whose database is unreachable taken out of rotation.

Clients reach nginx from other loopback addresses (127.0.0.2, 127.0.0.3...) so that "the client's
address" and "the proxy's address" (127.0.0.1) differ, as they do in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from docstream.client import LiveDocument
from testkit.accounts import PASSWORD, Users, register, unique_email
from testkit.config import BASE_ENV
from testkit.nginx import Nginx, balancer
from testkit.processes import ServerFactory, ServerProcess, run_server
from testkit.typists import Typist, lost_acked_ops
from tests.cluster.proxy import TcpProxy

PROXY_ENV = {"DOCSTREAM_TRUSTED_PROXIES": "127.0.0.1"}


def client_from(address: str, base_url: str) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (another loopback address)."""
    return httpx.Client(
        base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=10
    )


@pytest.fixture
def two_nodes(start_node: ServerFactory) -> Iterator[list[ServerProcess]]:
    with start_node(env=PROXY_ENV) as a, start_node(env=PROXY_ENV) as b:
        yield [a, b]


@pytest.fixture
def lb(two_nodes: list[ServerProcess]) -> Iterator[Nginx]:
    with balancer([("127.0.0.1", n.port) for n in two_nodes]) as proxy:
        yield proxy


async def _watch_gaps(live: LiveDocument, gaps: list[float]) -> None:
    """Record how long each time without a connection lasted (until a new welcome)."""
    down: float | None = None
    while True:
        if not live.connected.is_set():
            down = down if down is not None else time.monotonic()
        elif down is not None:
            gaps.append(time.monotonic() - down)
            down = None
        await asyncio.sleep(0.005)


async def test_typing_through_nginx_survives_a_node_stopped_and_a_node_killed(
    two_nodes: list[ServerProcess], lb: Nginx, start_node: ServerFactory
) -> None:
    a, b = two_nodes
    later = contextlib.ExitStack()  # the node started again on a's port
    users = Users(lb.url)
    owner = await users.new("owner")
    doc = await owner.create_document("Behind nginx")
    members = [owner]
    for i in range(3):
        member = await users.new(f"typist{i}")
        await owner.share(doc["id"], member.user["email"], "editor")  # type: ignore[index]
        members.append(member)
    lives = [m.open(doc["id"]) for m in members]
    typists: list[Typist] = []
    watchers: list[asyncio.Task[None]] = []
    try:
        for live in lives:
            await live.start()  # round robin: the four sockets are spread over both nodes
        typists = [Typist(live, seed) for seed, live in enumerate(lives)]
        gaps: list[float] = []
        watchers = [asyncio.create_task(_watch_gaps(live, gaps)) for live in lives]
        rounds: list[int] = []
        for victim, how in ((a, "stop"), (b, "kill")):
            typing = asyncio.gather(*(t.type_for(2.5, pause=0.01) for t in typists))
            await asyncio.sleep(0.8)
            before = len(gaps)
            if how == "stop":  # SIGTERM: the node closes its sockets (1001) and exits
                await asyncio.to_thread(victim.stop)
            else:
                victim.kill()  # SIGKILL: the sockets just break
            await typing
            rounds.append(len(gaps) - before)
            if how == "stop":  # bring it back on its port for the second round
                later.enter_context(start_node(env=PROXY_ENV, port=a.port))
        for live in lives:
            await live.synced(timeout=30)
        texts = {live.text for live in lives}
        assert len(texts) == 1, "the clients did not converge"
        acked = [ops for t in typists for ops in t.acked]
        assert len(acked) > 50
        async with members[0].open(doc["id"]) as reader:
            assert reader.text == texts.pop()
            assert lost_acked_ops(acked, reader.session.doc) == 0
        # Every victim had sockets (round robin), and each of them came back through nginx.
        assert all(n >= 1 for n in rounds), rounds
        assert max(gaps) <= 2.0, f"reconnecting took {gaps} s\n{lb.log()[-4000:]}"
    finally:
        for watcher in watchers:
            watcher.cancel()
        for t in typists:
            await t.stop()
        await asyncio.gather(*(live.close() for live in lives))
        await users.close()
        later.close()


def test_forwarded_headers_are_believed_only_from_the_balancer(
    two_nodes: list[ServerProcess], lb: Nginx
) -> None:
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    with client_from("127.0.0.1", lb.url) as admin_http:
        admin = register(admin_http)  # the first account administers the server
    # Through nginx from 127.0.0.2, claiming to be 203.0.113.7; straight to a node from 127.0.0.3
    # with the same claim (a node trusts only the balancer's address).
    with client_from("127.0.0.2", lb.url) as via_lb:
        via_lb.post(
            "/auth/login",
            json={"email": "nobody@example.com", "password": "x" * 12},
            headers=spoofed,
        )
    with client_from("127.0.0.3", two_nodes[0].url) as direct:
        direct.post(
            "/auth/login",
            json={"email": "nobody2@example.com", "password": "x" * 12},
            headers=spoofed,
        )
    with client_from("127.0.0.1", lb.url) as http:
        page = http.get(
            "/admin/audit",
            params={"action": "auth.sign_in_failed"},
            headers={"Authorization": f"Bearer {admin.access_token}"},
        )
    assert page.status_code == 200, page.text
    by_email = {e["detail"].get("email"): e["ip"] for e in page.json()["entries"]}
    assert by_email.get("nobody@example.com") == "127.0.0.2", by_email
    assert by_email.get("nobody2@example.com") == "127.0.0.3", by_email


def test_the_rate_limit_counts_each_real_client_whatever_it_claims(
    start_node: ServerFactory,
) -> None:
    env = {**PROXY_ENV, "DOCSTREAM_RATE_LIMIT_PER_MINUTE": "20"}
    with (
        start_node(env=env) as a,
        start_node(env=env) as b,
        balancer([("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as proxy,
        client_from("127.0.0.2", proxy.url) as greedy,
        client_from("127.0.0.3", proxy.url) as other,
    ):
        claims = [{"X-Forwarded-For": f"198.51.100.{i}"} for i in range(30)]
        statuses = [greedy.get("/documents", headers=claim).status_code for claim in claims]
        # Both nodes share the count (Redis): claiming a new address each time does not buy a
        # fresh budget, and the 21st request is refused whichever node gets it.
        assert statuses[:20] == [401] * 20, statuses
        assert set(statuses[20:]) == {429}, statuses
        assert other.get("/documents").status_code == 401  # someone else: a budget of its own


async def test_a_node_whose_database_is_unreachable_is_taken_out_of_rotation(
    start_node: ServerFactory, cluster_db: str, redis_url: str
) -> None:
    dsn = urlsplit(cluster_db)
    assert dsn.hostname and dsn.port, cluster_db
    cable = await TcpProxy([(dsn.hostname, dsn.port)]).start()  # node b's line to PostgreSQL
    b_dsn = cluster_db.replace(f"{dsn.hostname}:{dsn.port}", f"127.0.0.1:{cable.port}", 1)
    stack = contextlib.ExitStack()
    try:
        # Started from threads: the cable is served by this event loop meanwhile.
        a = await asyncio.to_thread(stack.enter_context, start_node(env=PROXY_ENV))
        b_args = ["--database-url", b_dsn, "--redis-url", redis_url]
        b = await asyncio.to_thread(
            stack.enter_context, run_server(b_args, {**BASE_ENV, **PROXY_ENV})
        )
        proxy = stack.enter_context(balancer([("127.0.0.1", a.port), ("127.0.0.1", b.port)]))
        async with (
            httpx.AsyncClient(base_url=proxy.url, timeout=10) as http,
            httpx.AsyncClient(timeout=10) as probe,
        ):
            body = {"email": unique_email(), "password": PASSWORD}
            account = (await http.post("/auth/register", json=body)).json()
            headers = {"Authorization": f"Bearer {account['access_token']}"}
            assert (await probe.get(f"{b.url}/health/ready")).status_code == 200
            cable.cut()
            assert (await probe.get(f"{b.url}/health/ready")).status_code == 503
            assert (await probe.get(f"{b.url}/documents", headers=headers)).status_code == 503
            # Every request through the balancer is answered (by node a) meanwhile.
            statuses = [
                (await http.get("/documents", headers=headers)).status_code for _ in range(20)
            ]
            assert statuses == [200] * 20, statuses
            cable.restore()
            deadline = time.monotonic() + 20
            while (await probe.get(f"{b.url}/health/ready")).status_code != 200:
                assert time.monotonic() < deadline, "node b did not become ready again"
                await asyncio.sleep(0.2)
            # Back in rotation: node b answers through the balancer again.
            await asyncio.sleep(2.1)  # the balancer's fail_timeout
            seen = len(proxy.routed())
            served = {(await http.get("/documents", headers=headers)).status_code for _ in range(6)}
            assert served == {200}
            assert (f"127.0.0.1:{b.port}", "200") in proxy.routed()[seen:], proxy.routed()[seen:]
    finally:
        await asyncio.to_thread(stack.close)
        await cable.close()
