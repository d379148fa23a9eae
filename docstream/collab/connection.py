"""One connected WebSocket client, as the Room sees it: identity, role, replica and a send queue.

Frames are queued as text and written by the socket's own sender task, so a Room never awaits a slow
socket. The queue is bounded in frames and in bytes (the memory its frames hold; one frame larger
than the byte bound still goes through an empty queue, e.g. the ``welcome`` of a large document):
a client that cannot keep up, or reads slowly on purpose to make the server hold its frames, is
closed (code 1013) rather than having frames silently dropped; it catches up by ``seq`` when it
reconnects.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from dataclasses import dataclass

from docstream.protocol.codes import CLOSE_RESTART, CLOSE_TRY_AGAIN_LATER
from docstream.protocol.messages import Peer, RoleName, color_for

#: The client's send queue overflowed: it reconnects and catches up.
CLOSE_TOO_SLOW = CLOSE_TRY_AGAIN_LATER
#: A newer connection of the same replica replaces this one.
CLOSE_REPLACED = CLOSE_RESTART

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class CloseRequest:
    code: int
    reason: str


class Connection:
    """A client connection. ``replica``/``peer`` are set once its ``hello`` is accepted."""

    def __init__(
        self,
        *,
        user_id: str,
        name: str,
        role: RoleName,
        guest: bool,
        queue_size: int,
        queue_bytes: int | None = None,
    ) -> None:
        self.id = next(_ids)
        self.user_id = user_id
        self.name = name
        self.role: RoleName = role
        self.guest = guest
        #: The public link token the connection presented (re-checked when access changes).
        self.link: str | None = None
        #: Link-only access: no catch-up from before this seq (the link's creation).
        self.catch_up_floor = 0
        self.color = color_for(user_id)
        self.replica: str | None = None
        self.peer: Peer | None = None
        self.outbox: asyncio.Queue[str | CloseRequest] = asyncio.Queue(queue_size + 1)
        self._limit = queue_size
        self._byte_limit = queue_bytes
        #: Bytes held by the frames queued now (their in-memory size).
        self.queued_bytes = 0
        self.closing: CloseRequest | None = None

    def attach(self, replica: str) -> Peer:
        self.replica = replica
        self.peer = Peer(user_id=self.user_id, name=self.name, color=self.color, replica=replica)
        return self.peer

    @property
    def live(self) -> bool:
        return self.peer is not None and self.closing is None

    def send(self, text: str) -> None:
        """Queue a frame; close the connection if its queue is full (a slow consumer)."""
        if self.closing is not None:
            return
        size = sys.getsizeof(text)
        over_bytes = (
            self._byte_limit is not None
            and self.queued_bytes > 0
            and self.queued_bytes + size > self._byte_limit
        )
        if self.outbox.qsize() >= self._limit or over_bytes:
            self.close(CLOSE_TOO_SLOW, "too slow to keep up; reconnect to catch up")
            return
        self.outbox.put_nowait(text)
        self.queued_bytes += size

    async def next_frame(self) -> str | CloseRequest:
        """The next queued item, for the socket's sender task (keeps the byte count)."""
        item = await self.outbox.get()
        if isinstance(item, str):
            self.queued_bytes = max(0, self.queued_bytes - sys.getsizeof(item))
        return item

    def close(self, code: int, reason: str) -> None:
        """Ask the sender task to close the socket after what is queued (or at once if full)."""
        if self.closing is not None:
            return
        self.closing = CloseRequest(code, reason)
        if self.outbox.full() or code == CLOSE_TOO_SLOW:
            while not self.outbox.empty():
                self.outbox.get_nowait()
            self.queued_bytes = 0
        self.outbox.put_nowait(self.closing)

    def __repr__(self) -> str:
        return f"<Connection {self.id} user={self.user_id} replica={self.replica} {self.role}>"
