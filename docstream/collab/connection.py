"""One connected WebSocket client, as the Room sees it: identity, role, replica and a send queue.

Frames are queued as text and written by the socket's own sender task, so a Room never awaits a slow
socket. The queue is bounded in frames and in bytes (the memory its frames hold; one frame larger
than the byte bound still goes through an empty queue, e.g. the ``welcome`` of a large document):
a client that cannot keep up, or reads slowly on purpose to make the server hold its frames, is
closed (code 1013) rather than having frames silently dropped; it catches up by ``seq`` when it
reconnects.

A client that said ``hello`` with ``batch`` gets what is queued when its sender wakes as one
``batch`` frame (one native send instead of one per frame), its consecutive acks merged into one
(``ack.n``): a commit group of many messages costs its sender one write, and each other socket one.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from dataclasses import dataclass

from docstream import metrics
from docstream.protocol.codes import CLOSE_RESTART, CLOSE_TRY_AGAIN_LATER
from docstream.protocol.messages import Ack, Peer, RoleName, color_for

#: The client's send queue overflowed: it reconnects and catches up.
CLOSE_TOO_SLOW = CLOSE_TRY_AGAIN_LATER
#: A newer connection of the same replica replaces this one.
CLOSE_REPLACED = CLOSE_RESTART

_ids = itertools.count(1)

#: A batch stops growing past this many bytes (of queued frames, as held in memory).
BATCH_BYTES = 256 * 1024
#: What a queued ack is counted as (an ``Ack`` struct, before it is written).
ACK_SIZE = 64


def _size(item: str | Ack) -> int:
    return ACK_SIZE if isinstance(item, Ack) else sys.getsizeof(item)


def _ack_text(ref: int, seq: int, n: int) -> str:
    if n == 1:
        return f'{{"type":"ack","ref":{ref},"seq":{seq}}}'
    return f'{{"type":"ack","ref":{ref},"seq":{seq},"n":{n}}}'


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
        self.outbox: asyncio.Queue[str | Ack | CloseRequest] = asyncio.Queue(queue_size + 1)
        #: The client reads ``batch`` frames and merged acks (its ``hello`` said so).
        self.batch = False
        #: A close taken from the queue while gathering a batch: the next thing to write.
        self._close_next: CloseRequest | None = None
        self._limit = queue_size
        self._byte_limit = queue_bytes
        #: Bytes held by the frames queued now (their in-memory size).
        self.queued_bytes = 0
        self.closing: CloseRequest | None = None
        #: The span of this socket's session (:func:`docstream.tracing.current_link`; None while
        #: tracing is off): the commits of its edits link to it.
        self.trace_link: object | None = None

    def attach(self, replica: str) -> Peer:
        self.replica = replica
        self.peer = Peer(user_id=self.user_id, name=self.name, color=self.color, replica=replica)
        return self.peer

    @property
    def live(self) -> bool:
        return self.peer is not None and self.closing is None

    def send_ack(self, ref: int, seq: int) -> None:
        """Queue the ack of message ``ref``, stored at ``seq`` (merged with its neighbours when
        the client reads merged acks)."""
        self.send(Ack(ref, seq) if self.batch else _ack_text(ref, seq, 1))

    def send(self, text: str | Ack) -> None:
        """Queue a frame; close the connection if its queue is full (a slow consumer)."""
        if self.closing is not None:
            return
        size = ACK_SIZE if isinstance(text, Ack) else sys.getsizeof(text)
        over_bytes = (
            self._byte_limit is not None
            and self.queued_bytes > 0
            and self.queued_bytes + size > self._byte_limit
        )
        if self.outbox.qsize() >= self._limit or over_bytes:
            metrics.SLOW_CONSUMER_CLOSES.inc()
            self.close(CLOSE_TOO_SLOW, "too slow to keep up; reconnect to catch up")
            return
        self.outbox.put_nowait(text)
        self.queued_bytes += size

    @property
    def has_frames(self) -> bool:
        """Something is waiting to be written (what ``next_frame`` returns without waiting)."""
        return self._close_next is not None or not self.outbox.empty()

    async def next_frame(self) -> str | CloseRequest:
        """The next frame to write, for the socket's sender task (keeps the byte count): one
        queued frame, or everything queued as one ``batch`` frame when the client reads those."""
        if self._close_next is not None:
            return self._close_next
        item = await self.outbox.get()
        if isinstance(item, CloseRequest):
            return item
        if not self.batch or self.outbox.empty():
            self.queued_bytes = max(0, self.queued_bytes - _size(item))
            return item if isinstance(item, str) else _ack_text(item.ref, item.seq, item.n)
        return self._batch(item)

    def _batch(self, first: str | Ack) -> str:
        """``first`` and what is queued behind it (up to a close, or ``BATCH_BYTES``) as one
        frame; consecutive acks (refs and seqs both following on) become one."""
        parts: list[str] = []
        ack: Ack | None = None
        taken = 0
        item: str | Ack = first
        while True:
            taken += _size(item)
            if isinstance(item, Ack):
                if ack is not None and item.ref == ack.ref + 1 and item.seq == ack.seq + 1:
                    ack = Ack(item.ref, item.seq, ack.n + 1)
                else:
                    if ack is not None:
                        parts.append(_ack_text(ack.ref, ack.seq, ack.n))
                    ack = item
            else:
                if ack is not None:
                    parts.append(_ack_text(ack.ref, ack.seq, ack.n))
                    ack = None
                parts.append(item)
            if taken >= BATCH_BYTES or self.outbox.empty():
                break
            following = self.outbox.get_nowait()
            if isinstance(following, CloseRequest):
                self._close_next = following  # written after this batch
                break
            item = following
        if ack is not None:
            parts.append(_ack_text(ack.ref, ack.seq, ack.n))
        self.queued_bytes = max(0, self.queued_bytes - taken)
        if len(parts) == 1:
            return parts[0]
        return '{"type":"batch","frames":[' + ",".join(parts) + "]}"

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
