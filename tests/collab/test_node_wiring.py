"""The node's wiring, in process over a real SQLite store: extensions in order, the cluster as an
extension between two nodes, sockets through ``Hub.connect`` and server-side edits through
``Hub.direct``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from docstream.bootstrap import build
from docstream.collab.cluster import Cluster
from docstream.collab.direct import Author, DocumentView
from docstream.collab.extensions import (
    AccessChanged,
    ChangeCommitted,
    DocumentDeleted,
    Event,
    Extension,
    Extensions,
    PeerMessage,
    RoomOpened,
    RoomStopped,
)
from docstream.collab.hub import Hub
from docstream.collab.session import Member
from docstream.crdt import Document, Op
from docstream.errors import DocStreamError
from docstream.protocol import codec
from docstream.protocol.messages import Ack, ErrorFrame, Hello, RemoteOps, SubmitOps, Welcome
from docstream.pubsub.memory import MemoryBroker, MemoryBus
from docstream.services.documents import DocumentService
from docstream.services.identity import Identity
from docstream.settings import Settings
from docstream.storage.sqlite import SqliteDocumentStore

REPLICA = "wire" + "a" * 8


class Recorder(Extension):
    """Records every event it hears, in order, into a shared list."""

    def __init__(self, name: str, heard: list[tuple[str, Event]]) -> None:
        self.name = name
        self.heard = heard

    async def room_opened(self, event: RoomOpened) -> None:
        self.heard.append((self.name, event))

    async def room_stopped(self, event: RoomStopped) -> None:
        self.heard.append((self.name, event))

    async def change_committed(self, event: ChangeCommitted) -> None:
        self.heard.append((self.name, event))

    async def access_changed(self, event: AccessChanged) -> None:
        self.heard.append((self.name, event))

    async def peer_message(self, event: PeerMessage) -> None:
        self.heard.append((self.name, event))


class Failing(Extension):
    name = "failing"

    async def access_changed(self, event: AccessChanged) -> None:
        raise RuntimeError("injected")


async def test_extensions_run_in_order_and_a_failure_stops_no_one() -> None:
    heard: list[tuple[str, Event]] = []
    first, last = Recorder("first", heard), Recorder("last", heard)
    extensions = Extensions([first, Failing(), last])
    await extensions.emit(AccessChanged("d", None))
    assert [name for name, _ in heard] == ["first", "last"]
    assert extensions.listens(AccessChanged)
    assert not extensions.listens(DocumentDeleted)  # nobody overrides it
    extensions.remove(first)
    await extensions.emit(AccessChanged("d", "u"))
    assert [name for name, _ in heard] == ["first", "last", "last"]


@dataclass
class Node:
    store: SqliteDocumentStore
    hub: Hub
    extensions: Extensions
    heard: list[tuple[str, Event]] = field(default_factory=list)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "docstream.sqlite3")
    await store.open()
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


def node(store: SqliteDocumentStore, tmp_path: Path) -> Node:
    extensions = Extensions()
    hub = Hub(store, Settings(data_dir=tmp_path), DocumentService(store), extensions)
    extensions.add(hub.reactions)
    found = Node(store, hub, extensions)
    extensions.add(Recorder("recorder", found.heard))
    return found


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_peer_messages_and_committed_changes_cross_nodes_through_the_cluster(
    store: SqliteDocumentStore, tmp_path: Path
) -> None:
    bus = MemoryBus()
    a, b = node(store, tmp_path / "a"), node(store, tmp_path / "b")
    async with (
        MemoryBroker(bus) as broker_a,
        MemoryBroker(bus) as broker_b,
        Cluster(a.hub, broker_a, a.extensions, heartbeat=60) as cluster_a,
        Cluster(b.hub, broker_b, b.extensions, heartbeat=60) as cluster_b,
    ):
        a.extensions.add(cluster_a)
        b.extensions.add(cluster_b)
        await cluster_a.publish_peer("titles", b'{"any": "body"}')
        await eventually(lambda: any(isinstance(e, PeerMessage) for _, e in b.heard))
        assert [e for _, e in b.heard] == [PeerMessage("titles", b'{"any": "body"}')]
        assert not any(isinstance(e, PeerMessage) for _, e in a.heard)  # never its own

        user = await store.register_user("wire@example.com", "Wire", "not-a-real-hash")
        doc = await store.create_document(user.id, "wired")
        await store.bind_replica(REPLICA, user.id)
        reader = FakeSocket()  # keeps the document open on node B
        member = Member(user_id=user.id, name="Wire", role="owner")
        session = b.hub.connect(member, doc.id, reader)
        await session.join(Hello(replica="wireReader01", since=0))
        await eventually(lambda: any(isinstance(f, Welcome) for f in reader.frames))
        author = Author(user_id=user.id, name="Wire", replica=REPLICA)
        seq = await a.hub.direct(doc.id).edit(author, _insert("hello"))
        assert seq == 1
        committed = [e for _, e in a.heard if isinstance(e, ChangeCommitted)]
        assert [(e.doc_id, e.seq) for e in committed] == [(doc.id, 1)]
        # Node B applies A's edit from the cluster message and tells its socket:
        await eventually(lambda: any(isinstance(f, RemoteOps) for f in reader.frames))
        assert await b.hub.direct(doc.id).read(_text) == "hello"
        assert RoomOpened(doc.id) in [e for _, e in a.heard]
        await session.leave()
        await a.hub.close()
        await b.hub.close()
        assert RoomStopped(doc.id) in [e for _, e in a.heard]


async def _text(view: DocumentView) -> str:
    return await view.text()


def _insert(text: str) -> Callable[[DocumentView], Awaitable[list[Op]]]:
    async def prepare(view: DocumentView) -> list[Op]:
        async with view.copy(REPLICA) as doc:
            return list(doc.insert(len(doc.text), text))

    return prepare


async def test_a_direct_edit_returns_its_seq_or_raises_the_refusal(
    store: SqliteDocumentStore, tmp_path: Path
) -> None:
    n = node(store, tmp_path)
    user = await store.register_user("direct@example.com", "Direct", "not-a-real-hash")
    doc = await store.create_document(user.id, "direct")
    await store.bind_replica(REPLICA, user.id)
    editor = n.hub.direct(doc.id)
    author = Author(user_id=user.id, name="Direct", replica=REPLICA)
    assert await editor.edit(author, _insert("one")) == 1
    assert await editor.edit(author, _insert(" two")) == 2

    async def nothing(view: DocumentView) -> list[Op]:
        return []

    assert await editor.edit(author, nothing) == 2  # no ops: the current seq
    assert await editor.read(_text) == "one two"
    with pytest.raises(DocStreamError) as refused:
        await editor.edit(author, _insert("nul\x00"))  # refused as a client's would be
    assert refused.value.code == "bad_message"
    assert await editor.read(_text) == "one two"
    await n.hub.close()


class FakeSocket:
    def __init__(self) -> None:
        self.frames: list[object] = []
        self.closed: tuple[int, str] | None = None
        self.gone = asyncio.Event()

    async def send(self, text: str) -> None:
        self.frames.append(codec.decode_server_frame(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.gone.set()


async def test_a_socket_talks_to_its_session_only(
    store: SqliteDocumentStore, tmp_path: Path
) -> None:
    n = node(store, tmp_path)
    user = await store.register_user("socket@example.com", "Socket", "not-a-real-hash")
    doc = await store.create_document(user.id, "socket")
    socket = FakeSocket()
    session = n.hub.connect(Member(user_id=user.id, name="Socket", role="owner"), doc.id, socket)
    session.error(DocStreamError("refused before hello", code="protocol_error"))
    await session.join(Hello(replica=REPLICA, since=0))
    client = Document(REPLICA)
    await session.submit(SubmitOps(ref=7, ops=list(client.insert(0, "hi"))))
    await eventually(lambda: any(isinstance(f, Ack) for f in socket.frames))
    kinds = [type(f) for f in socket.frames]
    assert kinds[:2] == [ErrorFrame, Welcome]
    ack = next(f for f in socket.frames if isinstance(f, Ack))
    assert (ack.ref, ack.seq) == (7, 1)
    await session.leave()
    assert socket.closed == (1000, "bye")
    await n.hub.close()


async def test_the_composition_root_registers_every_extension_once_in_its_order(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, argon2_memory_kib=8, argon2_time_cost=1)
    async with build(settings) as services:
        extensions = list(services.hub.extensions)
        assert extensions[:8] == [
            services.hub.reactions,
            services.cluster,
            services.revocations,
            services.list_events,
            services.titles,
            services.mentions,
            services.words,
            services.audit,
        ]
        assert type(extensions[8]).__name__ == "CommentRelay"
        assert extensions[9:] == [services.notifications, services.search_index]
        assert services.documents.extensions is services.hub.extensions
        user, tokens = await services.auth.register("root@example.com", "long enough", "Root")
        caller = Identity(user_id=user.id, name=user.name)
        doc = await services.documents.create(caller, "Wired title")
        await services.titles.flush()  # DocumentCreated reached the title index
        found = await services.titles.suggest(caller, "wired", 5)
        assert [s.doc_id for s in found] == [doc.id]

        # A sign-out (SessionsRevoked) closes the session's sockets (the revocations extension).
        verified = await services.auth.verify(tokens.access_token)
        socket = FakeSocket()
        member = Member(user_id=user.id, name=user.name, role="owner")
        session = services.hub.connect(member, doc.id, socket)
        services.revocations.register(session, verified.session_id, verified.expires_at)
        await services.auth.logout(tokens.refresh_token)
        await asyncio.wait_for(socket.gone.wait(), 5)
        assert socket.closed is not None and socket.closed[0] == 4401
        services.revocations.unregister(session)
        await session.leave()
