"""One contract for every DocumentStore backend (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from docstream.errors import ConflictError, NotFoundError, StorageError
from docstream.storage.base import DocumentStore, NewLogEntry


async def make_user(store: DocumentStore, email: str = "ann@example.com", name: str = "Ann"):
    return await store.register_user(email, name, "hash")


def entry(user_id: str, replica: str = "replica01", payload: bytes = b"\x01[]", **kw):
    return NewLogEntry(user_id=user_id, replica=replica, payload=payload, **kw)


async def test_migrations_are_recorded_and_applied_once(store: DocumentStore) -> None:
    assert await store.migrate() == []  # the fixture applied everything already
    await store.ping()


async def test_registering_twice_with_one_email_is_a_conflict(store: DocumentStore) -> None:
    user = await make_user(store)
    assert not user.pending and user.email == "ann@example.com"
    with pytest.raises(ConflictError):
        await make_user(store)
    assert await store.get_user_by_email("ann@example.com") == user
    assert await store.get_user(user.id) == user
    assert await store.get_user(str(uuid.uuid4())) is None
    assert await store.get_user("not-a-uuid") is None


async def test_an_invited_email_becomes_a_real_user_on_registration(store: DocumentStore) -> None:
    owner = await make_user(store)
    doc = await store.create_document(owner.id, "Plan")
    pending = await store.get_or_create_pending_user("bob@example.com")
    assert pending.pending
    assert await store.get_or_create_pending_user("bob@example.com") == pending
    await store.set_permission(doc.id, pending.id, "editor")
    bob = await store.register_user("bob@example.com", "Bob", "hash2")
    assert bob.id == pending.id and not bob.pending and bob.name == "Bob"
    listed = await store.list_documents(bob.id)
    assert [(d.id, role) for d, role in listed] == [(doc.id, "editor")]


async def test_documents_roles_and_public_sharing(store: DocumentStore) -> None:
    owner = await make_user(store)
    other = await make_user(store, "eve@example.com", "Eve")
    doc = await store.create_document(owner.id, "Notes")
    assert doc.seq == 0 and not doc.public_sharing_enabled and doc.public_sharing_role == "viewer"
    assert await store.get_document(doc.id) == doc
    assert await store.get_document(str(uuid.uuid4())) is None
    assert await store.get_document("nope") is None

    found = await store.get_role(doc.id, owner.id)
    assert found is not None and found[1] == "owner"
    found = await store.get_role(doc.id, other.id)
    assert found is not None and found[1] is None
    assert await store.get_role(str(uuid.uuid4()), owner.id) is None

    assert await store.accessible_document_ids(other.id, [doc.id]) == set()
    shared = await store.set_public_sharing(doc.id, True, "editor")
    assert shared is not None and shared.public_sharing_enabled
    assert shared.public_sharing_role == "editor"
    assert await store.accessible_document_ids(other.id, [doc.id, "junk"]) == {doc.id}
    assert await store.accessible_document_ids(other.id, [doc.id], include_public=False) == set()
    assert await store.accessible_document_ids(owner.id, [doc.id], include_public=False) == {doc.id}

    renamed = await store.rename_document(doc.id, "Renamed")
    assert renamed is not None and renamed.title == "Renamed"
    assert await store.rename_document(str(uuid.uuid4()), "x") is None
    assert await store.all_document_titles() == [(doc.id, "Renamed")]

    assert await store.delete_document(doc.id)
    assert not await store.delete_document(doc.id)
    assert await store.get_document(doc.id) is None


async def test_permissions_and_collaborators(store: DocumentStore) -> None:
    owner = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    doc = await store.create_document(owner.id, "Shared")
    other_doc = await store.create_document(owner.id, "Private")
    await store.set_permission(doc.id, bob.id, "viewer")
    await store.set_permission(doc.id, bob.id, "editor")  # upgrade, not a duplicate
    role = await store.get_role(doc.id, bob.id)
    assert role is not None and role[1] == "editor"
    collaborators = await store.list_collaborators(doc.id)
    assert [(c.email, c.role) for c in collaborators] == [
        ("ann@example.com", "owner"),
        ("bob@example.com", "editor"),
    ]
    assert await store.accessible_document_ids(bob.id, [doc.id, other_doc.id]) == {doc.id}
    assert [d.id for d, _ in await store.list_documents(bob.id)] == [doc.id]
    assert await store.remove_permission(doc.id, bob.id)
    assert not await store.remove_permission(doc.id, bob.id)
    assert await store.list_documents(bob.id) == []
    with pytest.raises(NotFoundError):
        await store.set_permission(str(uuid.uuid4()), bob.id, "viewer")


async def test_a_replica_is_bound_to_its_first_user(store: DocumentStore) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    assert await store.bind_replica("replicaAAA", ann.id) == ann.id
    assert await store.bind_replica("replicaAAA", bob.id) == ann.id
    assert await store.bind_replica("replicaBBB", bob.id) == bob.id


async def test_the_ops_log_is_gap_free_under_concurrent_appends(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Log")
    last = await store.append_ops(doc.id, [entry(ann.id, payload=b"\x01[1]")])
    assert last == 1
    last = await store.append_ops(
        doc.id, [entry(ann.id, payload=b"\x01[2]"), entry(ann.id, payload=b"\x01[3]")]
    )
    assert last == 3

    results = await asyncio.gather(
        *(
            store.append_ops(doc.id, [entry(ann.id, payload=f"\x01[{i}]".encode())] * (1 + i % 3))
            for i in range(30)
        )
    )
    total = 3 + sum(1 + i % 3 for i in range(30))
    assert max(results) == total
    entries = await store.read_ops(doc.id, 0)
    assert [e.seq for e in entries] == list(range(1, total + 1))
    assert entries[0].user_name == "Ann" and entries[0].payload == b"\x01[1]"
    current = await store.get_document(doc.id)
    assert current is not None and current.seq == total

    assert [e.seq for e in await store.read_ops(doc.id, total - 2)] == [total - 1, total]
    assert [e.seq for e in await store.read_ops(doc.id, 0, limit=2)] == [1, 2]
    history = await store.read_history(doc.id, None, 3)
    assert [e.seq for e in history] == [total, total - 1, total - 2]
    assert [e.seq for e in await store.read_history(doc.id, 3, 10)] == [2, 1]


async def test_appending_to_a_missing_document_is_not_found(store: DocumentStore) -> None:
    ann = await make_user(store)
    with pytest.raises(NotFoundError):
        await store.append_ops(str(uuid.uuid4()), [entry(ann.id)])


async def test_resent_messages_can_be_found_by_id_or_payload(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Dedupe")
    await store.append_ops(
        doc.id,
        [
            entry(ann.id, "replicaA1", b"\x01a", counter_lo=1, counter_hi=5),
            entry(ann.id, "replicaA1", b"\x01b", counter_lo=6, counter_hi=6),
            entry(ann.id, "replicaA1", b"\x01del"),
        ],
    )
    assert await store.find_seq_of_insert(doc.id, "replicaA1", 3) == 1
    assert await store.find_seq_of_insert(doc.id, "replicaA1", 6) == 2
    assert await store.find_seq_of_insert(doc.id, "replicaA1", 7) is None
    assert await store.find_seq_of_insert(doc.id, "otherrepl", 3) is None
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01del") == 3
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01zzz") is None


async def test_snapshots_keep_the_newest(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Snap")
    assert await store.latest_snapshot(doc.id) is None
    for seq in (100, 200, 300, 400):
        await store.save_snapshot(doc.id, seq, f"state{seq}".encode(), keep=2)
    latest = await store.latest_snapshot(doc.id)
    assert latest is not None and latest.seq == 400 and latest.state == b"state400"
    await store.save_snapshot(doc.id, 400, b"again", keep=2)  # same seq twice: first one wins
    latest = await store.latest_snapshot(doc.id)
    assert latest is not None and latest.state == b"state400"


async def test_versions_are_numbered_and_retention_is_per_kind(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Versions")
    for i in range(4):
        await store.create_version(doc.id, i, f"text {i}", "auto", None, None, keep=2)
    named = await store.create_version(doc.id, 9, "named text", "named", "v1", ann.id, keep=2)
    assert named.version == 5 and named.label == "v1" and named.length == len("named text")
    listed = await store.list_versions(doc.id)
    assert [(v.version, v.kind) for v in listed] == [(5, "named"), (4, "auto"), (3, "auto")]
    assert all(v.text is None for v in listed)
    full = await store.get_version(doc.id, 4)
    assert full is not None and full.text == "text 3" and full.seq == 3
    assert await store.get_version(doc.id, 1) is None
    with pytest.raises(NotFoundError):
        await store.create_version(str(uuid.uuid4()), 0, "", "auto", None, None, keep=2)


async def test_deleting_a_document_removes_its_log_snapshots_and_versions(
    store: DocumentStore,
) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Gone")
    await store.append_ops(doc.id, [entry(ann.id)])
    await store.save_snapshot(doc.id, 1, b"s")
    await store.create_version(doc.id, 1, "t", "named", "x", ann.id, keep=5)
    assert await store.delete_document(doc.id)
    assert await store.read_ops(doc.id, 0) == []
    assert await store.latest_snapshot(doc.id) is None
    assert await store.list_versions(doc.id) == []


async def test_unicode_and_sql_metacharacters_are_stored_verbatim(store: DocumentStore) -> None:
    name = "Robert'); DROP TABLE users;-- 😀"
    user = await store.register_user("o'brien@example.com", name, "h")
    doc = await store.create_document(user.id, 'Tïtle "quoted" \'; DELETE FROM documents;--')
    assert (await store.get_user(user.id)).name == name  # type: ignore[union-attr]
    assert (await store.get_document(doc.id)).title == doc.title  # type: ignore[union-attr]


async def test_a_closed_store_raises_storage_error(store: DocumentStore) -> None:
    await store.close()
    with pytest.raises(StorageError):
        await store.ping()


async def test_revoked_tokens_are_remembered_until_they_expire(store: DocumentStore) -> None:
    from datetime import timedelta

    from docstream.storage.base import utcnow

    assert not await store.is_token_revoked("jti-1")
    await store.revoke_token("jti-1", utcnow() + timedelta(days=7))
    await store.revoke_token("jti-1", utcnow() + timedelta(days=7))  # twice is fine
    await store.revoke_token("old", utcnow() - timedelta(seconds=1))
    assert await store.is_token_revoked("jti-1")
    await store.revoke_token("jti-2", utcnow() + timedelta(days=1))  # sweeps the expired "old"
    assert not await store.is_token_revoked("old")


async def test_a_nul_in_an_entry_preview_does_not_fail_the_batch(store: DocumentStore) -> None:
    """NUL is a legal code point in a document; PostgreSQL text cannot hold it. The preview is
    for display (PostgreSQL shows U+FFFD), the payload keeps the text, and the batch commits."""
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Nul")
    last = await store.append_ops(
        doc.id,
        [entry(ann.id, payload=b"\x01[]", preview="ok"), entry(ann.id, preview="a\x00b")],
    )
    assert last == 2
    previews = [e.preview for e in await store.read_ops(doc.id, 0)]
    assert previews[0] == "ok" and previews[1] in ("a\x00b", "a\ufffdb")
