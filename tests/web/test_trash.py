"""The trash, transfer of ownership, leaving and duplicating, over REST (SQLite and PostgreSQL).

Every defence is attacked: collaborators, strangers, guests and other owners try to list,
restore and purge someone's trash, to transfer a document they do not own, or to someone who
cannot own it; the owner tries to leave. Every action is audited (``ActionTaken``), which a
recording extension registered on the app checks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken, Extension
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import Account, assert_error, create_document, register

Client = AsyncTestClient[Litestar]
T = TypeVar("T")


class Recorder(Extension):
    """Keeps every audit event (a real extension, registered like the audit log's)."""

    name = "recorder"

    def __init__(self) -> None:
        self.actions: list[ActionTaken] = []

    async def action_taken(self, event: ActionTaken) -> None:
        self.actions.append(event)

    def named(self, action: str) -> list[ActionTaken]:
        return [a for a in self.actions if a.action == action]


def services_of(client: Client) -> Services:
    services: Services = client.app.state.services
    return services


async def on_app(client: Client, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` on the app's own event loop."""
    return await asyncio.to_thread(client.blocking_portal.call, fn, *args)


@pytest.fixture
async def audit(client: Client) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    extensions = services_of(client).documents.extensions
    extensions.add(recorder)
    yield recorder
    extensions.remove(recorder)


async def share(client: Client, owner: Account, doc_id: str, who: Account, role: str) -> None:
    response = await client.post(
        f"/documents/{doc_id}/share",
        json={"email": who.email, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text


async def put_text(client: Client, who: Account, doc_id: str, text: str) -> None:
    """Write text through the server-side editing path (as a version restore does)."""
    from docstream.collab.direct import Author, DocumentView

    services = services_of(client)
    replica = "test_" + uuid.uuid4().hex[:12]

    async def run() -> int:
        await services.store.bind_replica(replica, who.id)

        async def write(view: DocumentView) -> list[Any]:
            async with view.copy(replica) as scratch:
                return scratch.insert(0, text)

        return await services.hub.direct(doc_id).edit(Author(who.id, who.name, replica), write)

    await asyncio.to_thread(client.blocking_portal.call, run)


async def services_of_flush(client: Client) -> None:
    """Wait until the title index has applied every change queued so far."""
    await on_app(client, services_of(client).titles.flush)


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [d["title"] for d in response.json()]


async def test_trash_then_restore_brings_the_document_back_as_it_was(
    client: Client, audit: Recorder
) -> None:
    ann, bob = await register(client), await register(client)
    doc = await create_document(client, ann, "Plan")
    doc_id = doc["id"]
    await share(client, ann, doc_id, bob, "editor")
    await put_text(client, ann, doc_id, "hello world")
    public = await client.post(
        f"/documents/{doc_id}/share/public",
        json={"enabled": True, "role": "viewer"},
        headers=ann.headers,
    )
    link = public.json()["link_token"]
    version = await client.post(
        f"/documents/{doc_id}/versions", json={"label": "v1"}, headers=ann.headers
    )
    assert version.status_code == 201

    assert (await client.delete(f"/documents/{doc_id}", headers=ann.headers)).status_code == 204
    # Gone for everyone, exactly as a deleted document: lists, opening, the collaborator, the
    # public link, history.
    assert titles(await client.get("/documents", headers=ann.headers)) == []
    assert titles(await client.get("/documents", headers=bob.headers)) == []
    assert_error(await client.get(f"/documents/{doc_id}", headers=ann.headers), 404)
    assert_error(await client.get(f"/documents/{doc_id}", headers=bob.headers), 404)
    assert_error(await client.get(f"/documents/{doc_id}/history", headers=bob.headers), 404)
    assert_error(await client.get(f"/documents/{doc_id}", headers={"X-DocStream-Link": link}), 401)
    assert_error(await client.delete(f"/documents/{doc_id}", headers=ann.headers), 404)
    suggest = await client.get("/suggest/titles", params={"q": "Pla"}, headers=ann.headers)
    assert suggest.status_code == 200 and suggest.json() == []

    trash = await client.get("/trash", headers=ann.headers)
    assert trash.status_code == 200
    [item] = trash.json()
    assert item["id"] == doc_id and item["title"] == "Plan"
    deleted_at = datetime.fromisoformat(item["deleted_at"])
    purge_at = datetime.fromisoformat(item["purge_at"])
    assert purge_at - deleted_at == timedelta(days=30)

    restored = await client.post(f"/trash/{doc_id}/restore", headers=ann.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["role"] == "owner" and restored.json()["public_sharing_enabled"]
    assert (await client.get("/trash", headers=ann.headers)).json() == []
    opened = await client.get(f"/documents/{doc_id}", headers=bob.headers)
    assert opened.status_code == 200 and opened.json()["text"] == "hello world"
    assert opened.json()["role"] == "editor"
    versions = (await client.get(f"/documents/{doc_id}/versions", headers=ann.headers)).json()
    assert [v.get("label") for v in versions if v["kind"] == "named"] == ["v1"]
    history = (await client.get(f"/documents/{doc_id}/history", headers=ann.headers)).json()
    assert history, "the history survived the trash"
    back = await client.get(f"/documents/{doc_id}", headers={"X-DocStream-Link": link})
    assert back.status_code == 200  # the same link works again
    await services_of_flush(client)
    suggest = await client.get("/suggest/titles", params={"q": "Pla"}, headers=ann.headers)
    assert [t["doc_id"] for t in suggest.json()] == [doc_id]  # the title index has it back
    assert_error(await client.post(f"/trash/{doc_id}/restore", headers=ann.headers), 404)

    assert [(a.actor_id, a.doc_id) for a in audit.named("document.trashed")] == [(ann.id, doc_id)]
    assert [(a.actor_id, a.doc_id) for a in audit.named("document.restored")] == [(ann.id, doc_id)]
    assert all(a.ip for a in audit.actions)


async def test_only_the_owner_sees_restores_or_purges_their_trash(
    client: Client, audit: Recorder
) -> None:
    ann, bob, eve = await register(client), await register(client), await register(client)
    doc = await create_document(client, ann, "Secret plan")
    doc_id = doc["id"]
    await share(client, ann, doc_id, bob, "editor")
    # A collaborator cannot trash it.
    assert_error(await client.delete(f"/documents/{doc_id}", headers=bob.headers), 403)
    assert (await client.delete(f"/documents/{doc_id}", headers=ann.headers)).status_code == 204

    for attacker in (bob, eve):
        assert (await client.get("/trash", headers=attacker.headers)).json() == []
        assert_error(await client.post(f"/trash/{doc_id}/restore", headers=attacker.headers), 404)
        assert_error(await client.delete(f"/trash/{doc_id}", headers=attacker.headers), 404)
        emptied = await client.delete("/trash", headers=attacker.headers)
        assert emptied.status_code == 200 and emptied.json() == {"purged": 0}
    # Anonymous callers and guests holding a link are not signed in.
    assert_error(await client.get("/trash"), 401)
    assert_error(await client.post(f"/trash/{doc_id}/restore"), 401)
    assert_error(await client.delete(f"/trash/{doc_id}"), 401)
    # Ids that are not in the trash, or not ids at all.
    for bad in (str(uuid.uuid4()), "not-an-id", "%00"):
        assert_error(await client.post(f"/trash/{bad}/restore", headers=ann.headers), 404)
        assert_error(await client.delete(f"/trash/{bad}", headers=ann.headers), 404)
    live = await create_document(client, ann, "Live")
    assert_error(await client.delete(f"/trash/{live['id']}", headers=ann.headers), 404)
    assert_error(await client.post(f"/trash/{live['id']}/restore", headers=ann.headers), 404)

    [item] = (await client.get("/trash", headers=ann.headers)).json()
    assert item["id"] == doc_id  # untouched by the attempts
    assert audit.named("document.restored") == [] and audit.named("document.purged") == []


async def test_purge_and_empty_delete_for_good(client: Client, audit: Recorder) -> None:
    ann = await register(client)
    docs = [await create_document(client, ann, f"Doc {i}") for i in range(3)]
    for doc in docs:
        assert (
            await client.delete(f"/documents/{doc['id']}", headers=ann.headers)
        ).status_code == 204
    assert (await client.delete(f"/trash/{docs[0]['id']}", headers=ann.headers)).status_code == 204
    assert_error(await client.post(f"/trash/{docs[0]['id']}/restore", headers=ann.headers), 404)
    assert len((await client.get("/trash", headers=ann.headers)).json()) == 2
    emptied = await client.delete("/trash", headers=ann.headers)
    assert emptied.status_code == 200 and emptied.json() == {"purged": 2}
    assert (await client.get("/trash", headers=ann.headers)).json() == []
    store = services_of(client).store
    for doc in docs:
        assert await on_app(client, store.get_trashed, doc["id"]) is None
    assert await on_app(client, store.count_owned_documents, ann.id) == 0
    assert [a.doc_id for a in audit.named("document.purged")] == [docs[0]["id"]]
    [emptied_event] = audit.named("document.trash_emptied")
    assert emptied_event.actor_id == ann.id and emptied_event.detail == (("count", "2"),)


async def test_the_retention_task_purges_old_trash(make_settings: SettingsFactory) -> None:
    settings = make_settings(trash_retention_days=1.5 / 86400, trash_purge_interval=0.2)
    async with AsyncTestClient(create_app(settings)) as client:
        recorder = Recorder()
        services_of(client).documents.extensions.add(recorder)
        ann = await register(client)
        old = await create_document(client, ann, "Old")
        kept = await create_document(client, ann, "Kept")
        assert (
            await client.delete(f"/documents/{old['id']}", headers=ann.headers)
        ).status_code == 204
        [item] = (await client.get("/trash", headers=ann.headers)).json()
        assert datetime.fromisoformat(item["purge_at"]) > datetime.fromisoformat(item["deleted_at"])
        for _ in range(100):
            if not (await client.get("/trash", headers=ann.headers)).json():
                break
            await asyncio.sleep(0.1)
        assert (await client.get("/trash", headers=ann.headers)).json() == []
        store = services_of(client).store
        assert await on_app(client, store.get_trashed, old["id"]) is None
        assert titles(await client.get("/documents", headers=ann.headers)) == [kept["title"]]
        [purged] = recorder.named("document.purged")
        assert purged.actor_id is None and purged.doc_id == old["id"]
        assert purged.detail == (("reason", "retention"),)


async def test_transfer_ownership(client: Client, audit: Recorder) -> None:
    ann, bob, carol, eve = [await register(client) for _ in range(4)]
    doc = await create_document(client, ann, "Handbook")
    doc_id = doc["id"]
    await share(client, ann, doc_id, bob, "viewer")
    await share(client, ann, doc_id, carol, "editor")

    def transfer(who: Account, user_id: str) -> Awaitable[Any]:
        return client.post(
            f"/documents/{doc_id}/transfer", json={"user_id": user_id}, headers=who.headers
        )

    # Non-owners cannot; strangers cannot see it; anonymous callers are not signed in.
    assert_error(await transfer(carol, carol.id), 403)
    assert_error(await transfer(bob, bob.id), 403)
    assert_error(await transfer(eve, eve.id), 404)
    assert_error(await client.post(f"/documents/{doc_id}/transfer", json={"user_id": bob.id}), 401)
    # Not to oneself, an unknown id, a stranger, or someone invited who has not registered.
    assert_error(await transfer(ann, ann.id), 400)
    assert_error(await transfer(ann, str(uuid.uuid4())), 404)
    assert_error(await transfer(ann, "not-an-id"), 404)
    assert_error(await transfer(ann, eve.id), 404)  # nobody ann works with
    assert_error(await client.post(f"/documents/{doc_id}/transfer", headers=ann.headers), 400)

    moved = await transfer(ann, bob.id)
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner_id"] == bob.id and moved.json()["role"] == "editor"
    people = {
        c["user_id"]: c["role"]
        for c in (
            await client.get(f"/documents/{doc_id}/collaborators", headers=bob.headers)
        ).json()
        if c["user_id"]
    }
    assert people == {bob.id: "owner", ann.id: "editor", carol.id: "editor"}
    # The old owner is an editor now: no more owner rights.
    assert_error(await client.delete(f"/documents/{doc_id}", headers=ann.headers), 403)
    assert_error(await transfer(ann, carol.id), 403)
    # The new owner's list shows it as theirs.
    rows = (await client.get("/documents", headers=bob.headers)).json()
    assert [(r["id"], r["role"]) for r in rows] == [(doc_id, "owner")]
    [event] = audit.named("document.ownership_transferred")
    assert (event.actor_id, event.doc_id, event.subject_id) == (ann.id, doc_id, bob.id)


async def test_ownership_goes_to_a_co_collaborator_by_id_not_to_a_pending_account(
    client: Client,
) -> None:
    ann, bob = await register(client), await register(client)
    elsewhere = await create_document(client, ann, "Elsewhere")
    await share(client, ann, elsewhere["id"], bob, "viewer")
    doc = await create_document(client, ann, "Mine")
    # bob shares another document with ann: he may be picked by id.
    moved = await client.post(
        f"/documents/{doc['id']}/transfer", json={"user_id": bob.id}, headers=ann.headers
    )
    assert moved.status_code == 200 and moved.json()["owner_id"] == bob.id
    # A pending (invited, unregistered) grantee cannot own it.
    store = services_of(client).store
    pending = await on_app(client, store.get_or_create_pending_user, "later@example.com")
    await on_app(client, store.set_permission, elsewhere["id"], pending.id, "viewer")
    refused = await client.post(
        f"/documents/{elsewhere['id']}/transfer",
        json={"user_id": pending.id},
        headers=ann.headers,
    )
    assert_error(refused, 409)


async def test_transfer_respects_the_new_owners_quota(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings(max_documents_per_user=1))) as client:
        ann, bob = await register(client), await register(client)
        doc = await create_document(client, ann, "Ann's")
        await share(client, ann, doc["id"], bob, "viewer")
        await create_document(client, bob, "Bob's")
        refused = await client.post(
            f"/documents/{doc['id']}/transfer", json={"user_id": bob.id}, headers=ann.headers
        )
        assert_error(refused, 403, "QUOTA_EXCEEDED")


async def test_leave_a_shared_document(client: Client, audit: Recorder) -> None:
    ann, bob, eve = await register(client), await register(client), await register(client)
    doc = await create_document(client, ann, "Shared")
    doc_id = doc["id"]
    await share(client, ann, doc_id, bob, "editor")
    assert_error(await client.delete(f"/documents/{doc_id}/access/me", headers=ann.headers), 409)
    assert_error(await client.delete(f"/documents/{doc_id}/access/me", headers=eve.headers), 404)
    assert_error(await client.delete(f"/documents/{doc_id}/access/me"), 401)
    left = await client.delete(f"/documents/{doc_id}/access/me", headers=bob.headers)
    assert left.status_code == 204
    assert titles(await client.get("/documents", headers=bob.headers)) == []
    assert_error(await client.get(f"/documents/{doc_id}", headers=bob.headers), 404)
    assert_error(await client.delete(f"/documents/{doc_id}/access/me", headers=bob.headers), 404)
    # With only the public link, there is no grant of one's own to leave.
    public = await client.post(
        f"/documents/{doc_id}/share/public",
        json={"enabled": True, "role": "viewer"},
        headers=ann.headers,
    )
    linked = {**eve.headers, "X-DocStream-Link": public.json()["link_token"]}
    assert (await client.get(f"/documents/{doc_id}", headers=linked)).status_code == 200
    assert_error(await client.delete(f"/documents/{doc_id}/access/me", headers=linked), 404)
    assert [(a.actor_id, a.doc_id) for a in audit.named("document.left")] == [(bob.id, doc_id)]


async def test_duplicate_copies_the_current_text_into_a_new_document(
    client: Client, audit: Recorder
) -> None:
    ann, bob, eve = await register(client), await register(client), await register(client)
    doc = await create_document(client, ann, "Recipe")
    doc_id = doc["id"]
    await share(client, ann, doc_id, bob, "viewer")
    await put_text(client, ann, doc_id, "flour, water, salt ✓")

    copy = await client.post(f"/documents/{doc_id}/duplicate", headers=bob.headers)
    assert copy.status_code == 201, copy.text
    body = copy.json()
    assert body["title"] == "Copy of Recipe" and body["role"] == "owner"
    assert body["owner_id"] == bob.id and body["id"] != doc_id
    opened = await client.get(f"/documents/{body['id']}", headers=bob.headers)
    assert opened.json()["text"] == "flour, water, salt ✓"
    # The copy is bob's alone, with one edit of history (not the source's).
    assert_error(await client.get(f"/documents/{body['id']}", headers=ann.headers), 404)
    history = (await client.get(f"/documents/{body['id']}/history", headers=bob.headers)).json()
    assert len(history) == 1 and history[0]["user_name"] == bob.name
    # Who cannot read it cannot copy it.
    assert_error(await client.post(f"/documents/{doc_id}/duplicate", headers=eve.headers), 404)
    assert_error(await client.post(f"/documents/{doc_id}/duplicate"), 401)
    assert_error(
        await client.post(f"/documents/{uuid.uuid4()}/duplicate", headers=ann.headers), 404
    )
    # An empty document copies too; a long title is cut.
    long = await create_document(client, ann, "x" * 200)
    copied = await client.post(f"/documents/{long['id']}/duplicate", headers=ann.headers)
    assert copied.status_code == 201 and len(copied.json()["title"]) == 200
    [first, _second] = audit.named("document.duplicated")
    assert first.actor_id == bob.id and first.doc_id == body["id"]
    assert first.detail == (("source", doc_id),)


async def test_duplicate_counts_against_the_quota(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings(max_documents_per_user=1))) as client:
        ann = await register(client)
        doc = await create_document(client, ann, "Only one")
        refused = await client.post(f"/documents/{doc['id']}/duplicate", headers=ann.headers)
        assert_error(refused, 403, "QUOTA_EXCEEDED")
        assert len((await client.get("/documents", headers=ann.headers)).json()) == 1


async def test_a_browser_opening_the_trash_page_gets_the_ui_and_api_clients_json(
    client: Client,
) -> None:
    page = await client.get(
        "/trash", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["vary"] == "Accept"
    assert_error(await client.get("/trash", headers={"Accept": "application/json"}), 401)
    assert_error(await client.get("/trash"), 401)
    ann = await register(client)
    listed = await client.get("/trash", headers={**ann.headers, "Accept": "application/json"})
    assert listed.status_code == 200 and listed.json() == []
