"""Large documents on one worker: their whole-document jobs run on the event loop in slices, a
REST read shares the Room's load, texts are remembered per seq, a closed Room frees its document
by reference counting, and the collector policy freezes, releases and thaws as documented.

In-process, over a real SQLite store (no server: the loop's behaviour is what is measured).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docstream.collab import heap as heap_module
from docstream.collab import slices
from docstream.collab.connection import Connection
from docstream.collab.heap import Heap
from docstream.collab.hub import Hub, TextCache
from docstream.collab.loader import encode_payload, seal_state
from docstream.crdt import Document, Insert
from docstream.crdt.encoding import encode_runs
from docstream.protocol.messages import Hello
from docstream.services.documents import DocumentService
from docstream.settings import Settings
from docstream.storage.base import NewLogEntry
from docstream.storage.sqlite import SqliteDocumentStore

AUTHORS = ["author-one", "author-two"]


def state_of(runs: int) -> tuple[bytes, str]:
    """A state of ``runs`` runs -- words and deleted characters alternating, two authors taking
    turns -- and its text."""
    counters = [1, 1]
    out: list[tuple[str, int, int, str | None]] = []
    for i in range(runs):
        a = (i // 500) % 2
        text = "word"[: 1 + i % 4] if i % 2 == 0 else None
        length = len(text) if text is not None else 2
        out.append((AUTHORS[a], counters[a], length, text))
        counters[a] += length
    return encode_runs(out), "".join(t for _, _, _, t in out if t is not None)


@pytest.fixture
def fresh_heap(monkeypatch: pytest.MonkeyPatch) -> Iterator[Heap]:
    """A policy of its own; whatever it froze is unfrozen afterwards (pytest freezes nothing)."""
    assert gc.get_freeze_count() == 0
    policy = Heap()
    monkeypatch.setattr(slices, "heap", policy)
    try:
        yield policy
    finally:
        gc.unfreeze()


@dataclass
class Node:
    store: SqliteDocumentStore
    hub: Hub
    user_id: str


@pytest.fixture
async def node(tmp_path: Path, fresh_heap: Heap) -> AsyncIterator[Node]:
    store = SqliteDocumentStore(tmp_path / "docstream.sqlite3")
    await store.open()
    await store.migrate()
    user = await store.register_user("large@example.com", "Large", "not-a-real-hash")
    hub = Hub(store, Settings(data_dir=tmp_path), DocumentService(store))
    try:
        yield Node(store, hub, user.id)
    finally:
        await hub.close()
        await store.close()


async def stored(node: Node, state: bytes) -> str:
    """A new document whose only content is ``state`` (a snapshot at seq 0)."""
    doc = await node.store.create_document(node.user_id, "large")
    await node.store.save_snapshot(doc.id, 0, seal_state(state))
    return doc.id


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    decode = slices.decode

    async def counted(state: bytes, replica: str) -> Document:
        calls.append(len(state))
        return await decode(state, replica)

    monkeypatch.setattr(slices, "decode", counted)
    return calls


# --------------------------------------------------------------------------- slices


async def test_a_large_decode_leaves_the_loop_free_every_few_milliseconds(
    fresh_heap: Heap,
) -> None:
    state, text = state_of(60_000)
    gaps: list[float] = []
    collecting: list[bool] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append(now - last)
            collecting.append(gc.isenabled())
            last = now

    was = gc.isenabled()
    gc.enable()
    tick = asyncio.get_running_loop().create_task(ticker())
    try:
        await asyncio.sleep(0)
        started = time.perf_counter()
        doc = await slices.decode(state, "replica-Z")
        took = time.perf_counter() - started
        assert gc.isenabled()  # resumed
    finally:
        tick.cancel()
        (gc.enable if was else gc.disable)()
    assert doc.text == text and doc.encode_state() == state
    assert len(gaps) > 20 and max(gaps) < max(0.05, took / 5), (max(gaps), took)
    assert not any(collecting[1:-1])  # the collector stayed paused while the state was built
    assert fresh_heap.freezes == 1  # 60,000 runs: frozen
    assert await slices.encode(doc) == state
    assert await slices.text(doc) == text
    await slices.release(doc)
    assert len(doc) == 0 and fresh_heap.freezes == 1


async def test_small_jobs_run_at_once_and_give_the_same_results(fresh_heap: Heap) -> None:
    doc = Document("replica-A")
    doc.insert(0, "small")
    state = doc.encode_state()
    again = await slices.decode(state, "replica-Z")
    assert again.text == "small" and await slices.encode(again) == state
    assert await slices.text(again) == "small"
    await slices.release(again)
    assert again.text == "" and fresh_heap.freezes == 0


async def test_cancelling_a_sliced_job_closes_it() -> None:
    closed: list[bool] = []

    def forever() -> Iterator[None]:
        try:
            while True:
                time.sleep(0.001)
                yield
        finally:
            closed.append(True)

    task = asyncio.get_running_loop().create_task(slices.run_sliced(forever()))  # type: ignore[arg-type]
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True]


# --------------------------------------------------------------------------- the heap policy


def test_frozen_documents_are_thawed_once_the_last_is_released(
    fresh_heap: Heap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap_module, "FREEZE_BLOCKS", 2)
    monkeypatch.setattr(heap_module, "THAW_AFTER", 2)
    monkeypatch.setattr(heap_module, "MAX_FREEZES", 3)
    state, _ = state_of(500)
    docs = [Document.decode_state(state, "replica-Z") for _ in range(5)]
    small = Document("replica-A")
    fresh_heap.settle(small)  # too small: not frozen
    assert fresh_heap.freezes == 0
    for doc in docs:
        fresh_heap.settle(doc)
    assert fresh_heap.freezes == 3 and gc.get_freeze_count() > 0  # the budget: 3 freezes
    for doc in docs[:2]:
        slices.release_now(doc)
    assert fresh_heap.thaws == 0  # a frozen document is still open
    slices.release_now(docs[2])
    assert fresh_heap.thaws == 1 and fresh_heap.freezes == 0
    fresh_heap.settle(docs[3])
    slices.release_now(docs[3])
    assert fresh_heap.thaws == 1  # one freeze since: not worth a full collection yet


def test_building_pauses_nest_and_restore_the_collector(fresh_heap: Heap) -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        with fresh_heap.building():
            with fresh_heap.building():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with fresh_heap.building():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        (gc.enable if was else gc.disable)()


def test_the_text_cache_is_bounded_and_keeps_the_latest_seq() -> None:
    cache = TextCache(chars=10, entries=2)
    cache.put("a", 2, "abc")
    cache.put("a", 1, "older")
    assert cache.get("a", 2) == "abc" and cache.get("a", 1) is None
    cache.put("b", 1, "bbbbbbb")
    assert cache.get("b", 1) == "bbbbbbb"
    cache.put("c", 1, "cc")  # 12 chars: the least recently used ("a") goes
    assert cache.get("a", 2) is None and cache.get("c", 1) == "cc"
    cache.put("d", 1, "x" * 11)  # larger than the whole cache: not kept
    assert cache.get("d", 1) is None
    cache.put("e", 1, "e")  # three entries: one goes
    assert cache.get("b", 1) is None and cache.get("e", 1) == "e"
    cache.drop("e")
    assert cache.get("e", 1) is None


# --------------------------------------------------------------------------- the Hub and Rooms


async def test_a_rest_read_during_an_open_shares_the_rooms_load(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, text = state_of(20_000)
    doc_id = await stored(node, state)
    decodes = count_decodes(monkeypatch)
    conn = Connection(user_id=node.user_id, name="ann", role="owner", guest=False, queue_size=10)
    join = asyncio.get_running_loop().create_task(
        node.hub.join(conn, doc_id, Hello(replica="annReplica", since=0))
    )
    await asyncio.sleep(0)  # the load has started
    assert doc_id in node.hub._loading
    assert await node.hub.current_text(doc_id) == (text, 0)
    await join
    assert decodes == [len(state)]


async def test_a_read_during_a_load_is_answered_from_the_cache_when_it_is_current(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, text = state_of(80_000)
    doc_id = await stored(node, state)
    node.hub.texts.put(doc_id, 0, text)
    conn = Connection(user_id=node.user_id, name="ann", role="owner", guest=False, queue_size=10)
    join = asyncio.get_running_loop().create_task(
        node.hub.join(conn, doc_id, Hello(replica="annReplica", since=0))
    )
    await asyncio.sleep(0)
    assert doc_id in node.hub._loading
    assert await node.hub.current_text(doc_id) == (text, 0)
    assert doc_id in node.hub._loading  # answered without waiting for the load
    await join


async def test_a_document_nobody_has_open_is_read_once_then_from_the_cache(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, text = state_of(3_000)
    doc_id = await stored(node, state)
    decodes = count_decodes(monkeypatch)
    assert await node.hub.current_text(doc_id) == (text, 0)
    await wait_closed(node, doc_id)
    assert await node.hub.current_text(doc_id) == (text, 0)
    assert len(decodes) == 1
    # Another node stores an edit: the remembered text is for an older seq.
    op = Insert("writer-replica:1", None, "new ")
    await node.store.bind_replica("writer-replica", node.user_id)
    await node.store.append_ops(
        doc_id,
        [NewLogEntry(user_id=node.user_id, replica="writer-replica", payload=encode_payload([op]))],
    )
    assert await node.hub.current_text(doc_id) == ("new " + text, 1)
    assert len(decodes) == 2
    await node.hub.document_deleted(doc_id)
    assert node.hub.texts.get(doc_id, 1) is None


async def test_a_closed_room_frees_its_document_and_remembers_its_text(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, text = state_of(40_000)
    doc_id = await stored(node, state)
    conn = Connection(user_id=node.user_id, name="ann", role="owner", guest=False, queue_size=10)
    room = await node.hub.join(conn, doc_id, Hello(replica="annReplica", since=0))
    await room.call(lambda r: asyncio.sleep(0))
    assert slices.heap.freezes == 1 and len(room.doc) == len(text)
    await room.stop()
    assert len(room.doc) == 0 and room.doc.stored_runs() == 0
    assert slices.heap.thaws == 0  # one freeze: not worth a full collection yet
    decodes = count_decodes(monkeypatch)
    # Nothing changed: no restore point was taken, so the Room's text was never read ...
    assert await node.hub.current_text(doc_id) == (text, 0)
    assert len(decodes) == 1  # ... and the read loaded it once, then remembered it.
    await wait_closed(node, doc_id)
    assert await node.hub.current_text(doc_id) == (text, 0)
    assert len(decodes) == 1


async def wait_closed(node: Node, doc_id: str) -> None:
    async with asyncio.timeout(10):
        while doc_id in node.hub.rooms:
            await asyncio.sleep(0.01)
