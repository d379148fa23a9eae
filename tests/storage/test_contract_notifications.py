"""Notifications, on every backend: stored only for members, hidden when access goes, newest
first in keyset pages, read marks that touch only the owner's rows, and the digest setting."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentStore, NewNotification, utcnow


async def _people(store: DocumentStore) -> tuple[str, str, str]:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    eve = await store.register_user("eve@example.com", "Eve", "hash")
    return ann.id, bob.id, eve.id


async def test_stored_for_members_only_with_current_names(store: DocumentStore) -> None:
    ann, bob, eve = await _people(store)
    doc = await store.create_document(ann, "Plans")
    await store.set_permission(doc.id, bob, "viewer")
    made = await store.add_notification(
        NewNotification(bob, "share", doc.id, ann, {"role": "viewer"})
    )
    assert made is not None
    assert (made.user_id, made.kind, made.doc_id, made.actor_id) == (bob, "share", doc.id, ann)
    assert made.doc_title == "Plans" and made.actor_name == "Ann"
    assert made.detail == {"role": "viewer"} and made.read_at is None and made.mailed_at is None
    assert abs((made.created_at - utcnow()).total_seconds()) < 5
    # Eve cannot open the document: nothing is stored for her.
    assert await store.add_notification(NewNotification(eve, "mention", doc.id, ann)) is None
    assert await store.list_notifications(eve) == []
    await store.rename_document(doc.id, "Renamed")
    await store.set_user_name(ann, "Ann B")
    [listed] = await store.list_notifications(bob)
    assert listed.doc_title == "Renamed" and listed.actor_name == "Ann B" and listed.id == made.id


async def test_revoked_access_hides_and_regranting_shows_again(store: DocumentStore) -> None:
    ann, bob, _ = await _people(store)
    doc = await store.create_document(ann, "Plans")
    other = await store.create_document(ann, "Other")
    for d in (doc, other):
        await store.set_permission(d.id, bob, "editor")
        await store.add_notification(NewNotification(bob, "mention", d.id, ann))
    assert await store.count_unread_notifications(bob) == 2
    await store.remove_permission(doc.id, bob)
    assert [n.doc_id for n in await store.list_notifications(bob)] == [other.id]
    assert await store.count_unread_notifications(bob) == 1
    await store.set_permission(doc.id, bob, "viewer")
    assert len(await store.list_notifications(bob)) == 2
    await store.trash_document(doc.id, ann)
    assert [n.doc_id for n in await store.list_notifications(bob)] == [other.id]
    await store.delete_document(other.id)
    assert await store.list_notifications(bob) == []
    # The owner's own notifications are shown through ownership.
    mine = await store.create_document(bob, "Mine")
    assert await store.add_notification(NewNotification(bob, "reply", mine.id, ann)) is not None
    assert len(await store.list_notifications(bob)) == 1


async def test_newest_first_in_keyset_pages(store: DocumentStore) -> None:
    ann, bob, _ = await _people(store)
    doc = await store.create_document(ann, "Plans")
    await store.set_permission(doc.id, bob, "editor")
    made = []
    for i in range(5):
        n = await store.add_notification(
            NewNotification(bob, "mention", doc.id, ann, {"i": str(i)})
        )
        assert n is not None
        made.append(n.id)
    assert made == sorted(made)
    first = await store.list_notifications(bob, limit=2)
    assert [n.id for n in first] == made[:-3:-1]
    rest = await store.list_notifications(bob, before_id=first[-1].id, limit=10)
    assert [n.id for n in rest] == made[2::-1]


async def test_read_marks_touch_only_the_owners_rows(store: DocumentStore) -> None:
    ann, bob, eve = await _people(store)
    doc = await store.create_document(ann, "Plans")
    await store.set_permission(doc.id, bob, "editor")
    await store.set_permission(doc.id, eve, "editor")
    bobs = [
        await store.add_notification(NewNotification(bob, "mention", doc.id, ann)) for _ in "12"
    ]
    eves = await store.add_notification(NewNotification(eve, "mention", doc.id, ann))
    assert eves is not None and all(bobs)
    # Eve marks Bob's ids: nothing changes.
    assert await store.mark_notifications_read(eve, [n.id for n in bobs if n]) == 0
    assert await store.count_unread_notifications(bob) == 2
    first = bobs[0]
    assert first is not None
    assert await store.mark_notifications_read(bob, [first.id, first.id, 10**12]) == 1
    assert await store.mark_notifications_read(bob, [first.id]) == 0  # already read
    assert await store.count_unread_notifications(bob) == 1
    listed = {n.id: n for n in await store.list_notifications(bob)}
    assert listed[first.id].read_at is not None
    # "All" is all of Bob's, never Eve's.
    assert await store.mark_notifications_read(bob, None) == 1
    assert await store.count_unread_notifications(bob) == 0
    assert await store.count_unread_notifications(eve) == 1
    assert await store.mark_notifications_read(bob, []) == 0


async def test_unread_unmailed_and_mailed_marks(store: DocumentStore) -> None:
    ann, bob, _ = await _people(store)
    doc = await store.create_document(ann, "Plans")
    await store.set_permission(doc.id, bob, "editor")
    ids = []
    for _ in range(3):
        n = await store.add_notification(NewNotification(bob, "mention", doc.id, ann))
        assert n is not None
        ids.append(n.id)
    await store.mark_notifications_read(bob, [ids[0]])
    pending = await store.list_notifications(bob, unread_unmailed=True)
    assert [n.id for n in pending] == [ids[2], ids[1]]
    await store.mark_notifications_mailed(ann, [ids[1]])  # not Ann's: ignored
    await store.mark_notifications_mailed(bob, [ids[1]])
    assert [n.id for n in await store.list_notifications(bob, unread_unmailed=True)] == [ids[2]]
    assert await store.count_unread_notifications(bob) == 2  # mailed is still unread in the app


async def test_a_deleted_actor_leaves_an_anonymous_notification(store: DocumentStore) -> None:
    ann, bob, eve = await _people(store)
    doc = await store.create_document(ann, "Plans")
    await store.set_permission(doc.id, bob, "editor")
    await store.set_permission(doc.id, eve, "editor")
    await store.add_notification(NewNotification(bob, "mention", doc.id, eve))
    await store.delete_user(eve, None)
    [n] = await store.list_notifications(bob)
    assert (n.actor_id, n.actor_name) == (None, "")
    # A notification naming an actor that does not exist is stored without one.
    gone = await store.add_notification(NewNotification(bob, "mention", doc.id, eve))
    assert gone is not None and gone.actor_id is None


async def test_digest_setting_and_claims(store: DocumentStore) -> None:
    ann, bob, eve = await _people(store)
    assert await store.get_digest(ann) == "off"
    await store.set_digest(ann, "daily")
    await store.set_digest(bob, "weekly")
    await store.set_digest(eve, "daily")
    await store.set_digest(eve, "off")
    assert (await store.get_digest(ann), await store.get_digest(eve)) == ("daily", "off")
    with pytest.raises(NotFoundError):
        await store.set_digest("00000000-0000-4000-8000-000000000000", "daily")
    now = utcnow()
    assert await store.digests_due(now) == sorted([ann, bob])
    # Two nodes claim at once: exactly one wins.
    results = await asyncio.gather(store.claim_digest(ann, now), store.claim_digest(ann, now))
    assert sorted(results) == [False, True]
    assert await store.claim_digest(eve, now) is False  # off
    assert await store.digests_due(now + timedelta(hours=1)) == [bob]
    assert ann in await store.digests_due(now + timedelta(days=1, seconds=1))
    await store.claim_digest(bob, now)
    assert bob not in await store.digests_due(now + timedelta(days=6))
    assert bob in await store.digests_due(now + timedelta(days=7, seconds=1))
