"""Many server processes, one document, no lost edit (real PostgreSQL, real Redis)."""

from __future__ import annotations

import asyncio
import time

import httpx

from docstream.client import DocStreamClient
from testkit.accounts import Users
from testkit.config import BASE_ENV
from testkit.ports import free_port
from testkit.processes import ServerFactory, ServerProcess, a_minute_with_room, run_server
from testkit.raw import RawPeer, replica
from testkit.services import RedisServer, postgres
from testkit.typists import Typist, lost_acked_ops
from tests.cluster.proxy import TcpProxy


def on_node(client: DocStreamClient, url: str) -> DocStreamClient:
    """The same signed-in user, talking to another node."""
    other = DocStreamClient(url, access_token=client.access_token)
    other.refresh_token, other.user = client.refresh_token, client.user
    return other


async def team(url: str, n: int) -> tuple[Users, list[DocStreamClient], str]:
    users = Users(url)
    owner = await users.new("owner")
    doc = await owner.create_document("Cluster doc")
    members = [owner]
    for i in range(n - 1):
        member = await users.new(f"member{i}")
        await owner.share(doc["id"], member.user["email"], "editor")  # type: ignore[index]
        members.append(member)
    return users, members, doc["id"]


async def settle(lives: list, timeout: float = 30) -> None:  # type: ignore[type-arg]
    for live in lives:
        await live.synced(timeout=timeout)
    seq = max(live.seq for live in lives)
    for live in lives:
        await live.wait_for(lambda d, s=seq: d.seq >= s, timeout=timeout)


async def test_clients_on_different_nodes_converge_and_see_each_other(
    nodes: list[ServerProcess],
) -> None:
    users, members, doc_id = await team(nodes[0].url, 3)
    clients = [on_node(m, node.url) for m, node in zip(members, nodes, strict=True)]
    lives = [c.open(doc_id) for c in clients]
    try:
        for live in lives:
            await live.start()
        for live in lives:  # presence crosses nodes
            await live.wait_for(lambda d: len(d.peers) == 2, timeout=5)
        typists = [Typist(live, seed) for seed, live in enumerate(lives)]
        await asyncio.gather(*(t.type_for(1.5, pause=0.01) for t in typists))
        await settle(lives)
        assert len({live.text for live in lives}) == 1
        stored = await clients[0].get_document(doc_id)
        assert stored["text"] == lives[0].text
        # A caret set on node 0 shows up on node 2.
        peer = await RawPeer.open(nodes[2].url, doc_id, members[2].access_token)
        await peer.hello(replica())
        lives[0].set_cursor(1)
        frame = await peer.recv_type("cursor", timeout=3)
        assert frame["peer"]["replica"] == lives[0].replica
        await peer.close()
        for t in typists:
            await t.stop()
    finally:
        await asyncio.gather(*(live.close() for live in lives))
        for c in clients:
            await c.aclose()
        await users.close()


async def test_revoking_on_node_a_closes_the_socket_on_node_b(
    nodes: list[ServerProcess],
) -> None:
    users, (owner, bob), doc_id = await team(nodes[0].url, 2)
    peer = await RawPeer.open(nodes[1].url, doc_id, bob.access_token)
    await peer.hello(replica())
    started = time.monotonic()
    await owner.request("DELETE", f"/documents/{doc_id}/share/{bob.user['id']}")  # type: ignore[index]
    code, _ = await peer.closed(timeout=1.0)
    assert code == 4403 and time.monotonic() - started < 1.0
    await users.close()


async def test_redis_restart_while_typing_loses_nothing(start_node: ServerFactory) -> None:
    redis = RedisServer(url="", port=free_port(), binary="redis-server")
    redis.url = f"redis://127.0.0.1:{redis.port}/0"
    redis.start()
    try:
        with start_node(redis=redis.url) as a, start_node(redis=redis.url) as b:
            users, members, doc_id = await team(a.url, 2)
            clients = [on_node(members[0], a.url), on_node(members[1], b.url)]
            lives = [c.open(doc_id) for c in clients]
            for live in lives:
                await live.start()
            typists = [Typist(live, seed) for seed, live in enumerate(lives)]
            typing = asyncio.gather(*(t.type_for(3.0, pause=0.01) for t in typists))
            await asyncio.sleep(0.8)
            redis.stop()
            await asyncio.sleep(1.0)
            redis.start()
            await typing
            await settle(lives)
            assert lives[0].text == lives[1].text
            async with clients[0].open(doc_id) as reader:
                acked = [ops for t in typists for ops in t.acked]
                assert lost_acked_ops(acked, reader.session.doc) == 0
            for t in typists:
                await t.stop()
            await asyncio.gather(*(live.close() for live in lives))
            for c in clients:
                await c.aclose()
            await users.close()
    finally:
        redis.stop()


async def test_a_node_cut_off_from_redis_repairs_from_the_log(
    start_node: ServerFactory, redis_server: RedisServer
) -> None:
    assert redis_server.port is not None
    cable = await TcpProxy([("127.0.0.1", redis_server.port)]).start()
    try:
        with start_node() as a, start_node(redis=f"redis://127.0.0.1:{cable.port}/0") as b:
            users, members, doc_id = await team(a.url, 2)
            clients = [on_node(members[0], a.url), on_node(members[1], b.url)]
            lives = [c.open(doc_id) for c in clients]
            for live in lives:
                await live.start()
            lives[0].insert(0, "before ")
            await settle(lives)
            cable.cut()  # node b hears nothing from Redis now
            for word in ("while ", "cut ", "off "):
                lives[0].insert(len(lives[0].text), word)
            lives[1].insert(0, "[b] ")
            await lives[0].synced()
            await lives[1].synced()
            await asyncio.sleep(2.0)
            cable.restore()
            await settle(lives, timeout=15)
            assert lives[0].text == lives[1].text
            assert "off" in lives[1].text and "[b]" in lives[0].text
            await asyncio.gather(*(live.close() for live in lives))
            for c in clients:
                await c.aclose()
            await users.close()
    finally:
        await cable.close()


