"""The in-process broker: the single-process default, and several "nodes" in one test process.

Brokers created on the same ``MemoryBus`` see each other's messages, like nodes on one Redis. A
broker never receives its own messages. Delivery to a subscriber is in publish order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from docstream.pubsub.base import Broker, Handler, Reconnected, unwrap, wrap

log = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self) -> None:
        self.brokers: list[MemoryBroker] = []


class MemoryBroker(Broker):
    def __init__(
        self,
        bus: MemoryBus | None = None,
        instance_id: str | None = None,
        *,
        on_reconnect: Reconnected | None = None,
    ) -> None:
        super().__init__(instance_id, on_reconnect=on_reconnect)  # never reconnects
        self.bus = bus or MemoryBus()
        self._handlers: dict[str, Handler] = {}
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.bus.brokers.append(self)
        self._task = asyncio.get_running_loop().create_task(self._deliver())

    async def close(self) -> None:
        if self in self.bus.brokers:
            self.bus.brokers.remove(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _deliver(self) -> None:
        while True:
            topic, data = await self._queue.get()
            handler = self._handlers.get(topic)
            if handler is None:
                continue
            envelope = unwrap(data)
            if envelope.origin == self.instance_id:
                continue
            try:
                await handler(envelope.body)
            except Exception:
                log.exception("handler for %s failed", topic)

    async def publish(self, topic: str, body: bytes) -> None:
        data = wrap(self.instance_id, body)
        for broker in self.bus.brokers:
            if broker is not self and topic in broker._handlers:
                broker._queue.put_nowait((topic, data))

    async def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic] = handler

    async def unsubscribe(self, topic: str) -> None:
        self._handlers.pop(topic, None)

    @property
    def has_peers(self) -> bool:
        return len(self.bus.brokers) > 1

    async def health(self) -> str:
        return "disabled"
