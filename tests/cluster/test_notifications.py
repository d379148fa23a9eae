"""Notifications across nodes (real PostgreSQL, real Redis): a share made on node A reaches the
recipient's ``GET /events`` stream on node B as ``event: notification``, and so does marking read
on node B reaching a stream on node A; a stranger's stream hears nothing."""

from __future__ import annotations

import time

from docstream.client import DocStreamClient
from testkit.accounts import unique_email
from testkit.processes import ServerFactory
from tests.events.sse import EventStream

WITHIN = 2.0


async def test_a_notification_made_on_node_a_reaches_a_stream_on_node_b(
    start_node: ServerFactory,
) -> None:
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
            async with (
                EventStream(node_b.url, bob.access_token, event="notification") as bob_b,
                EventStream(node_a.url, bob.access_token, event="notification") as bob_a,
                EventStream(node_b.url, carol.access_token, event="notification") as carol_b,
            ):
                start = time.monotonic()
                await ann.share(doc["id"], bob.user["email"], "viewer")  # type: ignore[index]
                event = await bob_b.next(WITHIN)
                delay = time.monotonic() - start
                assert event["kind"] == "new" and event["unread"] == 1
                assert event["notification"]["kind"] == "share"
                assert event["notification"]["doc_id"] == doc["id"]
                assert (await bob_a.next(WITHIN))["notification"] == event["notification"]

                # Marked read through node B: Bob's stream on node A hears it.
                async with DocStreamClient(node_b.url) as bob_on_b:
                    await bob_on_b.login(bob.user["email"], "password123")  # type: ignore[index]
                    await bob_on_b.request("POST", "/notifications/read", {"all": True})
                read = await bob_a.next(WITHIN)
                assert read["kind"] == "read" and read["unread"] == 0 and read["ids"] is None
                assert await carol_b.nothing_for(0.3)
            print(f"notification delay across nodes: {delay:.3f}s")
