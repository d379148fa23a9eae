"""What only the in-memory store has: its lifecycle across open/close and its simulated latency."""

from __future__ import annotations

import asyncio

import pytest

from docstream.errors import StorageError
from docstream.storage.base import NewLogEntry
from docstream.storage.memory import MemoryDocumentStore


async def test_it_is_usable_only_while_open_and_keeps_its_data_across_a_restart() -> None:
    store = MemoryDocumentStore()
    with pytest.raises(StorageError):
        await store.ping()
    async with store:
        user = await store.register_user("ann@example.com", "Ann", "hash")
        doc = await store.create_document(user.id, "Kept")
    with pytest.raises(StorageError):
        await store.get_document(doc.id)
    async with store:  # the same store opened again: a server restart over the same database
        assert await store.get_document(doc.id) == doc


async def test_latency_lets_work_pile_up_while_a_call_is_in_flight() -> None:
    async with MemoryDocumentStore(latency=0.05) as store:
        user = await store.register_user("ann@example.com", "Ann", "hash")
        doc = await store.create_document(user.id, "Slow")
        entry = NewLogEntry(user_id=user.id, replica="replica01", payload=b"\x01[]")
        first = asyncio.create_task(store.append_ops(doc.id, [entry]))
        await asyncio.sleep(0.01)
        assert not first.done()  # still "on the wire": a caller can queue more work meanwhile
        second = asyncio.create_task(store.append_ops(doc.id, [entry, entry]))
        assert (await first, await second) == (1, 3)
