"""E-mail digests through a real SMTP server (aiosmtpd): off by default; once chosen, the
periodic job sends one mail per user with the unread notifications not mailed yet (not the read
ones, not those of documents the user can no longer open), and nothing again until the next
period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.storage.base import utcnow
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from testkit.ports import free_port
from tests.web.api import create_document, register
from tests.web.recovery_kit import Inbox, services_of, smtp_inbox, smtp_settings

Client = AsyncTestClient[Litestar]


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    yield from smtp_inbox()


def body_of(inbox: Inbox, index: int) -> str:
    body = inbox.messages[index][1].get_body()
    assert body is not None
    text: str = body.get_content()
    return text


async def test_one_digest_per_user_with_the_unread_unmailed_notifications(
    make_settings: SettingsFactory, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    settings = make_settings(**smtp_settings(port), notification_digest_interval=0.2)
    async with AsyncTestClient(create_app(settings)) as client:
        ann = await register(client, name="Ann")
        bob = await register(client, name="Bob")
        carol = await register(client, name="Carol")  # digest off (the default): no mail
        r = await client.get("/notifications/settings", headers=bob.headers)
        assert r.json() == {"digest": "off", "email": True}
        docs = {}
        for title in ("Read one", "Fresh plans", "Taken back"):
            doc = await create_document(client, ann, title)
            docs[title] = doc["id"]
            for who in (bob, carol):
                r = await client.post(
                    f"/documents/{doc['id']}/share",
                    json={"email": who.email, "role": "viewer"},
                    headers=ann.headers,
                )
                assert r.status_code == 200
        listed = (await client.get("/notifications", headers=bob.headers)).json()
        read_id = next(n["id"] for n in listed["notifications"] if n["doc_title"] == "Read one")
        await client.post("/notifications/read", json={"ids": [read_id]}, headers=bob.headers)
        r = await client.delete(
            f"/documents/{docs['Taken back']}/share/{bob.id}", headers=ann.headers
        )
        assert r.status_code == 204
        # Chosen now (the job runs every 0.2 s): the first digest is due at once.
        r = await client.put(
            "/notifications/settings", json={"digest": "daily"}, headers=bob.headers
        )
        assert r.status_code == 200

        await inbox.wait_for(1)
        envelope, message = inbox.messages[0]
        assert envelope.rcpt_tos == [bob.email]
        assert message["Subject"] == "DocStream: 1 unread notification"
        text = body_of(inbox, 0)
        assert "Ann shared “Fresh plans” with you" in text
        assert f"https://docs.example.com/d/{docs['Fresh plans']}" in text
        assert "Read one" not in text and "Taken back" not in text

        # Nothing more within the day, even with a new notification...
        doc = await create_document(client, ann, "Later")
        await client.post(
            f"/documents/{doc['id']}/share",
            json={"email": bob.email, "role": "editor"},
            headers=ann.headers,
        )
        digests = services_of(client).digests
        assert await digests.run_once() == 0
        # ...which goes out, alone, a day later.
        assert await digests.run_once(utcnow() + timedelta(days=1, minutes=1)) == 1
        await inbox.wait_for(2)
        assert inbox.messages[1][0].rcpt_tos == [bob.email]
        later = body_of(inbox, 1)
        assert "Ann shared “Later” with you" in later and "Fresh plans" not in later
        assert all(env.rcpt_tos != [carol.email] for env, _ in inbox.messages)
        assert len(inbox.messages) == 2
        assert digests.failures == 0


async def test_without_smtp_nothing_is_sent_or_marked(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings())) as client:
        ann = await register(client, name="Ann")
        bob = await register(client, name="Bob")
        await client.put("/notifications/settings", json={"digest": "daily"}, headers=bob.headers)
        doc = await create_document(client, ann, "Plans")
        await client.post(
            f"/documents/{doc['id']}/share",
            json={"email": bob.email, "role": "viewer"},
            headers=ann.headers,
        )
        services = services_of(client)
        assert not services.digests.enabled
        assert await services.digests.run_once() == 0
        pending = await services.store.list_notifications(bob.id, unread_unmailed=True)
        assert len(pending) == 1 and pending[0].mailed_at is None


async def test_a_failed_delivery_is_counted_and_nothing_is_marked_mailed(
    make_settings: SettingsFactory,
) -> None:
    """The SMTP server is down (nothing listens on its port): the digest fails, is counted, and
    its notifications stay unmailed for the next one."""
    settings = make_settings(**smtp_settings(free_port()), notification_digest_interval=3600)
    async with AsyncTestClient(create_app(settings)) as client:
        ann = await register(client, name="Ann")
        bob = await register(client, name="Bob")
        doc = await create_document(client, ann, "Plans")
        await client.post(
            f"/documents/{doc['id']}/share",
            json={"email": bob.email, "role": "viewer"},
            headers=ann.headers,
        )
        await client.put("/notifications/settings", json={"digest": "weekly"}, headers=bob.headers)
        services = services_of(client)
        assert await services.digests.run_once() == 0
        assert services.digests.failures == 1
        pending = await services.store.list_notifications(bob.id, unread_unmailed=True)
        assert len(pending) == 1
