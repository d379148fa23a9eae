"""Role changes, revocations and deletions reach open sockets within a second."""

from __future__ import annotations

import asyncio
import time

from testkit.accounts import Users
from testkit.processes import ServerProcess
from testkit.raw import RawPeer, replica


async def test_a_role_change_reaches_the_open_socket(users: Users, server: ServerProcess) -> None:
    owner = await users.new("owner")
    bob = await users.new("bob")
    doc = await owner.create_document("Roles")
    await owner.share(doc["id"], bob.user["email"], "viewer")  # type: ignore[index]
    peer = await RawPeer.open(server.url, doc["id"], bob.access_token)
    assert (await peer.hello(replica()))["role"] == "viewer"
    started = time.monotonic()
    await owner.share(doc["id"], bob.user["email"], "editor")  # type: ignore[index]
    frame = await peer.recv_type("role", timeout=1.0)
    assert frame == {"type": "role", "role": "editor"}
    assert time.monotonic() - started < 1.0
    rid = replica()
    await peer.close()
    peer = await RawPeer.open(server.url, doc["id"], bob.access_token)
    await peer.hello(rid)
    await peer.send(
        {
            "type": "ops",
            "ref": 1,
            "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": "now I edit"}],
        }
    )
    assert (await peer.recv_type("ack"))["ref"] == 1
    await peer.close()


async def test_revocation_closes_the_socket_with_4403(users: Users, server: ServerProcess) -> None:
    owner = await users.new("owner")
    bob = await users.new("bob")
    doc = await owner.create_document("Revoke")
    await owner.share(doc["id"], bob.user["email"], "editor")  # type: ignore[index]
    peer = await RawPeer.open(server.url, doc["id"], bob.access_token)
    await peer.hello(replica())
    started = time.monotonic()
    await owner.request("DELETE", f"/documents/{doc['id']}/share/{bob.user['id']}")  # type: ignore[index]
    code, _ = await peer.closed(timeout=1.0)
    assert code == 4403 and time.monotonic() - started < 1.0


async def test_turning_public_sharing_off_closes_guests(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    doc = await owner.create_document("Public")
    public = await owner.set_public(doc["id"], True, "viewer")
    link = {"X-DocStream-Link": public["link_token"]}
    guest = await RawPeer.open(server.url, doc["id"], headers=link)
    await guest.hello(replica())
    await owner.request(
        "POST", f"/documents/{doc['id']}/share/public", {"enabled": True, "role": "editor"}
    )
    assert (await guest.recv_type("role", timeout=1.0))["role"] == "editor"
    await owner.request(
        "POST", f"/documents/{doc['id']}/share/public", {"enabled": False, "role": "editor"}
    )
    assert (await guest.closed(timeout=1.0))[0] == 4403


async def test_deleting_a_document_closes_its_sockets_with_4404(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    doc = await owner.create_document("Doomed")
    async with owner.open(doc["id"]) as live:
        live.insert(0, "bye")
        await live.synced()
        peer = await RawPeer.open(server.url, doc["id"], owner.access_token)
        await peer.hello(replica())
        await owner.request("DELETE", f"/documents/{doc['id']}")
        code, _ = await asyncio.wait_for(peer.closed(), 1.0)
        assert code == 4404
