"""``GET /events`` across nodes (real PostgreSQL, real Redis): a change made on node A reaches the
list stream on node B within a second; strangers hear nothing; signing out ends the stream."""

from __future__ import annotations

import asyncio
import time

from docstream.client import DocStreamClient
from testkit.accounts import unique_email
from testkit.processes import ServerFactory
from tests.events.sse import EventStream

WITHIN = 1.0


async def timed(stream: EventStream) -> tuple[dict[str, object], float]:
    start = time.monotonic()
    event = await stream.next(WITHIN)
    return event, time.monotonic() - start


async def test_list_changes_on_node_a_reach_streams_on_node_b(start_node: ServerFactory) -> None:
    with start_node() as node_a, start_node() as node_b:
        async with (
            DocStreamClient(node_a.url) as ann,
            DocStreamClient(node_a.url) as bob,
            DocStreamClient(node_a.url) as carol,
        ):
            await ann.register(unique_email("ann"), "password123", "Ann")
            await bob.register(unique_email("bob"), "password123", "Bob")
            await carol.register(unique_email("carol"), "password123", "Carol")
            doc = await ann.create_document("Launch plan")
            doc_id = doc["id"]
            delays: dict[str, float] = {}
            async with (
                EventStream(node_b.url, bob.access_token) as bob_b,
                EventStream(node_b.url, carol.access_token) as carol_b,
                EventStream(node_b.url, ann.access_token) as ann_b,
            ):
                await ann.share(doc_id, bob.user["email"], "viewer")  # type: ignore[index]
                event, delays["shared"] = await timed(bob_b)
                assert event == {"kind": "shared", "doc_id": doc_id}

                await ann.request("PATCH", f"/documents/{doc_id}", {"title": "Launch v2"})
                event, delays["renamed"] = await timed(bob_b)
                assert event == {"kind": "renamed", "doc_id": doc_id}
                assert await ann_b.next(WITHIN) == {"kind": "renamed", "doc_id": doc_id}

                await ann.request("DELETE", f"/documents/{doc_id}/share/{bob.user['id']}")  # type: ignore[index]
                event, delays["unshared"] = await timed(bob_b)
                assert event == {"kind": "unshared", "doc_id": doc_id}

                # No longer in Bob's list: its rename is not his business.
                await ann.request("PATCH", f"/documents/{doc_id}", {"title": "Launch v3"})
                assert await ann_b.next(WITHIN) == {"kind": "renamed", "doc_id": doc_id}
                assert await bob_b.nothing_for(0.3)

                await ann.share(doc_id, bob.user["email"], "editor")  # type: ignore[index]
                assert await bob_b.next(WITHIN) == {"kind": "shared", "doc_id": doc_id}
                await ann.request("DELETE", f"/documents/{doc_id}")
                event, delays["deleted"] = await timed(bob_b)
                assert event == {"kind": "deleted", "doc_id": doc_id}

                # Carol saw nothing about a document she never could open.
                assert await carol_b.nothing_for(0.2)
                assert not carol_b.ended.is_set()

                # Bob signs out on node A: his stream on node B ends.
                token = bob.access_token
                start = time.monotonic()
                await bob.logout()
                await asyncio.wait_for(bob_b.ended.wait(), WITHIN)
                delays["signed out"] = time.monotonic() - start
                async with EventStream(node_b.url, token) as again:  # the old token is dead
                    assert again.status == 401
            print(f"list event delays across nodes: {delays}")
