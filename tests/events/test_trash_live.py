"""The trash, transfer and leave on a real server (both backends): open sockets and live lists.

Moving a document to the trash closes its sockets (4404) and takes it out of every list at once;
restoring it brings it back into the collaborators' lists (``shared``) with no reload. A transfer
changes both users' live roles; leaving closes the leaver's socket like a revocation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.accounts import Users, shared_doc
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer, replica
from tests.events.sse import EventStream


@pytest.fixture(scope="module")
def server(start_server: ServerFactory) -> Iterator[ServerProcess]:
    with start_server(env={"DOCSTREAM_EVENTS_KEEPALIVE": "0.3"}) as proc:
        yield proc


async def test_trashing_closes_sockets_and_restoring_returns_it_to_lists(
    server: ServerProcess, users: Users
) -> None:
    owner, other, doc_id = await shared_doc(users, "editor")
    async with EventStream(server.url, other.access_token) as events:
        peer = await RawPeer.open(server.url, doc_id, other.access_token)
        await peer.hello(replica())
        await owner.request("DELETE", f"/documents/{doc_id}")
        code, _ = await peer.closed(timeout=1.0)
        assert code == 4404
        assert await events.next() == {"kind": "deleted", "doc_id": doc_id}
        # Nobody can open it again while it is in the trash.
        again = await RawPeer.open(server.url, doc_id, other.access_token)
        assert (await again.closed(timeout=1.0))[0] == 4404

        restored = await owner.request("POST", f"/trash/{doc_id}/restore")
        assert restored["id"] == doc_id
        assert await events.next() == {"kind": "shared", "doc_id": doc_id}
        peer = await RawPeer.open(server.url, doc_id, other.access_token)
        assert (await peer.hello(replica()))["role"] == "editor"
        await peer.close()


async def test_a_transfer_changes_both_live_roles(server: ServerProcess, users: Users) -> None:
    owner, other, doc_id = await shared_doc(users, "viewer")
    new_owner = await RawPeer.open(server.url, doc_id, other.access_token)
    assert (await new_owner.hello(replica()))["role"] == "viewer"
    old_owner = await RawPeer.open(server.url, doc_id, owner.access_token)
    assert (await old_owner.hello(replica()))["role"] == "owner"
    assert other.user is not None
    await owner.request("POST", f"/documents/{doc_id}/transfer", {"user_id": other.user["id"]})
    assert (await new_owner.recv_type("role", timeout=1.0))["role"] == "owner"
    assert (await old_owner.recv_type("role", timeout=1.0))["role"] == "editor"
    await new_owner.close()
    await old_owner.close()


async def test_leaving_closes_the_leavers_socket_and_list_entry(
    server: ServerProcess, users: Users
) -> None:
    owner, other, doc_id = await shared_doc(users, "editor")
    async with EventStream(server.url, other.access_token) as events:
        peer = await RawPeer.open(server.url, doc_id, other.access_token)
        await peer.hello(replica())
        await other.request("DELETE", f"/documents/{doc_id}/access/me")
        assert (await peer.closed(timeout=1.0))[0] == 4403
        assert await events.next() == {"kind": "unshared", "doc_id": doc_id}
    # The owner's document is untouched.
    assert (await owner.request("GET", f"/documents/{doc_id}"))["role"] == "owner"
