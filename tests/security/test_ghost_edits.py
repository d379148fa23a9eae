"""Ghost edits: a re-sent message that carries new ops must not change the server's copy alone.

The attack: an editor re-sends one of its stored inserts (which the server rightly treats as a
re-send) with a delete and a new insert appended in the same ``ops`` frame. Whatever the server
answers, the text it serves (REST, export, versions, snapshots, fresh joiners), the text a connected
collaborator sees and the replay of the ops log must stay one and the same; and if the frame is
acked, the editor was told the edit is stored, so the stored text must contain it.
"""

from __future__ import annotations

import asyncio

import httpx

from testkit.accounts import Users, shared_doc
from testkit.processes import ServerProcess
from testkit.raw import RawPeer, replica
from tests.security.invariant import check_integrity, server_store


async def _reply(peer: RawPeer, ref: int) -> dict[str, object]:
    """The ack or error answering ``ref``."""
    while True:
        frame = await peer.recv()
        if frame["type"] in ("ack", "error") and frame.get("ref") == ref:
            return frame


async def _rooms_closed(server: ServerProcess, timeout: float = 10.0) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(int(timeout / 0.05)):
            health = (await http.get(f"{server.url}/health")).json()
            if health["details"]["open_documents"] == 0:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the document's room did not close")


async def test_a_resent_insert_with_new_ops_appended_cannot_change_the_text_behind_the_log(
    users: Users, server: ServerProcess, server_backend: list[str]
) -> None:
    ann, bob, doc_id = await shared_doc(users)
    rid = replica()
    stored = {"kind": "ins", "id": f"{rid}:1", "after": None, "text": "hello world"}
    async with bob.open(doc_id) as watcher:
        peer = await RawPeer.open(server.url, doc_id, ann.access_token)
        await peer.hello(rid)
        await peer.send({"type": "ops", "ref": 1, "ops": [stored]})
        assert (await _reply(peer, 1))["type"] == "ack"
        await watcher.wait_for(lambda d: d.text == "hello world")

        ghost = [
            stored,  # already stored: looks like a re-send
            {"kind": "del", "id": f"{rid}:1", "len": 6},  # "hello "
            {"kind": "ins", "id": f"{rid}:12", "after": f"{rid}:11", "text": "!"},
        ]
        await peer.send({"type": "ops", "ref": 2, "ops": ghost})
        answer = await _reply(peer, 2)

        # Bob's own edit is a barrier: once it is acked, everything before it reached him.
        watcher.insert(0, ">")
        await watcher.synced()
        document = await ann.get_document(doc_id)
        server_text = document["text"]
        assert server_text.startswith(">")
        if answer["type"] == "ack":
            assert server_text == ">world!", "the editor was told its edit is stored"
        else:
            assert server_text == ">hello world", "a refused message must leave no trace"
        async with server_store(server, server_backend) as store:
            await check_integrity(
                store,
                doc_id,
                text=server_text,
                seq=document["seq"],
                clients={"collaborator": watcher.text},
            )
        await peer.close()

    # Once everyone left, the room wrote its final snapshot: the stored state must agree too.
    await _rooms_closed(server)
    document = await ann.get_document(doc_id)
    assert document["text"] == server_text
    async with server_store(server, server_backend) as store:
        views = await check_integrity(store, doc_id, text=document["text"], seq=document["seq"])
    assert views.snapshot_seq == document["seq"]
