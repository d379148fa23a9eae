"""``GET /events`` on one real server (both backends): who may listen, the bounds, keep-alives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from docstream.services.list_events import ListChange, Stream
from testkit.accounts import Users
from testkit.processes import ServerFactory, ServerProcess
from tests.events.sse import EventStream

CAP = 3


@pytest.fixture(scope="module")
def server(start_server: ServerFactory) -> Iterator[ServerProcess]:
    env = {
        "DOCSTREAM_EVENTS_KEEPALIVE": "0.3",
        "DOCSTREAM_EVENTS_MAX_STREAMS_PER_USER": str(CAP),
    }
    with start_server(env=env) as proc:
        yield proc


async def test_signing_in_is_required(server: ServerProcess) -> None:
    async with EventStream(server.url, None) as anonymous:
        assert anonymous.status == 401
    async with EventStream(server.url, "not-a-token") as forged:
        assert forged.status == 401


async def test_the_cookie_signs_a_stream_in_too(server: ServerProcess, users: Users) -> None:
    ann = await users.new("ann")
    cookies = {"docstream_access": ann.access_token or ""}
    async with (
        httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=5) as client,
        client.stream("GET", "/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"


async def test_a_document_created_elsewhere_enters_the_owners_other_streams(
    server: ServerProcess, users: Users
) -> None:
    ann, bob = await users.new("ann"), await users.new("bob")
    async with (
        EventStream(server.url, ann.access_token) as ann_events,
        EventStream(server.url, bob.access_token) as bob_events,
    ):
        doc = await ann.create_document("Fresh")
        assert await ann_events.next() == {"kind": "shared", "doc_id": doc["id"]}
        assert await bob_events.nothing_for(0.4)
        assert "keep-alive" in bob_events.comments  # idle streams hear a comment


async def test_streams_per_user_are_capped(server: ServerProcess, users: Users) -> None:
    ann, bob = await users.new("ann"), await users.new("bob")
    streams = [EventStream(server.url, ann.access_token) for _ in range(CAP + 1)]
    for stream in streams[:CAP]:
        await stream.__aenter__()
    try:
        async with streams[CAP] as refused:
            assert refused.status == 429
        async with EventStream(server.url, bob.access_token) as others:
            assert others.status == 200  # the cap is per user
        await streams[0].__aexit__(None, None, None)
        for _ in range(100):  # the server notices the closed connection
            async with EventStream(server.url, ann.access_token) as again:
                if again.status == 200:
                    break
            await asyncio.sleep(0.05)
        assert again.status == 200
    finally:
        for stream in streams[1:CAP]:
            await stream.__aexit__(None, None, None)


async def test_a_reader_that_falls_behind_is_dropped() -> None:
    stream = Stream("user", set(), queue_size=2)
    stream.push(ListChange("shared", "a"))
    stream.push(ListChange("shared", "b"))
    assert not stream.closed
    stream.push(ListChange("shared", "c"))  # one too many: dropped, queue discarded
    assert stream.closed
    assert await stream.next(0.1) is None
    stream.push(ListChange("shared", "d"))  # ignored once closed
    assert await stream.next(0.1) is None


async def test_a_stream_ends_when_its_access_token_expires(start_server: ServerFactory) -> None:
    with start_server(env={"DOCSTREAM_ACCESS_TOKEN_TTL": "2"}) as short:
        users = Users(short.url)
        try:
            ann = await users.new("ann")
            async with EventStream(short.url, ann.access_token) as events:
                assert events.status == 200
                await asyncio.wait_for(events.ended.wait(), 5)  # the client refreshes, reconnects
        finally:
            await users.close()
