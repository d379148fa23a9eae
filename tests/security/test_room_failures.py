"""Failure paths of a Room, one at a time, over a real SQLite store that can be told to fail.

The state machine in ``test_room_invariant.py`` covers them in combination; these tests name each
rule: every sender of a failed batch hears about it with its own ``ref``; a stored message is
acknowledged even when reading what another node stored before it fails at first, and its ack
never overtakes that entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docstream.collab import messages as m
from docstream.collab.connection import Connection
from docstream.collab.hub import Hub
from docstream.collab.loader import encode_payload
from docstream.collab.room import Room
from docstream.crdt import Document
from docstream.protocol import codec
from docstream.protocol.messages import Ack, ErrorFrame, Hello, RemoteOps, SubmitOps
from docstream.services.documents import DocumentService
from docstream.settings import Settings
from docstream.storage.base import NewLogEntry
from tests.security.test_room_invariant import FlakyStore


@dataclass
class Setup:
    store: FlakyStore
    hub: Hub
    room: Room
    doc_id: str
    ann: Connection
    bob: Connection
    user_id: str


async def joined(hub: Hub, doc_id: str, user_id: str, replica: str) -> tuple[Room, Connection]:
    conn = Connection(user_id=user_id, name=replica, role="owner", guest=False, queue_size=1000)
    room = await hub.join(conn, doc_id, Hello(replica=replica, since=0))
    await room.call(_noop)
    frames(conn)  # the welcome
    return room, conn


async def _noop(room: Room) -> None:
    return None


def frames(conn: Connection) -> list[object]:
    out = []
    while not conn.outbox.empty():
        item = conn.outbox.get_nowait()
        assert isinstance(item, str), item
        out.append(codec.decode_server_frame(item))
    return out


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    store = FlakyStore(tmp_path / "docstream.sqlite3")
    await store.open()
    await store.migrate()
    user = await store.register_user("fail@example.com", "Fail", "not-a-real-hash")
    doc = await store.create_document(user.id, "failures")
    hub = Hub(store, Settings(data_dir=tmp_path), DocumentService(store))
    room, ann = await joined(hub, doc.id, user.id, "annReplica")
    _, bob = await joined(hub, doc.id, user.id, "bobReplica")
    frames(ann)  # bob's arrival
    try:
        yield Setup(store, hub, room, doc.id, ann, bob, user.id)
    finally:
        await hub.close()
        await store.close()


async def test_every_sender_of_a_failed_batch_gets_an_error_with_its_own_ref(
    setup: Setup,
) -> None:
    a, b = Document("annReplica"), Document("bobReplica")
    stored = SubmitOps(ref=1, ops=a.insert(0, "ann"))
    setup.room.inbox.put_nowait(m.OpsItem(setup.ann, stored))
    await setup.room.call(_noop)
    frames(setup.ann), frames(setup.bob)
    setup.store.fail_appends = 1
    # Three messages wait in the inbox together: one batch, one failed commit. Ann's re-send of
    # her stored message (its ack was lost) needs no commit, but it shares the batch's fate.
    setup.room.inbox.put_nowait(m.OpsItem(setup.ann, SubmitOps(ref=2, ops=stored.ops)))
    setup.room.inbox.put_nowait(m.OpsItem(setup.bob, SubmitOps(ref=9, ops=b.insert(0, "bob"))))
    setup.room.inbox.put_nowait(m.OpsItem(setup.ann, SubmitOps(ref=3, ops=a.insert(3, "!"))))
    await setup.room.call(_noop)
    to_ann, to_bob = frames(setup.ann), frames(setup.bob)
    refused = [(f.code, f.ref) for f in to_ann if isinstance(f, ErrorFrame)]
    assert refused == [("storage_unavailable", 2), ("storage_unavailable", 3)]
    refused = [(f.code, f.ref) for f in to_bob if isinstance(f, ErrorFrame)]
    assert refused == [("storage_unavailable", 9)]
    assert not [f for f in to_ann + to_bob if isinstance(f, (Ack, RemoteOps))]
    # Nothing of the batch is left in the replica: it was rebuilt from the log.
    assert (setup.room.doc.text, setup.room.seq) == ("ann", 1) and setup.room.consistent
    assert [e.seq for e in await setup.store.read_ops(setup.doc_id, 0)] == [1]


async def test_a_stored_message_is_acked_after_the_entry_before_it_even_if_reading_it_fails(
    setup: Setup,
) -> None:
    # Another node stores seq 1 directly (its Pub/Sub message never arrives here).
    other = Document("otherNode")
    await setup.store.append_ops(
        setup.doc_id,
        [NewLogEntry(setup.user_id, "otherNode", encode_payload(other.insert(0, "x")))],
    )
    # Ann's message lands at seq 2; reading seq 1 fails twice before it works.
    setup.store.fail_reads = 2
    a = Document("annReplica")
    setup.room.inbox.put_nowait(m.OpsItem(setup.ann, SubmitOps(ref=1, ops=a.insert(0, "a"))))
    await setup.room.call(_noop)
    assert frames(setup.ann) == []  # stored, but its ack waits: seq 1 was not announced yet
    for _ in range(100):  # the Room retries the read by itself
        if setup.room.seq == 2:
            break
        await asyncio.sleep(0.05)
    await setup.room.call(_noop)
    to_ann = frames(setup.ann)
    assert [type(f) for f in to_ann] == [RemoteOps, Ack]  # the other node's entry, then the ack
    assert to_ann[0].seq == 1 and (to_ann[1].ref, to_ann[1].seq) == (1, 2)  # type: ignore[attr-defined]
    to_bob = frames(setup.bob)
    assert [f.seq for f in to_bob if isinstance(f, RemoteOps)] == [1, 2]
    assert setup.room.consistent and setup.room.doc.text in ("ax", "xa")
    assert [e.seq for e in await setup.store.read_ops(setup.doc_id, 0)] == [1, 2]
