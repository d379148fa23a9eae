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
import contextlib
import time

from websockets.exceptions import ConnectionClosed

from docstream.client import DocStreamClient
from testkit.accounts import Users
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer, replica
from testkit.services import RedisServer
from tests.cluster.proxy import TcpProxy


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


async def join_after_revocation(
    url: str, owner: DocStreamClient, bob: DocStreamClient, doc_id: str, role: str
) -> int:
    """Share, open a socket (authorised), revoke, then say hello: the close code the join gets.

    The server authorises a socket just after the upgrade, so on a loaded machine the revocation
    can overtake the authorisation: the socket is then refused as for anyone without access
    (4404), which is not the window under test, and the scenario is tried again.
    """
    assert bob.user is not None
    for _ in range(5):
        await owner.share(doc_id, bob.user["email"], role)
        peer = await RawPeer.open(url, doc_id, bob.access_token)
        await asyncio.sleep(0.3)  # time for the authorisation to finish
        await revoke(owner, doc_id, bob)
        await asyncio.sleep(0.3)  # the revocation is done before the socket joins
        with contextlib.suppress(ConnectionClosed):  # closed before the hello: the code says why
            await peer.send({"type": "hello", "replica": replica(), "since": 0})
        started = time.monotonic()
        code, _ = await peer.closed(timeout=2.0)
        if code != 4404:
            assert time.monotonic() - started < 1.0
            return code
    raise AssertionError("the revocation overtook the authorisation five times in a row")


async def test_a_socket_authorised_before_a_revocation_and_joined_after_it_is_closed(
    server: ServerProcess,
) -> None:
    users, owner, bob, doc_id = await pair(server.url)
    try:
        # Nobody in the document yet:
        assert await join_after_revocation(server.url, owner, bob, doc_id, "editor") == 4403
        # The owner is in it:
        watcher = await RawPeer.open(server.url, doc_id, owner.access_token)
        await watcher.hello(replica())
        assert await join_after_revocation(server.url, owner, bob, doc_id, "editor") == 4403
        await watcher.close()
    finally:
        await users.close()


async def test_revoking_access_on_node_a_closes_the_socket_on_node_b(
    start_node: ServerFactory,
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
            assert await join_after_revocation(b.url, owner, bob, doc_id, "viewer") == 4403
        finally:
            await users.close()


async def test_signing_out_on_node_a_closes_the_socket_on_node_b(
    start_node: ServerFactory,
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
    start_node: ServerFactory,
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
    start_node: ServerFactory,
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
