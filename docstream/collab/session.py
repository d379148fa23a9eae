"""A socket's session with a document: the one thing the WebSocket route talks to.

``Hub.connect(member, doc_id, outlet)`` makes a :class:`Session`. The route decides *who* connects
(authentication and roles are the services' business, handed over as a :class:`Member`) and pumps
frames; the session does the rest: it queues what the Room sends for the socket (a Room never
awaits a slow socket, see :mod:`docstream.collab.connection`) and writes it through the
:class:`Outlet` from its own task, and it hands the client's frames to the Room in order. Nothing
outside the collab package sees the Room's inbox or its items.

Life of a session: ``connect`` -> (``error`` for refused frames) -> ``join(hello)`` once ->
``submit(frame)`` for every ``ops`` / ``cursor`` frame -> ``leave()`` always, last (it tells the
Room, closes the socket with 1000 unless a close was asked for, and waits for the queued frames to
be written).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from docstream import metrics
from docstream.collab import messages as m
from docstream.collab.connection import CloseRequest, Connection
from docstream.errors import DocStreamError
from docstream.protocol import codec
from docstream.protocol.codes import CLOSE_NORMAL
from docstream.protocol.messages import ErrorFrame, Hello, RoleName, SetCursor, SubmitOps

if TYPE_CHECKING:
    from docstream.collab.hub import Hub
    from docstream.collab.room import Room

log = logging.getLogger(__name__)
#: How long ``leave`` waits for the queued frames to be written.
FLUSH_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Member:
    """Who connects, as decided by the services before the socket joins.

    ``role`` is the effective role now (re-checked by the Hub when access changes), ``link`` the
    public link token presented (re-checked too), ``history_floor`` the first seq a link-only
    member may catch up from.
    """

    user_id: str
    name: str
    role: RoleName
    guest: bool = False
    link: str | None = None
    history_floor: int = 0


class Outlet(Protocol):
    """Where a session's frames go (the WebSocket)."""

    async def send(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class Session:
    """One socket on one document (see the module docstring). Made by :meth:`Hub.connect`."""

    def __init__(self, hub: Hub, doc_id: str, conn: Connection, outlet: Outlet) -> None:
        self.doc_id = doc_id
        self._hub = hub
        self._conn = conn
        self._outlet = outlet
        self._room: Room | None = None
        self._pump = asyncio.get_running_loop().create_task(self._write(), name=f"socket-{conn.id}")

    @property
    def id(self) -> int:
        """Unique among this process's sessions."""
        return self._conn.id

    @property
    def user_id(self) -> str:
        return self._conn.user_id

    @property
    def role(self) -> RoleName:
        """The socket's role now (changed while connected when a grant changes)."""
        return self._conn.role

    @property
    def guest(self) -> bool:
        return self._conn.guest

    def send(self, text: str) -> None:
        """Queue one encoded frame for this socket."""
        self._conn.send(text)

    async def in_room(self, fn: Callable[[Room], Awaitable[Any]]) -> Any:
        """Run ``fn(room)`` in the Room's order, after every frame this socket handed it before
        (an anchor may name characters of ``ops`` still queued). Join first."""
        room = self._room
        if room is None:
            raise RuntimeError("join before using the room")
        return await room.call(fn)

    @property
    def closing(self) -> CloseRequest | None:
        """The close asked for (by the route, the Room, the Hub or a revocation), if any."""
        return self._conn.closing

    def error(
        self, exc: DocStreamError, ref: int | None = None, comment: str | None = None
    ) -> None:
        """Answer a refused frame with an ``error`` (the socket stays open)."""
        metrics.REFUSED_FRAMES.labels(exc.code).inc()
        frame = ErrorFrame(exc.code, exc.detail, ref, comment)
        self._conn.send(codec.encode(frame).decode())

    def close(self, code: int, reason: str) -> None:
        """Close the socket after the frames queued so far (idempotent: the first close wins)."""
        self._conn.close(code, reason)

    async def join(self, hello: Hello) -> None:
        """Enter the document's Room with a validated ``hello`` (once)."""
        if self._room is not None:
            raise RuntimeError("this session already joined")
        self._room = await self._hub.join(self._conn, self.doc_id, hello)

    async def submit(self, frame: SubmitOps | SetCursor) -> None:
        """Hand a client frame to the Room, in order (waits while the Room is saturated)."""
        room = self._room
        if room is None:
            raise RuntimeError("join before submitting")
        if isinstance(frame, SubmitOps):
            await room.inbox.put(m.OpsItem(self._conn, frame))
        else:
            await room.inbox.put(m.CursorItem(self._conn, frame))

    async def leave(self) -> None:
        """Leave the Room and close the socket; always the last call."""
        if self._room is not None:
            with contextlib.suppress(Exception):
                await self._room.inbox.put(m.LeaveItem(self._conn))
        if self._conn.closing is None:
            self._conn.close(CLOSE_NORMAL, "bye")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pump, FLUSH_TIMEOUT)
        self._pump.cancel()

    async def _write(self) -> None:
        while True:
            item = await self._conn.next_frame()
            if isinstance(item, CloseRequest):
                with contextlib.suppress(Exception):
                    await self._outlet.close(item.code, item.reason[:120])
                return
            await self._outlet.send(item)

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.doc_id} {self._conn!r}>"
