"""Group commit: which ``ops`` messages the Room's worker stores in one transaction.

Storing is the expensive step of an edit (a transaction, an fsync); validating and applying a
message costs microseconds. So every ``ops`` message already waiting behind the first one joins
its batch, and under streaming load the worker waits a little for more, with a window that follows
the load. A lone edit on a quiet document is committed at once. While messages stream in (the last
batch held several), the worker waits ``GROUP_WAIT_PER_MESSAGE`` for each message the last batch
held, at most ``GROUP_WAIT_MAX``, until ``GROUP_TARGET`` messages are in hand or something other
than ops waits in the inbox. Sleeping (rather than only yielding) lets the event loop block, which
is when granian's I/O threads get the GIL to hand over received frames. People typing (batches of
1-3) wait at most a millisecond or so; a flood such as a replayed trace ramps up to full batches.
Measured on a replayed trace: 3.5-4 -> 70 messages per commit, SQLite 2,300 -> 4,100 ops/s
(docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio

from docstream.collab import messages as m
from docstream.collab.room.inbox import Inbox

MAX_BATCH = 512  # never more messages than this in one transaction
GROUP_TARGET = 64  # under streaming load, gather up to this many messages per commit ...
GROUP_WAIT_PER_MESSAGE = 0.0005  # ... waiting this long (s) per message of the last batch ...
GROUP_WAIT_MAX = 0.020  # ... but never longer than this (s) ...
GROUP_TICK = 0.001  # ... looking at the inbox this often (s)


class Batcher:
    """Gathers the batches of one Room's inbox (only its worker calls :meth:`gather`)."""

    def __init__(self, inbox: Inbox[m.Item]) -> None:
        self.inbox = inbox
        #: Messages in the last batch (+1 if more were waiting): the load the window follows.
        self.last_batch = 0

    async def gather(self, first: m.OpsItem) -> list[m.OpsItem]:
        """The ops messages to store in one transaction: ``first`` and those waiting behind it."""
        batch = [first]
        self._take(batch)
        wait = min(GROUP_WAIT_MAX, self.last_batch * GROUP_WAIT_PER_MESSAGE)
        if self.last_batch > 1 and len(batch) < GROUP_TARGET and self.inbox.empty():
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            while len(batch) < GROUP_TARGET:
                left = deadline - loop.time()
                if left <= 0:
                    break
                await asyncio.sleep(min(GROUP_TICK, left))
                self._take(batch)
                if not self.inbox.empty():
                    break  # a join, leave, cursor or call waits behind this batch: do not delay it
        self.last_batch = len(batch) + (1 if self.inbox.qsize() else 0)
        return batch

    def _take(self, batch: list[m.OpsItem]) -> None:
        """Move the ops messages at the head of the inbox into ``batch`` (up to MAX_BATCH)."""
        inbox = self.inbox
        while len(batch) < MAX_BATCH:
            head = inbox.peek()
            if not isinstance(head, m.OpsItem):
                return
            inbox.get_nowait()
            batch.append(head)
