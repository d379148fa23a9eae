"""Batching on the wire: a client whose ``hello`` says ``batch`` gets what is queued for its socket
as one ``batch`` frame, its consecutive acks merged (``ack.n``); a client that did not say so gets
every frame on its own, as before. In process, over a real SQLite store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docstream.collab import messages as m
from docstream.collab.connection import CloseRequest, Connection
from docstream.collab.hub import Hub
from docstream.crdt import Document
from docstream.protocol import codec
from docstream.protocol.messages import Ack, Batch, Hello, RemoteOps, ServerFrame, SubmitOps
from docstream.protocol.session import Acked, ClientSession, RemoteChange
from docstream.services.documents import DocumentService
from docstream.settings import Settings
from docstream.storage.sqlite import SqliteDocumentStore

SENDER = "wbsend" + "a" * 6


def connection(batch: bool) -> Connection:
    conn = Connection(user_id="u1", name="Ada", role="owner", guest=False, queue_size=100_000)
    conn.batch = batch
    return conn


async def written(conn: Connection) -> list[str | CloseRequest]:
    """Everything the socket's sender task would write, until the queue is empty."""
    out: list[str | CloseRequest] = []
    while conn.has_frames:
        item = await conn.next_frame()
        out.append(item)
        if isinstance(item, CloseRequest):
            break
    return out


async def test_a_batching_connection_writes_its_queue_as_one_frame_with_merged_acks() -> None:
    conn = connection(batch=True)
    conn.send('{"type":"role","role":"editor"}')
    conn.send_ack(1, 10)
    conn.send_ack(2, 11)
    conn.send_ack(3, 12)
    conn.send_ack(5, 13)  # ref 4 was refused: not merged with 3
    conn.send_ack(6, 15)  # seq 14 is someone else's: not merged with 5
    conn.send('{"type":"role","role":"viewer"}')
    conn.send_ack(7, 16)
    conn.close(1000, "bye")
    [batch, close] = await written(conn)
    assert isinstance(close, CloseRequest) and close.code == 1000
    assert isinstance(batch, str)
    frame = codec.decode_server_frame(batch)
    assert isinstance(frame, Batch)
    assert [codec.encode(f).decode() for f in frame.frames] == [
        '{"type":"role","role":"editor"}',
        '{"type":"ack","ref":3,"seq":12,"n":3}',
        '{"type":"ack","ref":5,"seq":13}',
        '{"type":"ack","ref":6,"seq":15}',
        '{"type":"role","role":"viewer"}',
        '{"type":"ack","ref":7,"seq":16}',
    ]
    assert conn.queued_bytes == 0


async def test_a_lone_frame_is_written_as_itself() -> None:
    conn = connection(batch=True)
    conn.send_ack(4, 9)
    assert await written(conn) == ['{"type":"ack","ref":4,"seq":9}']


async def test_a_connection_without_batch_gets_every_frame_on_its_own() -> None:
    conn = connection(batch=False)
    conn.send_ack(1, 1)
    conn.send_ack(2, 2)
    conn.send('{"type":"role","role":"viewer"}')
    assert await written(conn) == [
        '{"type":"ack","ref":1,"seq":1}',
        '{"type":"ack","ref":2,"seq":2}',
        '{"type":"role","role":"viewer"}',
    ]


async def test_a_batch_stops_growing_at_its_byte_bound() -> None:
    conn = connection(batch=True)
    big = '{"type":"role","role":"editor"}' + " " * 100_000
    for _ in range(6):
        conn.send(big)
    frames = [f for f in await written(conn) if isinstance(f, str)]
    assert 2 <= len(frames) < 6
    total = sum(len(codec.decode_server_frame(f).frames) for f in frames)  # type: ignore[union-attr]
    assert total == 6


# --- through a Room ------------------------------------------------------------------------------


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, str, str]]:
    store = SqliteDocumentStore(tmp_path / "docstream.sqlite3")
    await store.open()
    await store.migrate()
    user = await store.register_user("batch@example.com", "Batch", "not-a-real-hash")
    record = await store.create_document(user.id, "batching")
    hub = Hub(store, Settings(data_dir=tmp_path), DocumentService(store))
    try:
        yield hub, record.id, user.id
    finally:
        await hub.close()
        await store.close()


