"""The Room's inbox: a bounded FIFO whose head can be looked at without taking it.

Group commit (:mod:`.batching`) must know whether the next waiting item is another ``ops``
message before it takes it: an item of another kind (a join, a cursor, a call) stays where it is,
to be handled next, in order. ``asyncio.Queue`` offers no public way to look at its head, so the
Room keeps its own small queue with the surface its producers use: ``put`` waits while the inbox
is full, ``put_nowait`` raises ``asyncio.QueueFull``. As in ``asyncio.Queue``, each waiting
producer (one per socket at most) has its own future and a freed slot wakes exactly one of them,
oldest first: a saturated Room with many sockets waiting does not wake them all for every item.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


def _wake_first(waiters: deque[asyncio.Future[None]]) -> None:
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return


class Inbox(Generic[T]):
    """A bounded first-in first-out queue (one consumer: the Room's worker)."""

    def __init__(self, maxsize: int) -> None:
        if maxsize <= 0:
            raise ValueError("an inbox needs room for at least one item")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return len(self._items) >= self.maxsize

    def peek(self) -> T | None:
        """The item ``get`` would return next, left in place (None: the inbox is empty)."""
        return self._items[0] if self._items else None

    def put_nowait(self, item: T) -> None:
        """Append ``item``; raise ``asyncio.QueueFull`` if the inbox is full."""
        if len(self._items) >= self.maxsize:
            raise asyncio.QueueFull
        self._items.append(item)
        _wake_first(self._getters)

    async def put(self, item: T) -> None:
        """Append ``item``, waiting (in turn with other producers) while the inbox is full."""
        while len(self._items) >= self.maxsize:
            putter = asyncio.get_running_loop().create_future()
            self._putters.append(putter)
            try:
                await putter
            except BaseException:
                putter.cancel()
                with contextlib.suppress(ValueError):
                    self._putters.remove(putter)
                if not self.full() and not putter.cancelled():
                    _wake_first(self._putters)  # the slot this one was woken for: pass it on
                raise
        self.put_nowait(item)

    def get_nowait(self) -> T:
        """Take the oldest item; raise ``asyncio.QueueEmpty`` if there is none."""
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        _wake_first(self._putters)
        return item

    async def get(self) -> T:
        """Take the oldest item, waiting for one if the inbox is empty."""
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
                if self._items and not getter.cancelled():
                    _wake_first(self._getters)
                raise
        return self.get_nowait()
