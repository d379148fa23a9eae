"""The items a Room's inbox holds (internal to the node; never on the wire)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docstream.protocol.messages import Hello, Peer, SetCursor, SubmitOps
from docstream.storage.base import LogEntry

if TYPE_CHECKING:
    from docstream.collab.connection import Connection
    from docstream.collab.room import Room


@dataclass(slots=True)
class JoinItem:
    conn: Connection
    hello: Hello


@dataclass(slots=True)
class OpsItem:
    """An ``ops`` message of ``conn``. Its answer (the ack's seq, or the refusal) is sent to
    ``conn`` as a frame, or, when ``reply`` is given (a server-side edit), set on ``reply``
    instead: the seq, or the typed error a client would have been sent."""

    conn: Connection
    msg: SubmitOps
    reply: asyncio.Future[int] | None = None


@dataclass(slots=True)
class CursorItem:
    conn: Connection
    msg: SetCursor


@dataclass(slots=True)
class LeaveItem:
    conn: Connection


@dataclass(slots=True)
class RemoteItem:
    entries: list[LogEntry]


@dataclass(slots=True)
class CallItem:
    fn: Callable[[Room], Awaitable[Any]]
    future: asyncio.Future[Any] | None = None  # None: fire and forget (failures are logged)


@dataclass(slots=True)
class RemotePresenceItem:
    """A peer on another node joined, left, moved its caret or is still there ("here")."""

    action: str
    node: str
    peers: list[Peer]
    anchor: str | None
    head: str | None
    expiry: float


@dataclass(slots=True)
class ExpirePresenceItem:
    now: float


@dataclass(slots=True)
class Stop:
    pass


Item = (
    JoinItem
    | OpsItem
    | CursorItem
    | LeaveItem
    | RemoteItem
    | CallItem
    | RemotePresenceItem
    | ExpirePresenceItem
    | Stop
)
