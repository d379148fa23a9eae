"""``event: notification`` on ``GET /events`` of one real server (both backends): a share and an
@mention reach the recipient's open stream with the new unread count, marking read reaches the
user's other streams, and nobody else hears a thing."""

from __future__ import annotations

from docstream.client import DocStreamClient
from testkit.accounts import Users
from testkit.processes import ServerProcess
from tests.events.sse import EventStream

WITHIN = 2.0


def stream(server: ServerProcess, who: DocStreamClient) -> EventStream:
    return EventStream(server.url, who.access_token, event="notification")


async def test_notifications_arrive_live_and_only_for_their_user(
    server: ServerProcess, users: Users
) -> None:
    ann, bob, carol = await users.new("ann"), await users.new("bob"), await users.new("carol")
    doc = await ann.create_document("Launch plan")
    async with (
        stream(server, bob) as bob_tab1,
        stream(server, bob) as bob_tab2,
        stream(server, ann) as ann_events,
        stream(server, carol) as carol_events,
    ):
        await ann.share(doc["id"], bob.user["email"], "editor")  # type: ignore[index]
        for tab in (bob_tab1, bob_tab2):
            event = await tab.next(WITHIN)
            assert event["kind"] == "new" and event["unread"] == 1
            shared = event["notification"]
            assert shared["kind"] == "share" and shared["doc_id"] == doc["id"]
            assert shared["actor_name"] == "Ann" and shared["read"] is False

        await ann.request(
            "POST",
            f"/documents/{doc['id']}/mentions/select",
            {"word": "Bob", "position": 7},
        )
        event = await bob_tab1.next(WITHIN)
        assert event["unread"] == 2 and event["notification"]["kind"] == "mention"
        assert event["notification"]["detail"] == {"position": "7"}
        await bob_tab2.next(WITHIN)

        # Marking read in one tab updates the others.
        marked = await bob.request("POST", "/notifications/read", {"ids": [shared["id"]]})
        assert marked == {"marked": 1, "unread": 1}
        for tab in (bob_tab1, bob_tab2):
            assert await tab.next(WITHIN) == {
                "kind": "read",
                "unread": 1,
                "notification": None,
                "ids": [shared["id"]],
            }
        assert await ann_events.nothing_for(0.3)  # the actor is never told
        assert await carol_events.nothing_for(0.1)
