"""Notifications through the REST API of an in-process app (a real node's extensions): shares,
text @mentions, comment mentions and replies (``CommentPosted`` emitted through the node's real
Extensions registry, as the comments feature does), never the actor, only members, hidden once
access goes; marking read; nobody reads or marks another person's; bad input refused."""

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


@pytest.fixture
async def client(make_settings: SettingsFactory) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(make_settings())) as c:
        yield c


async def share(client: Client, owner: Account, doc_id: str, who: Account, role: str) -> None:
    r = await client.post(
        f"/documents/{doc_id}/share", json={"email": who.email, "role": role}, headers=owner.headers
    )
    assert r.status_code == 200, r.text


async def inbox(client: Client, who: Account, **params: Any) -> dict[str, Any]:
    r = await client.get("/notifications", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def people(client: Client, *names: str) -> list[Account]:
    return [await register(client, name=name) for name in names]


async def test_a_share_notifies_the_grantee_not_the_actor(client: Client) -> None:
    ann, bob = await people(client, "Ann", "Bob")
    doc = await create_document(client, ann, "Plans")
    await share(client, ann, doc["id"], bob, "editor")
    got = await inbox(client, bob)
    assert got["unread"] == 1 and got["next_before"] is None
    [n] = got["notifications"]
    assert n["kind"] == "share" and n["doc_id"] == doc["id"] and n["doc_title"] == "Plans"
    assert n["actor_id"] == ann.id and n["actor_name"] == "Ann" and n["read"] is False
    assert n["detail"] == {"role": "editor"}
    assert (await inbox(client, ann))["notifications"] == []
    # A changed role is not news.
    await share(client, ann, doc["id"], bob, "viewer")
    assert (await inbox(client, bob))["unread"] == 1


async def test_text_mentions_follow_an_editors_pick(client: Client) -> None:
    ann, bob, vic = await people(client, "Ann", "Bob", "Vic")
    doc = await create_document(client, ann, "Plans")
    await share(client, ann, doc["id"], bob, "editor")
    await share(client, ann, doc["id"], vic, "viewer")
    await client.post("/notifications/read", json={"all": True}, headers=bob.headers)
    await client.post("/notifications/read", json={"all": True}, headers=vic.headers)
    url = f"/documents/{doc['id']}/mentions/select"
    r = await client.post(url, json={"word": "@bob", "position": 42}, headers=ann.headers)
    assert r.status_code == 200, r.text
    got = await inbox(client, bob)
    assert got["unread"] == 1
    mention = got["notifications"][0]
    assert mention["kind"] == "mention" and mention["detail"] == {"position": "42"}
    assert mention["actor_name"] == "Ann"
    # Picking Bob again while he has not read it adds nothing.
    await client.post(url, json={"word": "Bob", "position": 50}, headers=ann.headers)
    assert (await inbox(client, bob))["unread"] == 1
    # Once read, a new pick is news again.
    await client.post("/notifications/read", json={"ids": [mention["id"]]}, headers=bob.headers)
    await client.post(url, json={"word": "Bob"}, headers=ann.headers)
    again = await inbox(client, bob)
    assert again["unread"] == 1 and again["notifications"][0]["detail"] == {}
    # Mentioning yourself tells nobody; a viewer's pick never reaches the text: nobody is told.
    await client.post(url, json={"word": "Ann"}, headers=ann.headers)
    assert (await inbox(client, ann))["unread"] == 0
    r = await client.post(url, json={"word": "Ann"}, headers=vic.headers)
    assert r.status_code == 200
    assert (await inbox(client, ann))["unread"] == 0
    # An editor mentioning the owner tells the owner.
    await client.post(url, json={"word": "ann"}, headers=bob.headers)
    [to_ann] = (await inbox(client, ann))["notifications"]
    assert (to_ann["kind"], to_ann["actor_id"]) == ("mention", bob.id)


async def test_two_collaborators_with_one_name_are_not_guessed(client: Client) -> None:
    ann, sam1, sam2 = await people(client, "Ann", "Sam", "Sam")
    doc = await create_document(client, ann, "Plans")
    await share(client, ann, doc["id"], sam1, "editor")
    await share(client, ann, doc["id"], sam2, "editor")
    url = f"/documents/{doc['id']}/mentions/select"
    assert (await client.post(url, json={"word": "Sam"}, headers=ann.headers)).status_code == 200
    for sam in (sam1, sam2):
        kinds = [n["kind"] for n in (await inbox(client, sam))["notifications"]]
        assert kinds == ["share"]


async def test_comment_mentions_and_replies_from_comment_posted(client: Client) -> None:
    ann, bob, carol, eve = await people(client, "Ann", "Bob", "Carol", "Eve")
    doc = await create_document(client, ann, "Plans")
    for who in (bob, carol):
        await share(client, ann, doc["id"], who, "editor")
        await client.post("/notifications/read", json={"all": True}, headers=who.headers)
    extensions = services_of(client).documents.extensions
    # Bob replies in Ann's and Carol's thread and mentions Carol, himself and Eve (no access).
    await extensions.emit(
        CommentPosted(
            doc_id=doc["id"],
            comment_id="c3",
            thread_id="c1",
            author_id=bob.id,
            body="Agreed,\n@Carol   please check " + "x" * 300,
            participants=(ann.id, carol.id),
            mentioned=(carol.id, bob.id, eve.id),
        )
    )
    [to_ann] = (await inbox(client, ann))["notifications"]
    assert to_ann["kind"] == "reply" and to_ann["actor_id"] == bob.id
    assert to_ann["detail"]["thread_id"] == "c1" and to_ann["detail"]["comment_id"] == "c3"
    excerpt = to_ann["detail"]["excerpt"]
    assert excerpt.startswith("Agreed, @Carol please check") and len(excerpt) == 200
    carols = [n for n in (await inbox(client, carol))["notifications"] if not n["read"]]
    assert [n["kind"] for n in carols] == ["comment_mention"]  # the mention, not also a reply
    assert (await inbox(client, bob))["unread"] == 0
    assert (await inbox(client, eve))["notifications"] == []


async def test_revoked_access_hides_that_documents_notifications(client: Client) -> None:
    ann, bob = await people(client, "Ann", "Bob")
    doc = await create_document(client, ann, "Secret plans")
    other = await create_document(client, ann, "Other")
    await share(client, ann, doc["id"], bob, "editor")
    await share(client, ann, other["id"], bob, "viewer")
    assert (await inbox(client, bob))["unread"] == 2
    r = await client.delete(f"/documents/{doc['id']}/share/{bob.id}", headers=ann.headers)
    assert r.status_code == 204
    got = await inbox(client, bob)
    assert got["unread"] == 1
    assert [n["doc_id"] for n in got["notifications"]] == [other["id"]]
    assert "Secret plans" not in str(got)


async def test_newest_first_pages(client: Client) -> None:
    ann, bob = await people(client, "Ann", "Bob")
    ids = []
    for i in range(5):
        doc = await create_document(client, ann, f"Doc {i}")
        await share(client, ann, doc["id"], bob, "viewer")
    first = await inbox(client, bob, limit=2)
    assert [n["doc_title"] for n in first["notifications"]] == ["Doc 4", "Doc 3"]
    assert first["unread"] == 5 and first["next_before"] == first["notifications"][-1]["id"]
    ids += [n["id"] for n in first["notifications"]]
    second = await inbox(client, bob, limit=3, before=first["next_before"])
    assert [n["doc_title"] for n in second["notifications"]] == ["Doc 2", "Doc 1", "Doc 0"]
    assert second["next_before"] == second["notifications"][-1]["id"]
    third = await inbox(client, bob, limit=3, before=second["next_before"])
    assert third["notifications"] == [] and third["next_before"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"ids": [1], "all": True}, 400),
        ({"ids": [0]}, 400),
        ({"ids": [-5]}, 400),
        ({"ids": [2**63]}, 400),
        ({"ids": list(range(1, 502))}, 400),
        ({"all": "yes"}, 400),
        ({"all": True, "user_id": "someone"}, 400),
    ],
)
async def test_bad_read_bodies_are_refused(
    client: Client, body: dict[str, Any], status: int
) -> None:
    [ann] = await people(client, "Ann")
    r = await client.post("/notifications/read", json=body, headers=ann.headers)
    assert_error(r, status)


async def test_bad_list_parameters_and_settings_are_refused(client: Client) -> None:
    [ann] = await people(client, "Ann")
    for params in ({"limit": 0}, {"limit": 101}, {"before": 0}, {"before": "x"}, {"before": 2**64}):
        assert_error(await client.get("/notifications", params=params, headers=ann.headers), 400)
    for body in ({"digest": "hourly"}, {}, {"digest": None}, {"digest": "daily", "x": 1}):
        r = await client.put("/notifications/settings", json=body, headers=ann.headers)
        assert_error(r, 400)


async def test_the_digest_setting_is_off_by_default_and_per_user(client: Client) -> None:
    ann, bob = await people(client, "Ann", "Bob")
    r = await client.get("/notifications/settings", headers=ann.headers)
    assert r.json() == {"digest": "off", "email": False}  # no SMTP configured here
    r = await client.put("/notifications/settings", json={"digest": "daily"}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["digest"] == "daily"
    assert (await client.get("/notifications/settings", headers=ann.headers)).json()["digest"] == (
        "daily"
    )
    assert (await client.get("/notifications/settings", headers=bob.headers)).json()["digest"] == (
        "off"
    )
