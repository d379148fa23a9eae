"""Server-side editing: read a document, or change it, inside its Room's order.

``Hub.direct(doc_id)`` is how the services work on a live document without a socket (restoring a
version, taking a named one): the work runs in the Room's worker, so no client message interleaves
with it, and an edit goes through the same path as a client's ``ops`` (checked, logged,
acknowledged only once durable, broadcast live, published to the other nodes). ``edit`` returns
the seq the edit was stored at, or raises the typed error a client would have been sent.

The edit carries a future the Room sets instead of sending a frame: the seq, or the typed
error. The private connection only says who is editing (author, replica); nobody reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from docstream.collab import messages as m
from docstream.collab import slices
from docstream.collab.connection import Connection
from docstream.crdt import Document, Op
from docstream.protocol.messages import SubmitOps

if TYPE_CHECKING:
    from docstream.collab.hub import Hub
    from docstream.collab.room import Room

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Author:
    """Who makes a server-side edit: a user, and a fresh replica already bound to them."""

    user_id: str
    name: str
    replica: str


class DocumentView:
    """A document inside its Room's order (valid only during the callback it is given to)."""

    def __init__(self, room: Room) -> None:
        self._room = room

    @property
    def seq(self) -> int:
        """The last seq the Room's replica reflects."""
        return self._room.seq

    @property
    def version_seq(self) -> int:
        """The seq of the latest restore point the Room knows of."""
        return self._room.version_seq

    def versioned(self) -> None:
        """A restore point of the current seq was just stored (no automatic one is due)."""
        self._room.version_seq = self._room.seq

    async def text(self) -> str:
        return await self._room.text()

    @asynccontextmanager
    async def copy(self, replica: str) -> AsyncIterator[Document]:
        """A private copy of the replica that edits as ``replica`` (released afterwards)."""
        doc = await slices.decode(await self._room.encoded_state(), replica)
        try:
            yield doc
        finally:
            await slices.release(doc)


class DirectEditor:
    """``Hub.direct(doc_id)``: see the module docstring."""

    def __init__(self, hub: Hub, doc_id: str) -> None:
        self._hub = hub
        self.doc_id = doc_id

    async def read(self, fn: Callable[[DocumentView], Awaitable[T]]) -> T:
        """Run ``fn`` in the Room's order (loading the Room if needed)."""

        async def in_room(room: Room) -> T:
            return await fn(DocumentView(room))

        return await self._hub.with_room(self.doc_id, in_room)

    async def edit(
        self, author: Author, prepare: Callable[[DocumentView], Awaitable[list[Op]]]
    ) -> int:
        """Submit the ops ``prepare`` returns as one message of ``author``, in the Room's order
        right after ``prepare`` ran; return the seq it was stored at (no ops: the current seq).

        Raises:
            DocStreamError: the edit was refused or not stored (the code a client would get).
        """
        conn = Connection(
            user_id=author.user_id, name=author.name, role="editor", guest=False, queue_size=4
        )
        conn.attach(author.replica)
        reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def in_room(room: Room) -> int | None:
            ops = await prepare(DocumentView(room))
            if not ops:
                return room.seq
            await room.handle_ops([m.OpsItem(conn, SubmitOps(ref=1, ops=ops), reply=reply)])
            return None

        unchanged = await self._hub.with_room(self.doc_id, in_room)
        if unchanged is not None:
            reply.cancel()
            return unchanged
        # The answer is a value: the seq (it may wait for entries before it: catch-up), or the
        # typed error a client would have been sent.
        return await reply
