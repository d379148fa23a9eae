"""When the log is packed: at start, which converts a store written before packs (every
document's entries more than a pack below its latest snapshot), and in an open document at a
pause in the typing, never beside a burst of it. The reads answer as before."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from docstream.collab.loader import encode_payload
from docstream.collab.snapshots import Snapshots
from docstream.crdt import Document
from docstream.services.packing import LogPacker
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, NewLogEntry
from docstream.storage.packs import PACK_ROWS


def _entries(user: str, doc: Document, n: int) -> list[NewLogEntry]:
    return [
        NewLogEntry(
            user_id=user,
            replica=doc.replica,
            payload=encode_payload(doc.insert(len(doc), "x")),
            kind="insert",
            length=1,
            preview="x",
        )
        for _ in range(n)
    ]


async def test_packing_at_start_converts_every_document(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    long, short, unsnapshotted = [
        await store.create_document(ann.id, title) for title in ("Long", "Short", "No snapshot")
    ]
    for doc, n in ((long, 3500), (short, 1500), (unsnapshotted, 3500)):
        crdt = Document("replica0" + doc.title[0])
        seq = await store.append_ops(doc.id, _entries(ann.id, crdt, n))
        if doc is not unsnapshotted:
            await store.save_snapshot(doc.id, seq, b"state")
    before = {d.id: await store.read_ops(d.id, 0) for d in (long, short, unsnapshotted)}

    moved = await LogPacker(store).pack_all()

    # Long: a snapshot at 3500, so seqs up to 2500 may go, in whole packs of a thousand. Short:
    # too little to pack. No snapshot: a load replays everything, so nothing is packed.
    assert moved == (0 if store.dialect == "memory" else 2 * PACK_ROWS)
    assert await LogPacker(store).pack_all() == 0  # a second start finds nothing left
    for doc_id, entries in before.items():
        assert await store.read_ops(doc_id, 0) == entries


class _Room:
    """What the snapshot policy reads of a Room (collab/snapshots.py SnapshotSource); its worker
    runs posted work at once, and what it spawns is kept to be awaited."""

    def __init__(self, doc_id: str, seq: int) -> None:
        self.doc_id, self.seq, self.consistent = doc_id, seq, True
        self.tasks: list[asyncio.Task[None]] = []

    async def encoded_state(self) -> bytes:
        return b"state"

    async def text(self) -> str:
        return "x" * self.seq

    def post(self, work: Callable[[], Awaitable[None]]) -> bool:
        self.tasks.append(asyncio.ensure_future(work()))
        return True

    def spawn(self, work: Awaitable[None]) -> None:
        self.tasks.append(asyncio.ensure_future(work))

    async def settle(self) -> None:
        while self.tasks:
            await self.tasks.pop(0)


async def _typed(store: DocumentStore) -> tuple[str, int, list[Any]]:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    doc = await store.create_document(ann.id, "Open")
    seq = await store.append_ops(doc.id, _entries(ann.id, Document("roomReplica"), 2500))
    return doc.id, seq, await store.read_ops(doc.id, 0)


async def test_a_pause_in_typing_packs_what_a_load_no_longer_replays(
    store: DocumentStore,
) -> None:
    doc_id, seq, before = await _typed(store)
    settings = Settings(snapshot_every=100, snapshot_min_interval=0.0, version_idle_seconds=0.05)
    snapshots, room = Snapshots(store, settings, seq=0), _Room(doc_id, seq)
    await snapshots.changed(room)
    await asyncio.sleep(0.2)  # the pause: the idle-time version, then packing
    await room.settle()
    assert await store.snapshot_seq(doc_id) == seq
    # Seqs up to 1,500 (a pack below the snapshot) were packed: one whole pack, 1-1,000; the
    # next (1,001-2,000) is still rows.
    assert await store.pack_log(doc_id, seq - PACK_ROWS) == 0
    assert await store.pack_log(doc_id, seq) == (0 if store.dialect == "memory" else PACK_ROWS)
    assert await store.read_ops(doc_id, 0) == before


async def test_a_burst_of_typing_is_not_packed_beside_it(store: DocumentStore) -> None:
    doc_id, seq, _ = await _typed(store)
    settings = Settings(snapshot_every=100, snapshot_min_interval=0.0, version_idle_seconds=60)
    snapshots, room = Snapshots(store, settings, seq=0), _Room(doc_id, seq)
    await snapshots.changed(room)  # a snapshot every 100 entries, while people type
    await room.settle()
    assert await store.snapshot_seq(doc_id) == seq
    assert await store.pack_log(doc_id, seq - PACK_ROWS) == (
        0 if store.dialect == "memory" else PACK_ROWS
    )
    snapshots.cancel()


async def test_packing_at_start_waits_its_delay_and_stops_with_the_server(
    store: DocumentStore,
) -> None:
    doc_id, seq, before = await _typed(store)
    await store.save_snapshot(doc_id, seq, b"state")
    async with LogPacker(store, delay=60.0):  # the server stops before packing began
        await asyncio.sleep(0.1)
    # Nothing was packed: the first pack is still there to pack (memory packs nothing, ever).
    assert await store.pack_log(doc_id, PACK_ROWS) == (
        0 if store.dialect == "memory" else PACK_ROWS
    )
    [entry] = await store.read_ops(doc_id, seq - 1)
    seq = await store.append_ops(doc_id, _entries(entry.user_id, Document("moreReplica"), 1000))
    await store.save_snapshot(doc_id, seq, b"state")
    before = await store.read_ops(doc_id, 0)
    async with LogPacker(store, delay=0.0, pause=0.0) as packer:
        await packer.finished()
    # It packed the second pack (1,001-2,000), a pack below the snapshot at 3,500: nothing is
    # left to pack there, and the entries read as before.
    assert await store.pack_log(doc_id, seq - PACK_ROWS) == 0
    assert await store.read_ops(doc_id, 0) == before
