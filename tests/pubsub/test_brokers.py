"""One contract for every Broker: the in-process one and Redis (a real server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from docstream.errors import BrokerError
from docstream.pubsub.base import Broker
from docstream.pubsub.memory import MemoryBroker, MemoryBus
from docstream.pubsub.redis import RedisBroker
from testkit.ports import free_port
from testkit.services import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two nodes on one bus."""
    if request.param == "memory":
        bus = MemoryBus()
        a, b = MemoryBroker(bus), MemoryBroker(bus)
    else:
        url = request.getfixturevalue("redis_url")
        a, b = RedisBroker(url), RedisBroker(url)
    async with a, b:
        yield a, b


async def collect(broker: Broker, topic: str) -> list[bytes]:
    got: list[bytes] = []

    async def handler(body: bytes) -> None:
        got.append(body)

    await broker.subscribe(topic, handler)
    return got


async def eventually(predicate, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_messages_reach_other_nodes_in_order_but_never_their_sender(
    pair: tuple[Broker, Broker],
) -> None:
    a, b = pair
    at_a, at_b = await collect(a, "doc:1"), await collect(b, "doc:1")
    await asyncio.sleep(0.1)  # let the subscription reach the server
    for i in range(50):
        await a.publish("doc:1", f"m{i}".encode())
    await eventually(lambda: len(at_b) == 50)
    assert at_b == [f"m{i}".encode() for i in range(50)]
    assert at_a == []  # a node drops its own messages
    assert a.instance_id != b.instance_id and a.has_peers


async def test_topics_are_separate_and_unsubscribe_stops_delivery(
    pair: tuple[Broker, Broker],
) -> None:
    a, b = pair
    one, two = await collect(b, "doc:one"), await collect(b, "doc:two")
    await asyncio.sleep(0.1)
    await a.publish("doc:one", b"1")
    await a.publish("doc:two", b"2")
    await eventually(lambda: one == [b"1"] and two == [b"2"])
    await b.unsubscribe("doc:one")
    await asyncio.sleep(0.1)
    await a.publish("doc:one", b"late")
    await a.publish("doc:two", b"still")
    await eventually(lambda: two == [b"2", b"still"])
    assert one == [b"1"]


async def test_a_handler_that_fails_does_not_stop_delivery(pair: tuple[Broker, Broker]) -> None:
    a, b = pair
    got: list[bytes] = []

    async def flaky(body: bytes) -> None:
        if body == b"boom":
            raise RuntimeError("handler bug")
        got.append(body)

    await b.subscribe("doc:x", flaky)
    await asyncio.sleep(0.1)
    await a.publish("doc:x", b"boom")
    await a.publish("doc:x", b"after")
    await eventually(lambda: got == [b"after"])


async def test_a_lone_memory_broker_has_no_peers() -> None:
    async with MemoryBroker() as alone:
        assert not alone.has_peers
        await alone.publish("doc:1", b"nobody listens")  # fine, goes nowhere
        assert await alone.health() == "disabled"


async def test_redis_reconnects_resubscribes_and_runs_the_repair_hooks() -> None:
    server = RedisServer(url="", port=free_port(), binary="redis-server")
    server.url = f"redis://127.0.0.1:{server.port}/0"
    server.start()
    try:
        repaired = asyncio.Event()

        async def hook() -> None:
            repaired.set()

        async with RedisBroker(server.url) as a, RedisBroker(server.url, on_reconnect=hook) as b:
            got = await collect(b, "doc:1")
            assert await b.health() == "ok"
            server.stop()
            with pytest.raises(BrokerError):
                await a.publish("doc:1", b"lost while down")  # a clear error, not a hang
            await asyncio.sleep(0.5)
            assert await b.health() == "unavailable"
            server.start()
            await asyncio.wait_for(repaired.wait(), 10)
            assert b.reconnects >= 1
            await a.publish("doc:1", b"after the restart")
            await eventually(lambda: got == [b"after the restart"], timeout=5)
    finally:
        server.stop()
