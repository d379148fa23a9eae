"""Redis Pub/Sub broker (redis-py asyncio).

One connection publishes; one subscribed connection listens. Redis Pub/Sub is at-most-once, and a
dropped connection loses whatever was published meanwhile, so this broker:

- reconnects by itself with backoff and re-subscribes every topic;
- calls its ``on_reconnect`` after every reconnection, so the node catches up from the ops log;
- watches the subscribed connection with PINGs and treats silence (a half-open connection, a
  network partition) as a disconnection.

Redis client retries are disabled so that every disconnection is seen here, not hidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from docstream.errors import BrokerError
from docstream.pubsub.base import Broker, Handler, Reconnected, unwrap, wrap

log = logging.getLogger(__name__)


class RedisBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "docstream:",
        instance_id: str | None = None,
        ping_interval: float = 1.0,
        dead_after: float = 3.0,
        on_reconnect: Reconnected | None = None,
    ) -> None:
        super().__init__(instance_id, on_reconnect=on_reconnect)
        self.url = url
        self.prefix = prefix
        self.ping_interval = ping_interval
        self.dead_after = dead_after
        self._handlers: dict[str, Handler] = {}
        self._client = self._make_client()
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self.reconnects = 0
        self._own_prefix = self.instance_id.encode() + b"\n"

    def _make_client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=0,
        )

    @property
    def client(self) -> aioredis.Redis:
        """The publishing connection pool (also used for the shared rate-limit counter)."""
        return self._client

    def channel(self, topic: str) -> str:
        return self.prefix + topic

    async def open(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="redis-broker")
        # Do not fail start-up when Redis is down: the node serves its own clients and repairs
        # from the log once Redis is back. Wait briefly so the common case starts subscribed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 2.0)
        if not self._connected.is_set():
            log.warning("Redis at %s is not reachable yet; retrying in the background", self.url)

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._client.aclose()

    async def publish(self, topic: str, body: bytes) -> None:
        try:
            await self._client.publish(self.channel(topic), wrap(self.instance_id, body))
        except (RedisError, OSError) as exc:
            raise BrokerError(f"cannot publish to Redis: {type(exc).__name__}") from exc

    async def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic] = handler
        if self._pubsub is not None and self._connected.is_set():
            try:
                await self._pubsub.subscribe(self.channel(topic))
            except (RedisError, OSError):
                log.warning("subscribe to %s failed; the listener will reconnect", topic)

    async def unsubscribe(self, topic: str) -> None:
        if self._handlers.pop(topic, None) is None:
            return
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(self.channel(topic))

    async def health(self) -> str:
        if not self._connected.is_set():
            return "unavailable"  # the listener is reconnecting: no need to wait for a ping
        try:
            await asyncio.wait_for(self._client.ping(), 1.0)
        except (RedisError, OSError, TimeoutError):
            return "unavailable"
        return "ok" if self._connected.is_set() else "reconnecting"

    # --- the listener ----------------------------------------------------------------------------

    async def _listen(self) -> None:
        backoff = 0.1
        first = True
        while not self._closing:
            pubsub = self._client.pubsub()
            try:
                channels = [self.channel(t) for t in self._handlers]
                await pubsub.subscribe(*(channels or [self.channel("_hello")]))
                self._pubsub = pubsub
                self._connected.set()
                backoff = 0.1
                if not first:
                    self.reconnects += 1
                    log.info("reconnected to Redis; repairing from the ops log")
                    await self._run_reconnect_hooks()
                first = False
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, TimeoutError) as exc:
                if self._connected.is_set():
                    log.warning("lost the Redis connection (%s); reconnecting", type(exc).__name__)
            except Exception:
                log.exception("Redis listener failed; reconnecting")
            finally:
                self._connected.clear()
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 1.0)  # type: ignore[no-untyped-call, unused-ignore]
            first = False
            await asyncio.sleep(backoff)
            backoff = min(2.0, backoff * 2)

    async def _read(self, pubsub: Any) -> None:
        last_seen = time.monotonic()
        last_ping = 0.0
        while True:
            now = time.monotonic()
            if now - last_ping >= self.ping_interval:
                await pubsub.ping()
                last_ping = now
            message = await pubsub.get_message(timeout=min(0.5, self.ping_interval))
            now = time.monotonic()
            if message is None:
                if now - last_seen > self.dead_after:
                    raise TimeoutError("Redis stopped answering pings")
                continue
            last_seen = now
            if message.get("type") != "message":
                continue
            channel = message["channel"]
            topic = (channel.decode() if isinstance(channel, bytes) else channel)[
                len(self.prefix) :
            ]
            handler = self._handlers.get(topic)
            if handler is None:
                continue
            data = message["data"]
            if data.startswith(self._own_prefix):  # our own message, echoed by Redis
                continue
            envelope = unwrap(data)
            try:
                await handler(envelope.body)
            except Exception:
                log.exception("handler for %s failed", topic)

    async def _run_reconnect_hooks(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            await self._on_reconnect()
        except Exception:
            log.exception("reconnect hook failed")