async def test_sigkill_one_node_its_clients_move_to_another(start_node: ServerFactory) -> None:
    with start_node() as a, start_node() as b:
        balancer = await TcpProxy([("127.0.0.1", a.port), ("127.0.0.1", b.port)]).start()
        users, members, doc_id = await team(a.url, 2)
        via_lb = [on_node(m, balancer.url) for m in members]
        direct_b = on_node(members[1], b.url)
        lives = [via_lb[0].open(doc_id), direct_b.open(doc_id)]
        try:
            for live in lives:
                await live.start()
            typists = [Typist(live, seed) for seed, live in enumerate(lives)]
            typing = asyncio.gather(*(t.type_for(2.5, pause=0.01) for t in typists))
            await asyncio.sleep(0.8)
            a.kill()  # the balancer sends the reconnect to node b
            await typing
            await settle(lives)
            assert lives[0].text == lives[1].text
            async with direct_b.open(doc_id) as reader:
                acked = [ops for t in typists for ops in t.acked]
                assert lost_acked_ops(acked, reader.session.doc) == 0
                assert len(acked) > 20
            for t in typists:
                await t.stop()
        finally:
            await asyncio.gather(*(live.close() for live in lives))
            for c in [*via_lb, direct_b]:
                await c.aclose()
            await users.close()
            await balancer.close()


async def test_two_workers_behave_as_two_nodes_and_share_the_rate_limit(
    start_node: ServerFactory,
) -> None:
    env = {"DOCSTREAM_RATE_LIMIT_PER_MINUTE": "100"}
    with start_node(args=["--workers", "2"], env=env) as server:
        await a_minute_with_room()
        async with httpx.AsyncClient(base_url=server.url) as http:
            statuses = []
            for _ in range(150):
                # a fresh connection each time, so both workers take requests
                r = await http.get("/documents", headers={"Connection": "close"})
                statuses.append(r.status_code)
        assert statuses.count(429) == 50, statuses
        assert set(statuses) == {401, 429}


async def test_requests_reach_both_workers_and_their_clients_converge(
    start_node: ServerFactory,
) -> None:
    with start_node(args=["--workers", "2"]) as server:
        pids = set()
        async with httpx.AsyncClient(base_url=server.url) as http:
            for _ in range(200):
                r = await http.get("/health", headers={"Connection": "close"})
                pids.add(r.json()["details"]["pid"])
                if len(pids) == 2:
                    break
        assert len(pids) == 2, "only one worker answered"
        users, members, doc_id = await team(server.url, 2)
        lives = [members[i % 2].open(doc_id) for i in range(6)]
        try:
            await asyncio.gather(*(live.start() for live in lives))
            typists = [Typist(live, seed) for seed, live in enumerate(lives)]
            await asyncio.gather(*(t.type_for(1.0, pause=0.02) for t in typists))
            await settle(lives)
            assert len({live.text for live in lives}) == 1
            for t in typists:
                await t.stop()
        finally:
            await asyncio.gather(*(live.close() for live in lives))
            await users.close()


def test_more_than_one_worker_without_redis_is_refused() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "docstream", "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode == 2
    assert "needs Redis" in out.stderr


async def test_a_database_outage_refuses_edits_clearly_and_recovers(
    redis_url: str,
) -> None:
    with postgres() as pg:
        name = pg.create_database()
        args = ["--database-url", pg.dsn_for(name), "--redis-url", redis_url]
        with run_server(args, BASE_ENV) as node:
            users, members, doc_id = await team(node.url, 2)
            lives = [m.open(doc_id) for m in members]
            for live in lives:
                await live.start()
            typists = [Typist(live, seed) for seed, live in enumerate(lives)]
            await asyncio.gather(*(t.type_for(0.5) for t in typists))
            await settle(lives)
            acked_before = sum(len(t.acked) for t in typists)
            pg.stop()
            refusals: list[str] = []
            typing = asyncio.gather(*(t.type_for(1.5, pause=0.05) for t in typists))
            async with httpx.AsyncClient(base_url=node.url) as http:
                await asyncio.sleep(0.5)
                health = (await http.get("/health")).json()
                assert health["status"] == "degraded" and health["db"] == "unavailable"
                await typing
                acked_during = sum(len(t.acked) for t in typists) - acked_before
                for live in lives:
                    while not live.events.empty():
                        event = live.events.get_nowait()
                        if getattr(event, "code", None):
                            refusals.append(event.code)
                pending = sum(len(live.session.pending) for live in lives)
                assert pending > 0, "edits made during the outage should still be pending"
                assert acked_during == 0, "nothing may be acknowledged while the database is down"
                pg.start()
                await settle(lives, timeout=30)
                assert (await http.get("/health")).json()["db"] == "ok"
            assert lives[0].text == lives[1].text
            async with members[0].open(doc_id) as reader:
                acked = [ops for t in typists for ops in t.acked]
                assert lost_acked_ops(acked, reader.session.doc) == 0
            for t in typists:
                await t.stop()
            await asyncio.gather(*(live.close() for live in lives))
            await users.close()
