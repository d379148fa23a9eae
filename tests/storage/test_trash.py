"""The trash and ownership transfers: one contract for every backend (SQLite, PostgreSQL, memory).

A trashed document must be invisible exactly as a deleted one is (every lookup and listing skips
it) and come back from a restore exactly as it was: grants, log, snapshots, versions and the
public link untouched.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentStore, utcnow
from tests.storage.test_contract import _later, entry, make_user


async def test_a_trashed_document_is_hidden_everywhere_and_restored_intact(
    store: DocumentStore,
) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    doc = await store.create_document(ann.id, "Plan")
    await store.set_permission(doc.id, bob.id, "editor")
    await store.set_public_sharing(doc.id, True, "viewer")
    link = await store.set_public_link(doc.id, "t" * 32)
    await store.append_ops(doc.id, [entry(ann.id), entry(bob.id, "replica02")])
    await store.save_snapshot(doc.id, 2, b"state")
    await store.create_version(doc.id, 2, "text", "named", "v1", ann.id, keep=5)
    before = await store.get_document(doc.id)
    assert before is not None

    trashed = await store.trash_document(doc.id, ann.id)
    assert trashed is not None and trashed.id == doc.id
    assert await store.trash_document(doc.id, ann.id) is None  # already in the trash
    assert await store.get_document(doc.id) is None
    assert await store.get_role(doc.id, ann.id) is None
    assert await store.get_role(doc.id, bob.id) is None
    assert await store.list_documents(ann.id) == []
    assert await store.list_documents(bob.id) == []
    assert await store.list_document_rows(bob.id) == []
    assert await store.accessible_document_ids(bob.id, [doc.id]) == set()
    assert await store.accessible_document_ids(str(uuid.uuid4()), [doc.id]) == set()  # public
    assert doc.id not in {d for d, _t, _o in await store.all_document_titles()}
    assert await store.co_collaborators(ann.id) == []
    assert await store.list_collaborators(doc.id) == []
    assert await store.count_owned_documents(ann.id) == 1  # the trash counts in the quota

    found = await store.get_trashed(doc.id)
    assert found is not None and found.doc.title == "Plan" and found.deleted_by == ann.id
    assert abs((found.deleted_at - utcnow()).total_seconds()) < 60
    assert [t.doc.id for t in await store.list_trash(ann.id)] == [doc.id]
    assert await store.list_trash(bob.id) == []  # only the owner's trash holds it

    restored = await store.restore_document(doc.id)
    assert restored == before
    assert await store.restore_document(doc.id) is None  # not in the trash any more
    assert await store.get_trashed(doc.id) is None
    assert await store.get_document(doc.id) == before
    role = await store.get_role(doc.id, bob.id)
    assert role is not None and role[1] == "editor"
    assert await store.get_public_link(doc.id) == link
    assert [e.seq for e in await store.read_ops(doc.id, 0)] == [1, 2]
    snapshot = await store.latest_snapshot(doc.id)
    assert snapshot is not None and snapshot.state == b"state"
    assert [v.label for v in await store.list_versions(doc.id)] == ["v1"]
    assert [p.user_id for p in await store.co_collaborators(ann.id)] == [bob.id]
    assert [c.user_id for c in await store.list_collaborators(doc.id)] == [ann.id, bob.id]
    assert await store.list_trash(ann.id) == []


async def test_trashing_withdraws_pending_invitations(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Plan")
    await store.create_invitation(
        doc.id, "carol@example.com", "viewer", ann.id, "hash-1", _later(), max_pending=5
    )
    assert await store.trash_document(doc.id, ann.id) is not None
    assert await store.get_invitation("hash-1") is None
    assert await store.redeem_invitation("hash-1", ann.id) is None
    await store.restore_document(doc.id)
    assert await store.list_invitations(doc.id) == []


async def test_purging_deletes_only_trashed_documents_for_good(store: DocumentStore) -> None:
    ann = await make_user(store)
    live = await store.create_document(ann.id, "Live")
    doc = await store.create_document(ann.id, "Old")
    await store.append_ops(doc.id, [entry(ann.id)])
    await store.create_version(doc.id, 1, "t", "named", "x", ann.id, keep=5)
    assert not await store.purge_document(live.id)  # never a live document
    assert not await store.purge_document(str(uuid.uuid4()))
    assert not await store.purge_document("not-a-uuid")
    await store.trash_document(doc.id, ann.id)
    # Trashed just now: not before a cutoff an hour ago.
    assert not await store.purge_document(doc.id, deleted_before=utcnow() - timedelta(hours=1))
    assert await store.purge_document(doc.id)
    assert not await store.purge_document(doc.id)
    assert await store.get_trashed(doc.id) is None
    assert await store.restore_document(doc.id) is None
    assert await store.read_ops(doc.id, 0) == []
    assert await store.list_versions(doc.id) == []
    assert await store.count_owned_documents(ann.id) == 1
    assert await store.get_document(live.id) is not None


async def test_expired_trash_is_found_oldest_first_and_bounded(store: DocumentStore) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    first = await store.create_document(ann.id, "First")
    second = await store.create_document(bob.id, "Second")
    kept = await store.create_document(ann.id, "Kept")
    await store.trash_document(first.id, ann.id)
    await asyncio.sleep(0.01)
    await store.trash_document(second.id, bob.id)
    await asyncio.sleep(0.01)
    cutoff = utcnow()
    await asyncio.sleep(0.01)
    await store.trash_document(kept.id, ann.id)
    expired = await store.expired_trash(cutoff, 10)
    assert [t.doc.id for t in expired] == [first.id, second.id]
    assert [t.doc.id for t in await store.expired_trash(cutoff, 1)] == [first.id]
    assert await store.purge_document(first.id, deleted_before=cutoff)
    assert not await store.purge_document(kept.id, deleted_before=cutoff)
    assert [t.doc.id for t in await store.list_trash(ann.id)] == [kept.id]


async def test_ownership_moves_and_the_old_owner_keeps_editing(store: DocumentStore) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    carol = await make_user(store, "carol@example.com", "Carol")
    doc = await store.create_document(ann.id, "Plan")
    await store.set_permission(doc.id, bob.id, "viewer")

    assert await store.transfer_ownership(doc.id, bob.id, carol.id) is None  # bob is not owner
    moved = await store.transfer_ownership(doc.id, ann.id, bob.id)
    assert moved is not None and moved.owner_id == bob.id
    roles = {c.user_id: c.role for c in await store.list_collaborators(doc.id)}
    assert roles == {bob.id: "owner", ann.id: "editor"}
    assert await store.count_owned_documents(bob.id) == 1
    assert await store.count_owned_documents(ann.id) == 0
    assert [r for _d, r in await store.list_documents(ann.id)] == ["editor"]
    # Unknown users and documents: nothing changes.
    with pytest.raises(NotFoundError):
        await store.transfer_ownership(doc.id, bob.id, str(uuid.uuid4()))
    assert await store.transfer_ownership(str(uuid.uuid4()), bob.id, ann.id) is None
    assert (await store.get_document(doc.id)).owner_id == bob.id  # type: ignore[union-attr]
    # A trashed document is not handed over.
    await store.trash_document(doc.id, bob.id)
    assert await store.transfer_ownership(doc.id, bob.id, ann.id) is None
