"""The indexer's timing in-process (a real Hub over the memory store): it catches up when it
starts, waits ``delay`` after a burst, indexes at the latest ``4 * delay`` after the first event
of one that never pauses, and does nothing on the event's own path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docstream.collab.extensions import (
    ChangeCommitted,
    DocumentCreated,
    DocumentDeleted,
    DocumentRenamed,
    Extensions,
)
from docstream.collab.hub import Hub
from docstream.services.documents import DocumentService
from docstream.services.search.indexer import SearchIndexer
from docstream.settings import Settings
from docstream.storage.memory import MemoryDocumentStore

DELAY = 0.3


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[MemoryDocumentStore, Hub]]:
    store = MemoryDocumentStore()
    await store.open()
    hub = Hub(store, Settings(data_dir=tmp_path), DocumentService(store))
    try:
        yield store, hub
    finally:
        await hub.close()
        await store.close()


async def titles(store: MemoryDocumentStore, user_id: str, q: str) -> list[str]:
    return [h.doc.title for h in await store.search_documents(user_id, [q], 10, 0)]


async def test_catch_up_debounce_and_the_longest_wait(
    parts: tuple[MemoryDocumentStore, Hub],
) -> None:
    store, hub = parts
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    before = await store.create_document(ann.id, "Walrus before start")
    indexer = SearchIndexer(store, hub, delay=DELAY, catchup_interval=3600)
    extensions = Extensions([indexer])
    async with indexer:
        await asyncio.sleep(0.1)
        assert await titles(store, ann.id, "walrus") == [before.title]  # caught up at start

        doc = await store.create_document(ann.id, "Narwhal")
        started = time.monotonic()
        await extensions.emit(DocumentCreated(doc))  # only schedules: returns at once
        assert time.monotonic() - started < 0.05
        await asyncio.sleep(DELAY / 3)
        assert await titles(store, ann.id, "narwhal") == []  # not before the delay
        await asyncio.sleep(DELAY)
        assert await titles(store, ann.id, "narwhal") == ["Narwhal"]

        # A burst that never pauses: indexed within 4 * delay of its first event all the same.
        first = time.monotonic()
        for i in range(int(8 * DELAY / 0.05)):
            renamed = await store.rename_document(doc.id, f"Narwhal {i} orca")
            assert renamed is not None
            await extensions.emit(DocumentRenamed(renamed))
            await extensions.emit(ChangeCommitted(doc.id, 0, []))
            if await titles(store, ann.id, "orca"):
                break
            await asyncio.sleep(0.05)
        waited = time.monotonic() - first
        assert await titles(store, ann.id, "orca"), "never indexed while the burst went on"
        assert waited < 4 * DELAY + 0.5, waited

        # A deleted document's pending indexing is dropped.
        gone = await store.create_document(ann.id, "Beluga")
        await extensions.emit(DocumentCreated(gone))
        await store.delete_document(gone.id)
        await extensions.emit(DocumentDeleted(gone.id))
        await asyncio.sleep(2 * DELAY)
        assert await titles(store, ann.id, "beluga") == []
        assert await store.search_backlog(10) == []
