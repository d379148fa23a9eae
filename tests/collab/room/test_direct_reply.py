"""A server-side edit (no socket) gets its answer as a value: the seq its message was stored at,
or the typed error a client would have been sent; nothing is read back out of an outbox."""

from __future__ import annotations

import asyncio

import pytest

from docstream.collab import messages as m
from docstream.collab.connection import Connection
from docstream.collab.loader import encode_payload
from docstream.collab.room import Room
from docstream.crdt import Document
from docstream.errors import DocStreamError, ReadOnlyError, StorageError
from docstream.protocol.messages import RemoteOps, SubmitOps
from docstream.storage.base import NewLogEntry
from tests.collab.room.conftest import Node, frames, settle


def server_conn(node: Node, role: str = "editor") -> Connection:
    conn = Connection(user_id=node.user_id, name="server", role=role, guest=False, queue_size=4)  # type: ignore[arg-type]
    conn.attach("serverEdits1")
    return conn


async def submit(room: Room, conn: Connection, msg: SubmitOps) -> asyncio.Future[int]:
    reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def in_order(r: Room) -> None:
        await r.handle_ops([m.OpsItem(conn, msg, reply)])

    await room.call(in_order)
    return reply


async def test_a_stored_edit_replies_with_its_seq_and_reaches_the_clients(node: Node) -> None:
    room, ann = await node.join("annReplica")
    frames(ann)
    conn = server_conn(node)
    reply = await submit(room, conn, SubmitOps(ref=1, ops=Document("serverEdits1").insert(0, "v")))
    assert await asyncio.wait_for(reply, 1) == 1
    assert conn.outbox.empty()  # nothing to parse: the answer is the reply
    assert [f.seq for f in frames(ann) if isinstance(f, RemoteOps)] == [1]


async def test_a_refused_edit_raises_the_typed_error(node: Node) -> None:
    room, _ = await node.join("annReplica")
    conn = server_conn(node, role="viewer")
    reply = await submit(room, conn, SubmitOps(ref=1, ops=Document("serverEdits1").insert(0, "v")))
    with pytest.raises(ReadOnlyError):
        await asyncio.wait_for(reply, 1)
    assert conn.outbox.empty() and room.seq == 0


async def test_a_failed_commit_raises_a_storage_error(node: Node) -> None:
    room, _ = await node.join("annReplica")
    node.store.fail_appends = 1
    conn = server_conn(node)
    reply = await submit(room, conn, SubmitOps(ref=1, ops=Document("serverEdits1").insert(0, "v")))
    with pytest.raises(StorageError, match="not saved"):
        await asyncio.wait_for(reply, 1)
    assert room.doc.text == "" and room.consistent


async def test_an_ack_held_when_the_room_stops_is_not_left_hanging(node: Node) -> None:
    room, _ = await node.join("annReplica")
    other = Document("otherNode")
    await node.store.append_ops(
        node.doc_id, [NewLogEntry(node.user_id, "otherNode", encode_payload(other.insert(0, "o")))]
    )
    node.store.fail_reads = 1_000_000
    conn = server_conn(node)
    reply = await submit(room, conn, SubmitOps(ref=1, ops=Document("serverEdits1").insert(0, "v")))
    await settle(room)
    assert not reply.done() and room.acks_waiting
    await room.stop()
    with pytest.raises(DocStreamError):
        await asyncio.wait_for(reply, 1)
