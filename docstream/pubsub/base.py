"""The ``Broker`` interface.

A broker delivers messages published on a topic to every *other* node subscribed to it, at most once
(Redis Pub/Sub semantics): the ops log's gap-free ``seq`` is what makes loss detectable and
repairable, so brokers never need to be reliable. Each broker has an ``instance_id``; messages carry
it and a node drops its own. After a reconnection the broker calls the ``on_reconnect`` it was
built with, so the node can repair whatever it missed while disconnected (the composition root
makes that emit ``BrokerReconnected`` to the node's extensions).
"""

from __future__ import annotations

import abc
import secrets
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import NamedTuple, Self

Handler = Callable[[bytes], Awaitable[None]]


class Envelope(NamedTuple):
    origin: str
    body: bytes


def wrap(origin: str, body: bytes) -> bytes:
    """``<origin>\n<body>``: a node can drop its own messages by prefix, without decoding."""
    return origin.encode() + b"\n" + body


def unwrap(data: bytes) -> Envelope:
    origin, sep, body = bytes(data).partition(b"\n")
    if not sep:
        raise ValueError("a broker message without an origin")
    return Envelope(origin.decode(), body)


Reconnected = Callable[[], Awaitable[None]]


class Broker(abc.ABC):
    def __init__(
        self, instance_id: str | None = None, *, on_reconnect: Reconnected | None = None
    ) -> None:
        self.instance_id = instance_id or secrets.token_hex(8)
        self._on_reconnect = on_reconnect

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (a no-op for the in-process broker)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop listening and release connections."""

    @abc.abstractmethod
    async def publish(self, topic: str, body: bytes) -> None:
        """Send ``body`` to the other nodes subscribed to ``topic``; BrokerError on failure."""

    @abc.abstractmethod
    async def subscribe(self, topic: str, handler: Handler) -> None:
        """Deliver other nodes' messages on ``topic`` to ``handler`` (one handler per topic)."""

    @abc.abstractmethod
    async def unsubscribe(self, topic: str) -> None: ...

    @property
    def has_peers(self) -> bool:
        """Whether other nodes may receive what this one publishes."""
        return True

    @abc.abstractmethod
    async def health(self) -> str:
        """``"ok"``, ``"disabled"`` or ``"unavailable"``."""
