"""Revocation reaches every socket, on every node, whatever the timing and even without Redis.

- A socket authorised before a revocation and joined after it is closed (the window between the
  role check at connect time and the join).
- Across nodes: revoking access (4403) or signing out (4401) on node A closes the socket on node B
  within a second.
- With Redis cut between the nodes, node B still closes the socket within the periodic re-check
  interval, or when it reconnects to Redis.

Real processes: one server per backend for the join window, and two nodes sharing PostgreSQL and
Redis for the cluster (tests/cluster/conftest.py), with a TCP proxy to cut node B's Redis.
"""

from __future__ import annotations

import asyncio
import time

from docstream.client import DocStreamClient
from tests.cluster.conftest import NodeFactory, cluster_db, start_node  # noqa: F401 (fixtures)
from tests.cluster.proxy import TcpProxy
from tests.collab.conftest import Users
from tests.collab.raw import RawPeer
from tests.collab.test_editing import replica
from tests.processes import ServerProcess
from tests.services import RedisServer


async def pair(url: str) -> tuple[Users, DocStreamClient, DocStreamClient, str]:
    users = Users(url)
    owner = await users.new("owner")
    bob = await users.new("bob")
    doc = await owner.create_document("Secret plans")
    assert bob.user is not None
    await owner.share(doc["id"], bob.user["email"], "editor")
    return users, owner, bob, doc["id"]


async def revoke(owner: DocStreamClient, doc_id: str, bob: DocStreamClient) -> None:
    assert bob.user is not None
    await owner.request("DELETE", f"/documents/{doc_id}/share/{bob.user['id']}")


async def test_a_socket_authorised_before_a_revocation_and_joined_after_it_is_closed(
    server: ServerProcess,
) -> None:
    users, owner, bob, doc_id = await pair(server.url)
    try:
        for room_open in (False, True):  # nobody in the document yet / the owner is in it
            if room_open:
                await owner.share(doc_id, bob.user["email"], "editor")  # type: ignore[index]
                watcher = await RawPeer.open(server.url, doc_id, owner.access_token)
                await watcher.hello(replica())
            peer = await RawPeer.open(server.url, doc_id, bob.access_token)  # authorised now
            await revoke(owner, doc_id, bob)
            await asyncio.sleep(0.3)  # the revocation is done before the socket joins
            await peer.send({"type": "hello", "replica": replica(), "since": 0})
            started = time.monotonic()
            code, _ = await peer.closed(timeout=2.0)
            assert code == 4403 and time.monotonic() - started < 1.0, room_open
        await watcher.close()
    finally:
        await users.close()


async def test_revoking_access_on_node_a_closes_the_socket_on_node_b(
    start_node: NodeFactory,  # noqa: F811
) -> None:
    with start_node() as a, start_node() as b:
        users, owner, bob, doc_id = await pair(a.url)
        try:
            peer = await RawPeer.open(b.url, doc_id, bob.access_token)
            await peer.hello(replica())
            started = time.monotonic()
            await revoke(owner, doc_id, bob)
            code, _ = await peer.closed(timeout=1.0)
            assert code == 4403 and time.monotonic() - started < 1.0
            # And the join window on node B: authorised on B, revoked on A, joined on B.
            await owner.share(doc_id, bob.user["email"], "viewer")  # type: ignore[index]
            late = await RawPeer.open(b.url, doc_id, bob.access_token)
            await revoke(owner, doc_id, bob)
            await asyncio.sleep(0.3)
            await late.send({"type": "hello", "replica": replica(), "since": 0})
            code, _ = await late.closed(timeout=1.0)
            assert code == 4403
        finally:
            await users.close()


async def test_signing_out_on_node_a_closes_the_socket_on_node_b(
    start_node: NodeFactory,  # noqa: F811
) -> None:
    with start_node() as a, start_node() as b:
        users, _owner, bob, doc_id = await pair(a.url)
        try:
            peer = await RawPeer.open(b.url, doc_id, bob.access_token)
            await peer.hello(replica())
            started = time.monotonic()
            await bob.logout()  # on node A
            code, _ = await peer.closed(timeout=1.0)
            assert code == 4401 and time.monotonic() - started < 1.0
        finally:
            await users.close()


async def test_with_redis_cut_node_b_closes_revoked_sockets_within_the_check_interval(
    start_node: NodeFactory,  # noqa: F811
    redis_server: RedisServer,
) -> None:
    assert redis_server.port is not None
    cable = await TcpProxy([("127.0.0.1", redis_server.port)]).start()
    env = {"DOCSTREAM_REVOCATION_CHECK_INTERVAL": "1"}
    try:
        with (
            start_node(env=env) as a,
            start_node(redis=f"redis://127.0.0.1:{cable.port}/0", env=env) as b,
        ):
            users, owner, bob, doc_id = await pair(a.url)
            carol = await users.new("carol")
            assert carol.user is not None
            await owner.share(doc_id, carol.user["email"], "editor")
            try:
                revoked = await RawPeer.open(b.url, doc_id, bob.access_token)
                await revoked.hello(replica())
                signed_out = await RawPeer.open(b.url, doc_id, carol.access_token)
                await signed_out.hello(replica())
                cable.cut()  # node B hears nothing from Redis now
                await asyncio.sleep(0.3)
                started = time.monotonic()
                await revoke(owner, doc_id, bob)
                await carol.logout()
                code, _ = await revoked.closed(timeout=3.0)
                assert code == 4403 and time.monotonic() - started < 2.5
                code, _ = await signed_out.closed(timeout=3.0)
                assert code == 4401 and time.monotonic() - started < 2.5
            finally:
                await users.close()
    finally:
        await cable.close()


async def test_with_redis_cut_node_b_closes_revoked_sockets_when_it_reconnects(
    start_node: NodeFactory,  # noqa: F811
    redis_server: RedisServer,
) -> None:
    assert redis_server.port is not None
    cable = await TcpProxy([("127.0.0.1", redis_server.port)]).start()
    env = {"DOCSTREAM_REVOCATION_CHECK_INTERVAL": "600"}  # only the reconnection can tell
    try:
        with (
            start_node(env=env) as a,
            start_node(redis=f"redis://127.0.0.1:{cable.port}/0", env=env) as b,
        ):
            users, owner, bob, doc_id = await pair(a.url)
            try:
                peer = await RawPeer.open(b.url, doc_id, bob.access_token)
                await peer.hello(replica())
                cable.cut()
                await asyncio.sleep(0.3)
                await revoke(owner, doc_id, bob)
                await asyncio.sleep(1.5)
                cable.restore()
                started = time.monotonic()
                code, _ = await peer.closed(timeout=8.0)
                assert code == 4403 and time.monotonic() - started < 6.0
            finally:
                await users.close()
    finally:
        await cable.close()
