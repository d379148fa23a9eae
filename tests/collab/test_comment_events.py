"""``CommentPosted``: emitted once per new comment or reply, on the node that stored it, with the
thread's earlier participants and the mentioned people who have access (what the notifications
follow). In process, over a real SQLite store and the node's own Hub and comments service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from docstream.collab.extensions import CommentPosted, Extension, Extensions
from docstream.collab.hub import Hub
from docstream.collab.session import Member, Session
from docstream.crdt import Document
from docstream.protocol import codec
from docstream.protocol.messages import (
    Ack,
    AddComment,
    CommentFrame,
    CommentList,
    CommentUpsert,
    EditComment,
    ErrorFrame,
    Hello,
    ReplyComment,
    SubmitOps,
)
from docstream.services.comments import CommentService
from docstream.services.documents import DocumentService
from docstream.settings import Settings
from docstream.storage.sqlite import SqliteDocumentStore


class Heard(Extension):
    name = "heard"

    def __init__(self) -> None:
        self.posted: list[CommentPosted] = []

    async def comment_posted(self, event: CommentPosted) -> None:
        self.posted.append(event)


class Socket:
    def __init__(self) -> None:
        self.frames: list[object] = []

    async def send(self, text: str) -> None:
        self.frames.append(codec.decode_server_frame(text))

    async def close(self, code: int, reason: str) -> None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "docstream.sqlite3")
    await store.open()
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_comment_posted_names_participants_and_mentions_with_access(
    store: SqliteDocumentStore, tmp_path: Path
) -> None:
    ada = await store.register_user("ada@example.com", "Ada", "x")
    bob = await store.register_user("bob@example.com", "Bob", "x")
    cat = await store.register_user("cat@example.com", "Cat", "x")
    eve = await store.register_user("eve@example.com", "Eve", "x")  # no access
    doc = await store.create_document(ada.id, "Events")
    await store.set_permission(doc.id, bob.id, "editor")
    await store.set_permission(doc.id, cat.id, "commenter")
    extensions = Extensions()
    documents = DocumentService(store)
    hub = Hub(store, Settings(data_dir=tmp_path), documents, extensions)
    extensions.add(hub.reactions)
    heard = Heard()
    extensions.add(heard)
    comments = CommentService(store, hub, documents, extensions)
    sessions: dict[str, tuple[Session, Socket]] = {}
    for user, role in ((ada, "owner"), (bob, "editor"), (cat, "commenter")):
        socket = Socket()
        session = hub.connect(Member(user_id=user.id, name=user.name, role=role), doc.id, socket)  # type: ignore[arg-type]
        await session.join(Hello(replica=f"replica{user.name}01", since=0))
        await comments.send_list(session)
        sessions[user.name] = (session, socket)
    ada_session, ada_socket = sessions["Ada"]
    replica = Document("replicaAda01")
    await ada_session.submit(SubmitOps(ref=1, ops=list(replica.insert(0, "text to talk about"))))
    await eventually(lambda: any(isinstance(f, Ack) for f in ada_socket.frames))

    async def send(name: str, frame: CommentFrame) -> None:
        await comments.handle(sessions[name][0], frame)

    start, end = replica.id_at(0), replica.id_at(3)
    await send(
        "Bob",
        AddComment("thread0001", "@Ada @Eve look", str(start), str(end), "text", [ada.id, eve.id]),
    )
    await send("Ada", ReplyComment("reply00001", "thread0001", "Looking."))
    await send("Cat", ReplyComment("reply00002", "reply00001", "Me too @Bob", [bob.id]))
    await send("Bob", EditComment("thread0001", "edited", []))  # an edit posts nothing
    await send("Ada", ReplyComment("reply00001", "thread0001", "Looking."))  # a re-send neither
    assert [
        (e.comment_id, e.thread_id, e.author_id, e.participants, e.mentioned) for e in heard.posted
    ] == [
        ("thread0001", "thread0001", bob.id, (), (ada.id,)),
        ("reply00001", "thread0001", ada.id, (bob.id,), ()),
        ("reply00002", "thread0001", cat.id, (bob.id, ada.id), (bob.id,)),
    ]
    # Every socket saw the list after its welcome, then every change; no socket saw an error.
    for _, socket in sessions.values():
        await eventually(
            lambda s=socket: sum(isinstance(f, CommentUpsert) for f in s.frames) >= 4  # type: ignore[misc]
        )
        assert any(isinstance(f, CommentList) for f in socket.frames)
        assert not [f for f in socket.frames if isinstance(f, ErrorFrame)]
    for session, _ in sessions.values():
        await session.leave()
    await hub.close()
