"""Co-editing through a real server process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from docstream.client.live import LiveDocument
from docstream.crdt import Document
from testkit.accounts import Users, shared_doc
from testkit.processes import ServerProcess
from testkit.raw import RawPeer, replica


async def converged(*docs: LiveDocument) -> None:
    """Wait until every replica has seen the last commit.

    Once each has its own edits acknowledged, the last commit is the highest seq any of them has
    seen. (Waiting for ``a.seq == b.seq`` instead can hang: ``a``'s predicate is only re-checked
    when ``a`` changes, and ``b`` may catch up after ``a`` has stopped changing.)
    """
    target = max(d.seq for d in docs)
    for d in docs:
        await d.wait_for(lambda d: d.seq >= target)


async def test_two_people_co_edit_and_converge(users: Users) -> None:
    ann, bob, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as a, bob.open(doc_id) as b:
        a.insert(0, "Hello")
        await a.synced()
        await b.wait_for(lambda d: d.text == "Hello")
        for i in range(20):  # concurrent typing at both ends
            a.insert(0, "a")
            b.insert(len(b.text), str(i % 10))
        await a.synced()
        await b.synced()
        await converged(a, b)
        assert a.text == b.text
        assert a.text.startswith("a" * 20 + "Hello")
    stored = await ann.get_document(doc_id)
    assert stored["text"] == a.text and stored["seq"] == a.seq


async def test_welcome_lists_peers_and_presence_is_broadcast(users: Users) -> None:
    ann, bob, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as a:
        async with bob.open(doc_id) as b:
            assert [p.user_id for p in b.peers.values()] == [ann.user["id"]]  # type: ignore[index]
            await a.wait_for(lambda d: len(d.peers) == 1)
            peer = next(iter(a.peers.values()))
            assert peer.name == "Other" and peer.replica == b.replica
            b.insert(0, "xy")
            await b.synced()
            b.set_cursor(1)
            await a.wait_for(lambda d: len(d.peers) == 1)
        await a.wait_for(lambda d: not d.peers)


async def test_cursors_are_anchored_to_ids_and_relayed(users: Users, server: ServerProcess) -> None:
    ann, bob, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as a:
        a.insert(0, "abcdef")
        await a.synced()
        peer = await RawPeer.open(server.url, doc_id, bob.access_token)
        await peer.hello(replica())
        a.set_cursor(3, 5)
        frame = await peer.recv_type("cursor")
        assert frame["anchor"] == str(a.session.doc.id_at(2))
        assert frame["head"] == str(a.session.doc.id_at(4))
        assert frame["peer"]["replica"] == a.replica
        await peer.send({"type": "cursor", "anchor": "nobody123:99", "head": None})
        error = await peer.recv_type("error")
        assert error["code"] == "unknown_id"
        await peer.close()


async def test_viewer_ops_are_refused_with_read_only(users: Users, server: ServerProcess) -> None:
    owner, viewer, doc_id = await shared_doc(users, role="viewer")
    peer = await RawPeer.open(server.url, doc_id, viewer.access_token)
    welcome = await peer.hello(replica())
    assert welcome["role"] == "viewer"
    local = Document(replica=replica())
    await peer.send(
        {
            "type": "ops",
            "ref": 7,
            "ops": [{"kind": "ins", "id": f"{local.replica}:1", "after": None, "text": "nope"}],
        }
    )
    frame = await peer.recv_type("error")
    assert frame["code"] == "read_only" and frame["ref"] == 7
    async with owner.open(doc_id) as o:  # the viewer still receives live edits
        o.insert(0, "live")
        await o.synced()
        ops = await peer.recv_type("ops")
        assert ops["ops"][0]["text"] == "live"
    stored = await owner.get_document(doc_id)
    assert stored["text"] == "live"
    await peer.close()


async def test_a_forged_replica_is_refused(users: Users, server: ServerProcess) -> None:
    ann, bob, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as a:
        a.insert(0, "mine")
        await a.synced()
        # Bob writes characters under Ann's replica id.
        peer = await RawPeer.open(server.url, doc_id, bob.access_token)
        await peer.hello(replica())
        await peer.send(
            {
                "type": "ops",
                "ref": 1,
                "ops": [{"kind": "ins", "id": f"{a.replica}:100", "after": None, "text": "forged"}],
            }
        )
        frame = await peer.recv_type("error")
        assert frame["code"] == "forbidden_replica" and frame["ref"] == 1
        await peer.close()
        # Bob says hello with Ann's replica id: refused and closed.
        thief = await RawPeer.open(server.url, doc_id, bob.access_token)
        await thief.send({"type": "hello", "replica": a.replica, "since": 0})
        frame = await thief.recv_type("error")
        assert frame["code"] == "forbidden_replica"
        code, _ = await thief.closed()
        assert code == 4403
    assert (await ann.get_document(doc_id))["text"] == "mine"


async def test_resent_ops_are_acked_again_and_stored_once(
    users: Users, server: ServerProcess
) -> None:
    ann, _, doc_id = await shared_doc(users)
    rid = replica()
    message = {
        "type": "ops",
        "ref": 1,
        "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": "once"}],
    }
    peer = await RawPeer.open(server.url, doc_id, ann.access_token)
    await peer.hello(rid)
    await peer.send(message)
    first = await peer.recv_type("ack")
    await peer.close()
    # A new connection of the same replica re-sends the message whose ack it "lost".
    again = await RawPeer.open(server.url, doc_id, ann.access_token)
    await again.hello(rid, since=0)
    await again.send({**message, "ref": 2})
    second = await again.recv_type("ack")
    assert second == {"type": "ack", "ref": 2, "seq": first["seq"]}
    delete = {"type": "ops", "ref": 3, "ops": [{"kind": "del", "id": f"{rid}:1", "len": 2}]}
    await again.send(delete)
    deleted = await again.recv_type("ack")
    await again.send({**delete, "ref": 4})
    assert (await again.recv_type("ack"))["seq"] == deleted["seq"]
    # Same id, different text: a conflict.
    await again.send(
        {
            "type": "ops",
            "ref": 5,
            "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": "twice"}],
        }
    )
    assert (await again.recv_type("error"))["code"] == "duplicate_id_conflict"
    await again.close()
    doc = await ann.get_document(doc_id)
    assert doc["text"] == "ce" and doc["seq"] == deleted["seq"] == first["seq"] + 1
    history = await ann.request("GET", f"/documents/{doc_id}/history")
    assert [h["seq"] for h in history] == [deleted["seq"], first["seq"]]


async def test_a_reconnecting_client_catches_up_by_seq(users: Users) -> None:
    ann, bob, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as a, bob.open(doc_id) as b:
        a.insert(0, "start ")
        await a.synced()
        await b.wait_for(lambda d: d.text == "start ")
        connects = b.connects
        b.disconnect()
        await b.wait_for(lambda d: not d.session.live)
        b.insert(len(b.text), "offline")  # typed while disconnected
        for word in ("one ", "two ", "three "):
            a.insert(len(a.text), word)
        await a.synced()
        await b.wait_for(lambda d: d.connects > connects and d.session.live)
        await b.synced()
        await converged(a, b)
        assert a.text == b.text
        assert "offline" in a.text and "three" in a.text


async def test_concurrent_first_opens_share_one_room(users: Users) -> None:
    ann, _, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as seed:
        seed.insert(0, "seed")
        await seed.synced()
    lives = [ann.open(doc_id) for _ in range(8)]
    await asyncio.gather(*(live.start() for live in lives))
    try:
        assert {live.text for live in lives} == {"seed"}
        lives[0].insert(4, "!")
        await lives[0].synced()
        for live in lives[1:]:
            await live.wait_for(lambda d: d.text == "seed!")
            assert len(live.peers) == 7
    finally:
        await asyncio.gather(*(live.close() for live in lives))


async def test_guests_join_public_documents_with_the_public_role(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    doc = await owner.create_document("Public")
    guest = await RawPeer.open(server.url, doc["id"])
    assert (await guest.closed())[0] == 4401  # not public yet
    public = await owner.set_public(doc["id"], True, "editor")
    guest = await RawPeer.open(server.url, doc["id"])
    assert (await guest.closed())[0] == 4401  # the id alone is not the link
    link = {"X-DocStream-Link": public["link_token"]}
    guest = await RawPeer.open(server.url, doc["id"], headers=link)
    welcome = await guest.hello(replica())
    assert welcome["role"] == "editor" and welcome["user"]["id"].startswith("guest-")
    await guest.close()


async def test_connection_errors_use_the_documented_close_codes(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    stranger = await users.new("stranger")
    doc = await owner.create_document("Private")
    bad = await RawPeer.open(server.url, doc["id"], "not-a-token")
    assert (await bad.closed())[0] == 4401
    nosy = await RawPeer.open(server.url, doc["id"], stranger.access_token)
    assert (await nosy.closed())[0] == 4404
    missing = await RawPeer.open(
        server.url, "00000000-0000-4000-8000-000000000000", owner.access_token
    )
    assert (await missing.closed())[0] == 4404
    silent = await RawPeer.open(server.url, doc["id"], owner.access_token)
    assert (await silent.closed(timeout=10))[0] == 4408  # DOCSTREAM_HELLO_TIMEOUT=2
    with pytest.raises(InvalidStatus) as refused:
        await RawPeer.open(
            server.url, doc["id"], owner.access_token, headers={"Origin": "https://evil.example"}
        )
    assert refused.value.response.status_code == 403
    same_origin = await RawPeer.open(
        server.url, doc["id"], owner.access_token, headers={"Origin": server.url}
    )
    await same_origin.hello(replica())
    await same_origin.close()


async def test_the_rest_api_reads_the_live_text(users: Users, server: ServerProcess) -> None:
    ann, _, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as a:
        a.insert(0, "live text")
        await a.synced()
        async with httpx.AsyncClient() as http:
            r = await http.get(
                f"{server.url}/documents/{doc_id}",
                headers={"Authorization": f"Bearer {ann.access_token}"},
            )
        assert r.json()["text"] == "live text" and r.json()["seq"] == a.seq


async def test_a_live_document_replaced_by_a_newer_connection_of_its_replica_stops(
    users: Users,
) -> None:
    """The server closes the older connection with 4000; reconnecting would take the replica
    back and the two would replace each other forever (docs/protocol.md: stop using it)."""
    ann, _, doc_id = await shared_doc(users)
    async with ann.open(doc_id) as first:
        first.insert(0, "a")
        await first.synced()
        async with ann.open(doc_id, replica=first.replica) as second:
            await first.wait_for(lambda d: not d.session.live)
            await asyncio.sleep(0.5)  # a reconnect would have happened by now (backoff 0.05 s)
            assert first.closed_reason is not None and first.closed_reason[0] == 4000
            assert first.connects == 1 and second.connects == 1
            second.insert(1, "b")
            await second.synced()
            assert second.text == "ab"
