"""The fast tier of Room tests: a real Hub and Room over the in-memory store, no server, no disk.

Each test gets a fresh :class:`MemoryDocumentStore` with a user and a document, and helpers to
join clients (a :class:`Connection` whose outbox the test reads as decoded frames) and to wait
until everything queued in the Room before was handled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from docstream.collab import messages as m
from docstream.collab.connection import CloseRequest, Connection
from docstream.collab.extensions import Event, Extension, Extensions
from docstream.collab.hub import Hub
from docstream.collab.room import Room
from docstream.protocol import codec
from docstream.protocol.messages import Hello, SubmitOps
from docstream.services.documents import DocumentService
from docstream.settings import Settings
from docstream.storage.base import NewLogEntry
from docstream.storage.memory import MemoryDocumentStore


class CountingStore(MemoryDocumentStore):
    """The in-memory store, recording the size of every ``append_ops`` transaction; its next
    ``fail_appends`` / ``fail_reads`` calls fail the way an unreachable database does."""

    def __init__(self) -> None:
        super().__init__()
        self.commits: list[int] = []
        self.fail_appends = 0
        self.fail_reads = 0
        #: Seconds each commit takes (a real database's round trip and fsync).
        self.commit_delay = 0.0

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        from docstream.errors import StorageError

        if self.fail_appends:
            self.fail_appends -= 1
            raise StorageError("the database is unreachable (injected)")
        if self.commit_delay:
            await asyncio.sleep(self.commit_delay)
        last = await super().append_ops(doc_id, entries)
        self.commits.append(len(entries))
        return last

    async def read_ops(self, doc_id: str, after_seq: int, limit: int | None = None) -> Any:
        from docstream.errors import StorageError

        if self.fail_reads:
            self.fail_reads -= 1
            raise StorageError("the database is unreachable (injected)")
        return await super().read_ops(doc_id, after_seq, limit)


class Recorder(Extension):
    """An extension that records every event it hears."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def change_committed(self, event: Any) -> None:
        self.events.append(event)

    async def presence_changed(self, event: Any) -> None:
        self.events.append(event)


@dataclass
class Node:
    """One node: store, Hub (with a recording extension) and a document owned by ``user_id``."""

    store: CountingStore
    hub: Hub
    settings: Settings
    recorder: Recorder
    doc_id: str
    user_id: str
    conns: list[Connection] = field(default_factory=list)

    async def join(
        self, replica: str, *, since: int = 0, role: str = "owner", user_id: str | None = None
    ) -> tuple[Room, Connection]:
        conn = Connection(
            user_id=user_id or self.user_id,
            name=replica,
            role=role,  # type: ignore[arg-type]
            guest=False,
            queue_size=100_000,
        )
        room = await self.hub.join(conn, self.doc_id, Hello(replica=replica, since=since))
        await settle(room)
        self.conns.append(conn)
        return room, conn

    def room(self) -> Room:
        return self.hub.rooms[self.doc_id]


async def _noop(room: Room) -> None:
    return None


async def settle(room: Room) -> None:
    """Wait until every item queued in the Room before this call was handled."""
    await room.call(_noop)


def send(room: Room, conn: Connection, msg: SubmitOps) -> None:
    room.inbox.put_nowait(m.OpsItem(conn, msg))


def frames(conn: Connection) -> list[Any]:
    """The frames queued for ``conn`` since the last call, decoded (a close as CloseRequest)."""
    out: list[Any] = []
    while not conn.outbox.empty():
        item = conn.outbox.get_nowait()
        out.append(item if isinstance(item, CloseRequest) else codec.decode_server_frame(item))
    return out


def make_settings(**overrides: Any) -> Settings:
    return Settings(**{"version_idle_seconds": 3600.0, **overrides})


@pytest.fixture
def settings() -> Settings:
    """Override in a test module to change the Room's settings."""
    return make_settings()


@pytest.fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    async with open_node(settings) as made:
        yield made


@contextlib.asynccontextmanager
async def open_node(settings: Settings) -> AsyncIterator[Node]:
    """A fresh store with a user and a document, and a Hub on it (closed at the end)."""
    store = CountingStore()
    await store.open()
    await store.migrate()
    user = await store.register_user("room@example.com", "Room", "not-a-real-hash")
    doc = await store.create_document(user.id, "room tests")
    recorder = Recorder()
    hub = Hub(store, settings, DocumentService(store), Extensions([recorder]))
    try:
        yield Node(store, hub, settings, recorder, doc.id, user.id)
    finally:
        await hub.close()
        await store.close()


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)
