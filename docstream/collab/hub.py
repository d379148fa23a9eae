"""The Hub: document id -> Room on this node.

A Room is loaded lazily on the first join (latest snapshot + later log entries); concurrent first
opens of one document share one load. A Room whose last client left is stopped (final snapshot and
restore point) and dropped; a join that arrives while it stops waits for the stop to finish and then
loads it afresh. The Hub emits ``RoomOpened``/``RoomStopped`` and what its Rooms commit
(``ChangeCommitted``, ``PresenceChanged``) through the node's :class:`Extensions`; its own
reactions to role changes, revocations and deletions (they must reach live sockets) are the
extension :attr:`Hub.reactions`, registered first. It is also the ``TextSource`` of the REST API.

**Texts for the REST API** (:meth:`Hub.current_text`). A Room remembers each text it reads at a
seq the log holds (versions, these reads, its final restore point), the latest per document, in a
small cache: the text at a seq never changes, so an entry is good exactly while the document's
stored seq is the same. A read first looks there (one row read for the stored seq): a document
nobody edited since is answered without a load, open or not. Otherwise the read goes through the
document's Room, open or being opened: the web UI sends ``GET /documents/{id}`` together with the
WebSocket ``hello``, and one load serves both (decoding a large state twice, concurrently, doubled
the time every other socket waited). The cache is bounded by :data:`TEXT_CACHE_CHARS` and
:data:`TEXT_CACHE_ENTRIES`, and forgets a deleted document at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from docstream import tracing
from docstream.collab import messages as m
from docstream.collab import slices
from docstream.collab.connection import Connection
from docstream.collab.direct import DirectEditor
from docstream.collab.extensions import (
    AccessChanged,
    DocumentDeleted,
    Extension,
    Extensions,
    RoomOpened,
    RoomStopped,
)
from docstream.collab.loader import load_document, load_document_and_state, server_replica
from docstream.collab.room import Room, RoomClosed, RoomContext
from docstream.collab.session import Member, Outlet, Session
from docstream.collab.snapshots import Snapshots
from docstream.errors import DocStreamError
from docstream.protocol import codec
from docstream.protocol.codes import CLOSE_FORBIDDEN, CLOSE_GOING_AWAY, CLOSE_NOT_FOUND
from docstream.protocol.messages import Hello, RoleChanged
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, Role

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Remembered texts of documents (see the module docstring): at most this many characters ...
TEXT_CACHE_CHARS = 8_000_000
#: ... and this many documents.
TEXT_CACHE_ENTRIES = 256


class TextCache:
    """The latest known text of documents, by (doc_id, seq), least recently used first out."""

    def __init__(self, chars: int = TEXT_CACHE_CHARS, entries: int = TEXT_CACHE_ENTRIES) -> None:
        self._limit_chars = chars
        self._limit_entries = entries
        self._texts: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._chars = 0

    def get(self, doc_id: str, seq: int) -> str | None:
        """The text of ``doc_id`` at ``seq``, if remembered."""
        found = self._texts.get(doc_id)
        if found is None or found[0] != seq:
            return None
        self._texts.move_to_end(doc_id)
        return found[1]

    def put(self, doc_id: str, seq: int, text: str) -> None:
        """Remember the text of ``doc_id`` at ``seq`` (unless an entry at a later seq is there)."""
        found = self._texts.get(doc_id)
        if found is not None and found[0] > seq:
            return
        self.drop(doc_id)
        if len(text) > self._limit_chars:
            return
        self._texts[doc_id] = (seq, text)
        self._chars += len(text)
        while self._chars > self._limit_chars or len(self._texts) > self._limit_entries:
            _, (_, old) = self._texts.popitem(last=False)
            self._chars -= len(old)

    def drop(self, doc_id: str) -> None:
        """Forget ``doc_id``."""
        found = self._texts.pop(doc_id, None)
        if found is not None:
            self._chars -= len(found[1])


class RoleSource(Protocol):
    """Who may do what on a document now (the documents service): live sockets are re-checked."""

    async def role_of(
        self, doc_id: str, user_id: str, guest: bool, link: str | None = None
    ) -> Role | None: ...


class HubReactions(Extension):
    """The Hub's own reactions, first in line: a revoked role or a deleted document reaches the
    document's live sockets before any other extension runs."""

    name = "hub"

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def access_changed(self, event: AccessChanged) -> None:
        await self._hub.access_changed(event.doc_id, event.user_id)

    async def document_deleted(self, event: DocumentDeleted) -> None:
        await self._hub.document_deleted(event.doc_id)


