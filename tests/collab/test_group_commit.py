"""Group commit in a Room, in process over a real SQLite store.

Messages waiting in a Room's inbox are stored in one transaction; while messages stream in, the
worker also waits a little for more (a window that grows with the last batch, bounded by
``GROUP_WAIT_MAX``) before committing. A lone edit on a quiet document is committed at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from docstream.collab import messages as m
from docstream.collab.connection import Connection
from docstream.collab.extensions import Extensions
from docstream.collab.hub import Hub
from docstream.collab.loader import server_replica
from docstream.collab.room import Room, RoomContext
from docstream.collab.room import batching as batching_module
from docstream.collab.room.batching import GROUP_TARGET, GROUP_WAIT_MAX
from docstream.collab.snapshots import Snapshots
from docstream.crdt import Document
from docstream.protocol import codec
from docstream.protocol.messages import Ack, Hello, SetCursor, SubmitOps
from docstream.services.documents import DocumentService
from docstream.settings import Settings
from docstream.storage.base import NewLogEntry
from docstream.storage.sqlite import SqliteDocumentStore

REPLICA = "grp" + "a" * 9


class CountingStore(SqliteDocumentStore):
    """The real SQLite store, recording the size of every ``append_ops`` transaction."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.commits: list[int] = []

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        last = await super().append_ops(doc_id, entries)
        self.commits.append(len(entries))
        return last


@dataclass
class Setup:
    store: CountingStore
    room: Room
    conn: Connection
    doc_id: str


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    store = CountingStore(tmp_path / "docstream.sqlite3")
    await store.open()
    await store.migrate()
    user = await store.register_user("group@example.com", "Group", "not-a-real-hash")
    record = await store.create_document(user.id, "group commit")
    hub = Hub(store, Settings(data_dir=tmp_path), DocumentService(store))
    conn = Connection(user_id=user.id, name="Group", role="owner", guest=False, queue_size=100_000)
    room = await hub.join(conn, record.id, Hello(replica=REPLICA, since=0))
    while conn.peer is None:  # the join is handled by the Room's worker
        await asyncio.sleep(0.001)
    conn.outbox.get_nowait()  # welcome
    try:
        yield Setup(store, room, conn, record.id)
    finally:
        await hub.close()
        await store.close()


def edits(count: int) -> list[SubmitOps]:
    """``count`` one-character inserts at the end, as a client with REPLICA would send them."""
    doc = Document(REPLICA)
    return [SubmitOps(ref=i, ops=list(doc.insert(i - 1, "x"))) for i in range(1, count + 1)]


def acks(conn: Connection) -> list[Ack]:
    frames = []
    while not conn.outbox.empty():
        item = conn.outbox.get_nowait()
        assert isinstance(item, str), item
        frames.append(codec.decode_server_frame(item))
    return [f for f in frames if isinstance(f, Ack)]


async def feed(room: Room, conn: Connection, messages: list[SubmitOps]) -> None:
    """One message per event-loop turn, the way frames arrive from a socket."""
    for msg in messages:
        room.inbox.put_nowait(m.OpsItem(conn, msg))
        await asyncio.sleep(0)


@pytest.fixture
def idle_room(setup: Setup) -> Room:
    """A second Room on the same document with no worker running: only the test takes from its
    inbox, so what ``Batcher.gather`` collects is exactly what the test fed."""

    async def bind(replica: str, user_id: str) -> str:
        return user_id

    context = RoomContext(extensions=Extensions(), bind_replica=bind)
    snapshots = Snapshots(setup.store, Settings(), 0)
    return Room(
        setup.doc_id, Document(server_replica()), 0, setup.store, Settings(), context, snapshots
    )


