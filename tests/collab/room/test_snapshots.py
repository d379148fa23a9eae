"""Snapshots and automatic versions of an open document (the policy in collab/snapshots.py),
driven by its Room on the in-memory store: every ``snapshot_every`` entries, at most one per
``snapshot_min_interval``, a restore point when the document is quiet, the final ones on stop,
and never a state of a replica that may be ahead of the log."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from docstream.collab.loader import encode_payload, unseal_state
from docstream.collab.snapshots import Snapshots
from docstream.crdt import Document
from docstream.protocol.messages import SubmitOps
from docstream.settings import Settings
from docstream.storage.base import NewLogEntry
from tests.collab.room.conftest import (
    CountingStore,
    Node,
    make_settings,
    open_node,
    send,
    settle,
)


async def type_chars(node: Node, count: int, doc: Document | None = None) -> Document:
    """``count`` one-character edits, each committed on its own."""
    room, conn = await node.join("annReplica") if not node.conns else (node.room(), node.conns[0])
    doc = doc or Document("annReplica")
    for _ in range(count):
        send(room, conn, SubmitOps(ref=len(doc.text) + 1, ops=doc.insert(len(doc.text), "x")))
        await settle(room)
    return doc


async def snapshot_seq(node: Node) -> int | None:
    snapshot = await node.store.latest_snapshot(node.doc_id)
    return None if snapshot is None else snapshot.seq


async def test_a_snapshot_every_few_entries() -> None:
    settings = make_settings(snapshot_every=3, snapshot_min_interval=0.0)
    async with open_node(settings) as node:
        doc = await type_chars(node, 2)
        assert await snapshot_seq(node) is None
        doc = await type_chars(node, 1, doc)
        await settle(node.room())  # the save runs beside the worker
        await wait_for_snapshot(node, 3)
        await type_chars(node, 3, doc)
        await wait_for_snapshot(node, 6)
        snapshot = await node.store.latest_snapshot(node.doc_id)
        assert snapshot is not None
        state = Document.decode_state(unseal_state(snapshot.state), "checkReplica")
        assert state.text == "x" * 6


async def wait_for_snapshot(node: Node, seq: int) -> None:
    for _ in range(200):
        if await snapshot_seq(node) == seq:
            return
        await settle(node.room())
    raise AssertionError(f"no snapshot at {seq}: {await snapshot_seq(node)}")


async def test_at_most_one_snapshot_per_interval() -> None:
    settings = make_settings(snapshot_every=2, snapshot_min_interval=3600.0)
    async with open_node(settings) as node:
        await type_chars(node, 6)
        await wait_for_snapshot(node, 2)
        assert await snapshot_seq(node) == 2


async def test_a_quiet_document_gets_a_restore_point_and_a_snapshot() -> None:
    settings = make_settings(version_idle_seconds=0.05, snapshot_every=1000)
    async with open_node(settings) as node:
        await type_chars(node, 4)
        versions: list[Any] = []
        for _ in range(200):
            versions = await node.store.list_versions(node.doc_id)
            if versions:
                break
            await settle(node.room())
            await asyncio.sleep(0.01)
        assert [(v.seq, v.kind, v.length) for v in versions] == [(4, "auto", 4)]
        assert await snapshot_seq(node) == 4


async def test_stopping_stores_the_final_snapshot_and_restore_point() -> None:
    async with open_node(make_settings()) as node:
        await type_chars(node, 3)
        assert await snapshot_seq(node) is None
        await node.room().stop()
        assert await snapshot_seq(node) == 3
        versions = await node.store.list_versions(node.doc_id)
        assert [(v.seq, v.kind) for v in versions] == [(3, "auto")]


async def test_nothing_is_stored_from_a_replica_that_may_be_ahead_of_the_log() -> None:
    async with open_node(make_settings(snapshot_every=1, snapshot_min_interval=0.0)) as node:
        room, ann = await node.join("annReplica")
        other = Document("otherNode")
        await node.store.append_ops(
            node.doc_id,
            [NewLogEntry(node.user_id, "otherNode", encode_payload(other.insert(0, "o")))],
        )
        node.store.fail_reads = 1_000_000  # entry 1 cannot be read: the ack of 2 waits
        send(room, ann, SubmitOps(ref=1, ops=Document("annReplica").insert(0, "a")))
        await settle(room)
        assert room.acks_waiting and not room.consistent
        await room.stop()
        assert await snapshot_seq(node) is None
        assert await node.store.list_versions(node.doc_id) == []


class FakeRoom:
    """What Snapshots reads of a Room, scripted."""

    def __init__(self, seq: int, consistent: bool) -> None:
        self.doc_id = "doc"
        self.seq = seq
        self.consistent = consistent
        self.posted: list[Callable[[], Awaitable[None]]] = []

    async def encoded_state(self) -> bytes:
        return Document("fakeReplica").encode_state()

    async def text(self) -> str:
        return "text"

    def post(self, work: Callable[[], Awaitable[None]]) -> bool:
        self.posted.append(work)
        return True

    def spawn(self, work: Awaitable[None]) -> None:
        raise AssertionError("a final snapshot is awaited, not spawned")


class RecordingStore(CountingStore):
    def __init__(self) -> None:
        super().__init__()
        self.saved: list[tuple[str, int]] = []

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        self.saved.append((doc_id, seq))

    async def create_version(self, doc_id: str, seq: int, text: str, *args: Any, **kw: Any) -> Any:
        self.saved.append((f"version of {doc_id}", seq))


async def test_the_policy_alone_stores_nothing_while_the_replica_is_not_the_log() -> None:
    store = RecordingStore()
    await store.open()
    snapshots = Snapshots(store, Settings(), 0)
    await snapshots.stopping(FakeRoom(5, consistent=False))
    assert store.saved == []
    snapshots = Snapshots(store, Settings(), 0)
    await snapshots.stopping(FakeRoom(5, consistent=True))
    assert store.saved == [("doc", 5), ("version of doc", 5)]
    assert (snapshots.snapshot_seq, snapshots.version_seq) == (5, 5)