class Hub:
    """Args:
    store: the document store.
    settings: the node's settings.
    roles: re-checks the roles of live sockets (the documents service).
    extensions: told about rooms and what they commit (the Hub registers nothing itself: the
        composition root registers :attr:`reactions` first).
    """

    def __init__(
        self,
        store: DocumentStore,
        settings: Settings,
        roles: RoleSource,
        extensions: Extensions | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.roles = roles
        self.extensions = extensions if extensions is not None else Extensions()
        self.reactions = HubReactions(self)
        self.rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._bound: dict[str, str] = {}
        self._closing = False
        self._checks: set[asyncio.Task[None]] = set()
        self.texts = TextCache()

    async def __aenter__(self) -> Hub:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- rooms -----------------------------------------------------------------------------------

    async def room(self, doc_id: str) -> Room:
        """The loaded Room of a document, loading it once however many ask at the same time."""
        while True:
            room = self.rooms.get(doc_id)
            if room is not None and not room.closing:
                return room
            if room is not None:  # being unloaded: wait, then load afresh
                await room.closed.wait()
                continue
            pending = self._loading.get(doc_id)
            if pending is not None:
                return await asyncio.shield(pending)
            future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
            self._loading[doc_id] = future
            try:
                room = await self._load(doc_id)
            except Exception as exc:
                future.set_exception(exc)
                future.exception()  # mark retrieved; the waiters re-raise it
                raise
            except BaseException:
                future.cancel()
                raise
            finally:
                del self._loading[doc_id]
            self.rooms[doc_id] = room
            future.set_result(room)
            await self.extensions.emit(RoomOpened(doc_id))
            # The worker starts only now, and the caller enqueues its join or call before the
            # worker first runs (no await in between), so a fresh Room never closes as empty.
            self._tasks[doc_id] = asyncio.get_running_loop().create_task(
                self._run_room(room), name=f"room-{doc_id}"
            )
            return room

    async def _load(self, doc_id: str) -> Room:
        doc, seq, state = await load_document_and_state(self.store, doc_id, server_replica())
        context = RoomContext(
            extensions=self.extensions,
            bind_replica=self._bind_replica,
            remember_text=self.texts.put,
        )
        snapshots = Snapshots(self.store, self.settings, seq)
        room = Room(doc_id, doc, seq, self.store, self.settings, context, snapshots)
        if state is not None:
            room.prime_state(state)
        return room

    async def _run_room(self, room: Room) -> None:
        try:
            await room.run()
        finally:
            if self.rooms.get(room.doc_id) is room:
                del self.rooms[room.doc_id]
            self._tasks.pop(room.doc_id, None)
            await self.extensions.emit(RoomStopped(room.doc_id))

    async def _bind_replica(self, replica: str, user_id: str) -> str:
        bound = self._bound.get(replica)
        if bound is None:
            bound = await self.store.bind_replica(replica, user_id)
            if len(self._bound) > 100_000:
                self._bound.clear()
            self._bound[replica] = bound
        return bound

    # --- sockets and server-side edits -----------------------------------------------------------

    def connect(self, member: Member, doc_id: str, outlet: Outlet) -> Session:
        """A session for a socket of ``member`` on ``doc_id`` (see :mod:`docstream.collab.session`);
        the caller joins it with the client's ``hello``."""
        conn = Connection(
            user_id=member.user_id,
            name=member.name,
            role=member.role,
            guest=member.guest,
            queue_size=self.settings.send_queue_size,
            queue_bytes=self.settings.send_queue_bytes,
        )
        conn.link, conn.catch_up_floor = member.link, member.history_floor
        conn.trace_link = tracing.current_link()  # the socket's session span, if traced
        return Session(self, doc_id, conn, outlet)

    def direct(self, doc_id: str) -> DirectEditor:
        """Read or edit ``doc_id`` from the server, in its Room's order (see
        :mod:`docstream.collab.direct`)."""
        return DirectEditor(self, doc_id)

    async def join(self, conn: Connection, doc_id: str, hello: Hello) -> Room:
        """Enter ``conn`` into the document's Room (the Session's ``join``; tests of the Room)."""
        room = await self.room(doc_id)
        await room.inbox.put(m.JoinItem(conn, hello))
        # The role was checked before the join: a revocation committed since then found no
        # socket to close. Re-check in the Room's order, after the join (see access_changed).
        await room.inbox.put(m.CallItem(self._recheck_in_order(conn.user_id, only=conn)))
        return room

    async def with_room(self, doc_id: str, fn: Callable[[Room], Awaitable[T]]) -> T:
        """Run ``fn`` inside the document's Room order, loading the Room if needed."""
        while True:
            room = await self.room(doc_id)
            try:
                result: T = await room.call(fn)
            except RoomClosed:
                continue
            return result

    # --- texts -----------------------------------------------------------------------------------

    def open_seq(self, doc_id: str) -> int | None:
        """The seq of an open document's live replica (None: not open here, or closing)."""
        room = self.rooms.get(doc_id)
        return None if room is None or room.closing else room.seq

    def open_text(self, doc_id: str) -> tuple[str, int] | None:
        """An open document's live text and its seq, read now (None: not open here)."""
        room = self.rooms.get(doc_id)
        if room is None or room.closing:
            return None
        return room.doc.text, room.seq

    async def current_text(self, doc_id: str) -> tuple[str, int]:
        """The text of a document and the seq it reflects (see the module docstring): from the
        text cache when it holds the document's stored seq, else read in its Room's order
        (loading the Room, or waiting for the load in progress), else -- while the Room's replica
        may differ from the log -- from the log."""
        record = await self.store.get_document(doc_id)
        if record is None:
            return "", 0  # deleted: no log, no text
        text = self.texts.get(doc_id, record.seq)
        if text is not None:
            return text, record.seq

        async def read(room: Room) -> tuple[str, int] | None:
            if not room.consistent:
                return None  # the log is the truth until the replica is rebuilt
            return await room.text(), room.seq

        found = await self.with_room(doc_id, read)
        if found is not None:
            return found
        doc, seq = await load_document(self.store, doc_id)
        try:
            return await slices.text(doc), seq
        finally:
            await slices.release(doc)

    # --- reactions (local events through :class:`HubReactions`, other nodes' through the cluster)

    async def document_deleted(self, doc_id: str) -> None:
        """Forget the document's text and close its sockets (4404)."""
        self.texts.drop(doc_id)
        room = self.rooms.get(doc_id)
        if room is None:
            return
        for conn in room.presence.connections():
            conn.close(CLOSE_NOT_FOUND, "the document was deleted")

    async def access_changed(self, doc_id: str, user_id: str | None) -> None:
        """Re-check the roles of the document's sockets (of ``user_id``, or everyone's).

        The check is queued in the Room's order: every join queued before it is in the Room when
        it looks, and every join queued after it re-checks itself (``join``). A socket authorised
        before a revocation can therefore not slip in after it.
        """
        room = self.rooms.get(doc_id)
        if room is None or room.closing:
            return
        try:
            room.inbox.put_nowait(m.CallItem(self._recheck_in_order(user_id)))
        except asyncio.QueueFull:  # saturated: check now; the periodic re-check backs this up
            conns = [c for c in room.presence.connections() if user_id in (None, c.user_id)]
            self._spawn_check(doc_id, conns)

    async def recheck_all(self) -> None:
        """Re-check the roles on every open document (periodically, after a broker reconnect)."""
        for doc_id in list(self.rooms):
            await self.access_changed(doc_id, None)

    def _recheck_in_order(
        self, user_id: str | None, only: Connection | None = None
    ) -> Callable[[Room], Awaitable[None]]:
        async def snapshot(room: Room) -> None:
            # Runs in the Room's worker: take the sockets now, look the roles up outside it.
            conns = [c for c in room.presence.connections() if user_id in (None, c.user_id)]
            if only is not None:
                conns = [c for c in conns if c is only]
            if conns:
                self._spawn_check(room.doc_id, conns)

        return snapshot

    def _spawn_check(self, doc_id: str, conns: list[Connection]) -> None:
        task = asyncio.get_running_loop().create_task(self._check_roles(doc_id, conns))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check_roles(self, doc_id: str, conns: list[Connection]) -> None:
        roles: dict[tuple[str, bool, str | None], Any] = {}
        for conn in conns:
            key = (conn.user_id, conn.guest, conn.link)
            try:
                if key not in roles:
                    roles[key] = await self.roles.role_of(doc_id, *key)
            except DocStreamError as exc:  # the database is down: the next re-check tries again
                log.warning("cannot re-check roles on %s: %s", doc_id, exc.detail)
                return
            role = roles[key]
            if role is None:
                conn.close(CLOSE_FORBIDDEN, "your access to this document was revoked")
            elif role != conn.role:
                conn.role = role
                conn.send(codec.encode(RoleChanged(role)).decode())

    # --- shutdown --------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every socket with 1001, then stop every Room (final snapshots). Once."""
        if self._closing:
            return
        self._closing = True
        rooms = list(self.rooms.values())
        for room in rooms:
            for conn in room.presence.connections():
                conn.close(CLOSE_GOING_AWAY, "the server is shutting down")
        for room in rooms:
            room.request_stop()
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_timeout)
            if pending:
                late = [room.doc_id for room in rooms if not room.closed.is_set()]
                log.warning("%d rooms did not stop in time: %s", len(late), ", ".join(late))