async def test_a_lone_edit_on_a_quiet_document_is_committed_at_once(
    setup: Setup, idle_room: Room
) -> None:
    room, conn = idle_room, setup.conn
    assert room.batcher.last_batch == 0
    [first, second] = edits(2)
    fed = asyncio.get_running_loop().create_task(feed(room, conn, [second]))
    batch = await room.batcher.gather(m.OpsItem(conn, first))
    # No event-loop turn was spent waiting: the message fed meanwhile did not join.
    assert [item.msg.ref for item in batch] == [1]
    await fed


async def test_while_streaming_messages_arriving_meanwhile_join_the_batch(
    setup: Setup, idle_room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    room, conn = idle_room, setup.conn
    # A window far longer than the feed needs, so that a stalled CI machine cannot end it early;
    # gathering still stops as soon as a full batch is in hand.
    monkeypatch.setattr(batching_module, "GROUP_WAIT_PER_MESSAGE", 0.1)
    monkeypatch.setattr(batching_module, "GROUP_WAIT_MAX", 5.0)
    room.batcher.last_batch = GROUP_TARGET  # the last batch was full: a flood is under way
    messages = edits(1 + 2 * GROUP_TARGET)
    fed = asyncio.get_running_loop().create_task(feed(room, conn, messages[1:]))
    batch = await room.batcher.gather(m.OpsItem(conn, messages[0]))
    # Everything fed during the window joined, in order, up to at least a full batch.
    refs = [item.msg.ref for item in batch]
    assert len(refs) >= GROUP_TARGET
    assert refs == list(range(1, len(refs) + 1))
    assert room.batcher.last_batch >= GROUP_TARGET
    fed.cancel()


async def test_the_wait_for_more_is_bounded(setup: Setup, idle_room: Room) -> None:
    room, conn = idle_room, setup.conn
    room.batcher.last_batch = 10 * GROUP_TARGET  # asks for more than the cap
    [first] = edits(1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    batch = await room.batcher.gather(m.OpsItem(conn, first))
    waited = loop.time() - started
    assert [item.msg.ref for item in batch] == [1]
    # It did wait for company (nothing came), and not for longer than the cap (plus slack for a
    # busy machine; the cap itself is 20 ms).
    assert GROUP_WAIT_MAX / 2 <= waited < GROUP_WAIT_MAX + 1.0
    assert room.batcher.last_batch == 1  # so the next lone edit is committed at once


async def test_gathering_stops_at_an_item_that_is_not_an_edit(
    setup: Setup, idle_room: Room
) -> None:
    room, conn = idle_room, setup.conn
    room.batcher.last_batch = GROUP_TARGET
    first, second, third = edits(3)

    async def mixed() -> None:
        room.inbox.put_nowait(m.OpsItem(conn, second))
        await asyncio.sleep(0)
        cursor = SetCursor(anchor=first.ops[0].id, head=first.ops[0].id)
        room.inbox.put_nowait(m.CursorItem(conn, cursor))
        room.inbox.put_nowait(m.OpsItem(conn, third))

    fed = asyncio.get_running_loop().create_task(mixed())
    batch = await room.batcher.gather(m.OpsItem(conn, first))
    assert [item.msg.ref for item in batch] == [1, 2]
    assert isinstance(room.inbox.peek(), m.CursorItem)  # the cursor is handled next, in order
    await fed


async def test_a_stream_of_edits_shares_few_commits_and_every_ack_follows_its_commit(
    setup: Setup,
) -> None:
    room, conn, store = setup.room, setup.conn, setup.store
    count = 400
    await feed(room, conn, edits(count))
    async with asyncio.timeout(30):
        while room.seq < count:
            await asyncio.sleep(0.005)
    got = acks(conn)
    assert [a.ref for a in got] == list(range(1, count + 1))
    assert [a.seq for a in got] == list(range(1, count + 1))
    assert sum(store.commits) == count
    # Far fewer transactions than messages: the first edit alone, then batches.
    assert len(store.commits) <= count // 8, store.commits
    entries = await store.read_ops(setup.doc_id, 0)
    assert [e.seq for e in entries] == list(range(1, count + 1))
    assert room.doc.text == "x" * count
