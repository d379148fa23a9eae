"""Notifications are private: one user cannot read or mark another's (the routes take the user
from the session, never from the request), a stranger's @mention or share cannot reach someone
through a document they cannot open, and text from other people (titles, names, comments) is
returned as data, never interpreted (the web UI's escaping is checked in the browser tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.collab.extensions import CommentPosted
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import Account, assert_error, create_document, register
from tests.web.recovery_kit import services_of

Client = AsyncTestClient[Litestar]
XSS = '<img src=x onerror="window.pwned=1">'


@pytest.fixture
async def client(make_settings: SettingsFactory) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(make_settings())) as c:
        yield c


async def share(client: Client, owner: Account, doc_id: str, who: Account, role: str) -> None:
    r = await client.post(
        f"/documents/{doc_id}/share", json={"email": who.email, "role": role}, headers=owner.headers
    )
    assert r.status_code == 200, r.text


async def inbox(client: Client, who: Account) -> dict[str, Any]:
    r = await client.get("/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_nobody_reads_or_marks_another_persons_notifications(client: Client) -> None:
    ann, bob, mallory = [await register(client, name=n) for n in ("Ann", "Bob", "Mallory")]
    doc = await create_document(client, ann, "Plans")
    await share(client, ann, doc["id"], bob, "editor")
    [bobs] = (await inbox(client, bob))["notifications"]
    # Mallory's list is her own; Bob's id in her request marks nothing.
    assert (await inbox(client, mallory))["notifications"] == []
    r = await client.post(
        "/notifications/read", json={"ids": [bobs["id"]]}, headers=mallory.headers
    )
    assert r.status_code == 200 and r.json() == {"marked": 0, "unread": 0}
    r = await client.post("/notifications/read", json={"all": True}, headers=mallory.headers)
    assert r.json()["marked"] == 0
    assert (await inbox(client, bob))["unread"] == 1
    # Without signing in: nothing.
    assert_error(await client.get("/notifications"), 401)
    assert_error(await client.post("/notifications/read", json={"all": True}), 401)
    # Bob's own mark works.
    r = await client.post("/notifications/read", json={"ids": [bobs["id"]]}, headers=bob.headers)
    assert r.json() == {"marked": 1, "unread": 0}


async def test_a_stranger_cannot_reach_anyone_through_a_document(client: Client) -> None:
    ann, bob, mallory = [await register(client, name=n) for n in ("Ann", "Bob", "Mallory")]
    doc = await create_document(client, ann, "Plans")
    await share(client, ann, doc["id"], bob, "editor")
    await client.post("/notifications/read", json={"all": True}, headers=bob.headers)
    # Mallory cannot pick a mention on a document she cannot open...
    url = f"/documents/{doc['id']}/mentions/select"
    assert_error(await client.post(url, json={"word": "Bob"}, headers=mallory.headers), 404)
    # ...and a comment naming people who cannot open the document tells them nothing (the
    # comments feature checks the author; the store checks every recipient).
    own = await create_document(client, mallory, "Mallory's")
    await services_of(client).documents.extensions.emit(
        CommentPosted(
            doc_id=own["id"],
            comment_id="c1",
            thread_id="c1",
            author_id=mallory.id,
            body="look",
            participants=(ann.id,),
            mentioned=(bob.id,),
        )
    )
    assert (await inbox(client, bob))["unread"] == 0
    assert (await inbox(client, ann))["notifications"] == []


async def test_markup_in_titles_names_and_comments_comes_back_as_text(client: Client) -> None:
    ann = await register(client, name=XSS)
    bob = await register(client, name="Bob")
    doc = await create_document(client, ann, XSS)
    await share(client, ann, doc["id"], bob, "editor")
    await services_of(client).documents.extensions.emit(
        CommentPosted(doc["id"], "c1", "c1", ann.id, XSS + "\x00", mentioned=(bob.id,))
    )
    r = await client.get("/notifications", headers=bob.headers)
    assert r.headers["content-type"].startswith("application/json")
    got = r.json()["notifications"]
    assert {n["doc_title"] for n in got} == {XSS} and {n["actor_name"] for n in got} == {XSS}
    comment = next(n for n in got if n["kind"] == "comment_mention")
    assert comment["detail"]["excerpt"] == XSS + "\ufffd"  # a NUL is never stored
