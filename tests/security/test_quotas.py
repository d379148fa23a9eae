"""Quotas: one user cannot grow the database or the title index at everyone else's expense.

Documents per user are capped; replica rows of editing sessions that never wrote are pruned (the
ones that authored log entries stay bound, so nobody can take them over); and a user creating
thousands of documents pushes only their own titles out of the title index.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.bootstrap import Services
from docstream.services.identity import Identity
from docstream.services.janitor import ReplicaJanitor
from docstream.storage.base import NewLogEntry
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import Account, assert_error, create_document, register

Client = AsyncTestClient[Litestar]
T = TypeVar("T")


def services_of(client: Client) -> Services:
    services: Services = client.app.state.services
    return services


async def on_app(client: Client, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` on the app's own event loop (the test client's portal thread), where its
    database pool and title writer live."""
    return await asyncio.to_thread(client.blocking_portal.call, fn, *args)


async def test_a_user_cannot_own_more_documents_than_the_quota(
    make_settings: SettingsFactory,
) -> None:
    async with AsyncTestClient(create_app(make_settings(max_documents_per_user=3))) as client:
        ann, bob = await register(client), await register(client)
        docs = [await create_document(client, ann, f"Doc {i}") for i in range(3)]
        refused = await client.post(
            "/documents", json={"title": "One too many"}, headers=ann.headers
        )
        body = assert_error(refused, 403, "QUOTA_EXCEEDED")
        assert "3" in body["error"]["message"]
        listed = (await client.get("/documents", headers=ann.headers)).json()
        assert len(listed) == 3  # nothing was created
        # Other users are not affected. A trashed document still counts (the trash is bounded by
        # the quota too); deleting it for good makes room again.
        await create_document(client, bob, "Bob's")
        assert (
            await client.delete(f"/documents/{docs[0]['id']}", headers=ann.headers)
        ).status_code == 204
        refused = await client.post("/documents", json={"title": "Not yet"}, headers=ann.headers)
        assert "trash" in assert_error(refused, 403, "QUOTA_EXCEEDED")["error"]["message"]
        assert (
            await client.delete(f"/trash/{docs[0]['id']}", headers=ann.headers)
        ).status_code == 204
        await create_document(client, ann, "Fits again")


async def test_replicas_that_never_wrote_are_pruned_and_authors_stay_bound(
    client: Client,
) -> None:
    """Every editing session binds a replica id: thousands of sessions that never type must not
    grow the table forever, but a replica that wrote stays bound to its author for good."""
    ann = await register(client)
    doc = await create_document(client, ann, "Replicas")
    store = services_of(client).store
    idle = [f"idle{i:04d}xyz" for i in range(300)]
    for rid in idle:
        assert await on_app(client, store.bind_replica, rid, ann.id) == ann.id
    author = "author0001xyz"
    await on_app(client, store.bind_replica, author, ann.id)
    entry = NewLogEntry(user_id=ann.id, replica=author, payload=b"\x01[]")
    await on_app(client, store.append_ops, doc["id"], [entry])
    # Not yet old enough: nothing goes.
    keep = ReplicaJanitor(store, retention_days=7, interval=3600)
    assert await on_app(client, keep.prune_once) == 0
    # Once unseen for longer than the retention (here: any time at all), the idle ones go.
    prune = ReplicaJanitor(store, retention_days=1e-9, interval=3600)
    assert await on_app(client, prune.prune_once) == 300
    assert await on_app(client, prune.prune_once) == 0
    # The author's replica is still bound: nobody else can take it over.
    assert await on_app(client, store.bind_replica, author, "mallory") == ann.id
    # A pruned id is free again (its session never wrote anything to forge).
    assert await on_app(client, store.bind_replica, idle[0], "someone-else") == "someone-else"


async def _titles(client: Client, account: Account, q: str) -> list[str]:
    response = await client.get(
        "/suggest/titles", params={"q": q, "limit": 10}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return [s["word"] for s in response.json()]


async def _flush(client: Client) -> None:
    await on_app(client, services_of(client).titles.flush)


async def test_thousands_of_documents_of_one_user_do_not_push_out_other_titles(
    make_settings: SettingsFactory,
) -> None:
    settings: dict[str, Any] = {"titles_max_words": 300, "titles_max_per_owner": 100}
    async with AsyncTestClient(create_app(make_settings(**settings))) as client:
        alice, mallory = await register(client), await register(client)
        plan = await create_document(client, alice, "Quarterly plan")
        await create_document(client, alice, "Quartz notes")
        store = services_of(client).store
        documents = services_of(client).documents
        spammer = Identity(user_id=mallory.id, name="Mallory")

        async def create_many() -> None:  # 2,000 creations, each through the service
            for i in range(2000):
                await documents.create(spammer, f"Quarterly spam {i:04d}")

        await on_app(client, create_many)
        await _flush(client)
        assert await on_app(client, store.count_owned_documents, mallory.id) == 2000
        assert await _titles(client, alice, "Quarterly") == ["Quarterly plan"]
        assert "Quartz notes" in await _titles(client, alice, "Quar")
        # Mallory's own oldest titles left the index, but she still finds them herself.
        assert "Quarterly spam 0000" in await _titles(client, mallory, "Quarterly spam 0000")
        share = await client.post(
            f"/documents/{plan['id']}/share",
            json={"email": mallory.email, "role": "viewer"},
            headers=alice.headers,
        )
        assert share.status_code == 200
        assert "Quarterly plan" in await _titles(client, mallory, "Quarterly pl")
    # After a restart the index is rebuilt from the database with the same fairness.
    async with AsyncTestClient(create_app(make_settings(**settings))) as client:
        assert await _titles(client, alice, "Quarterly") == ["Quarterly plan"]