async def joined(hub: Hub, doc_id: str, user_id: str, replica: str, batch: bool) -> Connection:
    conn = Connection(user_id=user_id, name="B", role="owner", guest=False, queue_size=100_000)
    await hub.join(conn, doc_id, Hello(replica=replica, since=0, batch=batch))
    while conn.peer is None:
        await asyncio.sleep(0.001)
    return conn


def decoded(texts: list[str | CloseRequest]) -> list[ServerFrame]:
    return [codec.decode_server_frame(t) for t in texts if isinstance(t, str)]


def flat(frames: list[ServerFrame]) -> list[ServerFrame]:
    out: list[ServerFrame] = []
    for f in frames:
        out += f.frames if isinstance(f, Batch) else [f]
    return out


async def test_a_stream_of_edits_reaches_batching_and_older_clients_alike(
    hub: tuple[Hub, str, str],
) -> None:
    h, doc_id, user_id = hub
    sender = await joined(h, doc_id, user_id, SENDER, batch=True)
    modern = await joined(h, doc_id, user_id, "wbmodern" + "b" * 4, batch=True)
    older = await joined(h, doc_id, user_id, "wbolder" + "c" * 5, batch=False)
    for conn in (sender, modern, older):
        await written(conn)  # welcome, presence
    room = await h.room(doc_id)
    count = 300
    doc = Document(SENDER)
    messages = [SubmitOps(ref=i, ops=list(doc.insert(i - 1, "x"))) for i in range(1, count + 1)]
    for msg in messages:  # one per event-loop turn, as frames arrive from a socket
        room.inbox.put_nowait(m.OpsItem(sender, msg))
        await asyncio.sleep(0)
    async with asyncio.timeout(30):
        while room.seq < count:
            await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)

    # The sender: every message acked once, in order, at its seq, in far fewer frames.
    sent_frames = decoded(await written(sender))
    acks = [f for f in flat(sent_frames) if isinstance(f, Ack)]
    covered = [(a.ref - back, a.seq - back) for a in acks for back in range(a.n - 1, -1, -1)]
    assert covered == [(i, i) for i in range(1, count + 1)]
    assert len(sent_frames) < count // 4, len(sent_frames)
    assert any(a.n > 1 for a in acks)

    # A batching receiver: every entry once, in seq order, in far fewer frames.
    modern_frames = decoded(await written(modern))
    entries = [f for f in flat(modern_frames) if isinstance(f, RemoteOps)]
    assert [e.seq for e in entries] == list(range(1, count + 1))
    assert len(modern_frames) < count // 4, len(modern_frames)

    # An older client: one ops frame per entry, no batch and no merged ack, as before.
    older_frames = decoded(await written(older))
    assert not any(isinstance(f, Batch) for f in older_frames)
    assert [f.seq for f in older_frames if isinstance(f, RemoteOps)] == list(range(1, count + 1))

    # A client session reading the batching receiver's frames ends where the server is.
    session = ClientSession("wbreader" + "d" * 4)
    session.since = 0
    session.live = True
    events = [e for f in modern_frames for e in session.receive(f)]
    assert sum(isinstance(e, RemoteChange) for e in events) == count
    assert session.doc.text == "x" * count == room.doc.text
    assert session.since == count


def test_the_python_session_reads_merged_acks_and_batches() -> None:
    session = ClientSession(SENDER)
    session.live = True
    for i in range(3):
        session.insert(i, "a")
    other = Document("wbother" + "e" * 5)
    batch = Batch(
        [
            Ack(ref=2, seq=2, n=2),
            RemoteOps(seq=3, author="u2", replica=other.replica, ops=list(other.insert(0, "X"))),
            Ack(ref=3, seq=4),
        ]
    )
    events = session.receive(batch)
    assert [e for e in events if isinstance(e, Acked)] == [Acked(1, 1), Acked(2, 2), Acked(3, 4)]
    assert not session.pending and session.since == 4
    assert session.doc.text in ("Xaaa", "aaaX")  # concurrent inserts at 0: ordered by replica
