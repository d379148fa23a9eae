"""One contract for every DocumentStore backend (SQLite, a real PostgreSQL, and in memory)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from docstream.errors import ConflictError, NotFoundError, QuotaExceededError, StorageError
from docstream.storage.base import DocumentStore, NewLogEntry
from testkit.config import BACKENDS


async def make_user(store: DocumentStore, email: str = "ann@example.com", name: str = "Ann"):
    return await store.register_user(email, name, "hash")


def entry(user_id: str, replica: str = "replica01", payload: bytes = b"\x01[]", **kw):
    return NewLogEntry(user_id=user_id, replica=replica, payload=payload, **kw)


async def test_migrations_are_recorded_and_applied_once(store: DocumentStore) -> None:
    assert await store.migrate() == []  # the fixture applied everything already
    await store.ping()


@pytest.mark.parametrize("kind", [*BACKENDS, "memory"])
async def test_pending_migrations_lists_what_a_fresh_database_lacks(
    make_store: Callable[[str], DocumentStore], kind: str
) -> None:
    store = make_store(kind)
    async with store:
        pending = await store.pending_migrations()
        if kind != "memory":  # the memory store has no schema to migrate
            assert pending and pending[0].startswith("0001_"), pending
        await store.migrate()
        assert await store.pending_migrations() == []


async def test_registering_twice_with_one_email_is_a_conflict(store: DocumentStore) -> None:
    user = await make_user(store)
    assert not user.pending and user.email == "ann@example.com"
    with pytest.raises(ConflictError):
        await make_user(store)
    assert await store.get_user_by_email("ann@example.com") == user
    assert await store.get_user(user.id) == user
    assert await store.get_user(str(uuid.uuid4())) is None
    assert await store.get_user("not-a-uuid") is None


async def test_an_invited_email_becomes_a_real_user_on_registration_with_no_grants(
    store: DocumentStore,
) -> None:
    owner = await make_user(store)
    doc = await store.create_document(owner.id, "Plan")
    pending = await store.get_or_create_pending_user("bob@example.com")
    assert pending.pending
    assert await store.get_or_create_pending_user("bob@example.com") == pending
    await store.set_permission(doc.id, pending.id, "editor")
    bob = await store.register_user("bob@example.com", "Bob", "hash2")
    assert bob.id == pending.id and not bob.pending and bob.name == "Bob"
    # Registering an address inherits nothing that was granted to it before (invitations are
    # links now; a grant to an invited user of an older version must not be claimable).
    assert await store.list_documents(bob.id) == []


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
    assert await store.all_document_titles() == [(doc.id, "Renamed", owner.id)]
    assert await store.count_owned_documents(owner.id) == 1
    assert await store.count_owned_documents(other.id) == 0
    assert await store.count_owned_documents("not-a-user") == 0

    assert await store.delete_document(doc.id)
    assert not await store.delete_document(doc.id)
    assert await store.get_document(doc.id) is None


async def test_a_public_link_token_is_replaced_and_stamped_with_the_seq(
    store: DocumentStore,
) -> None:
    owner = await make_user(store)
    doc = await store.create_document(owner.id, "Linked")
    assert await store.get_public_link(doc.id) is None
    assert await store.get_public_link(str(uuid.uuid4())) is None
    assert await store.get_public_link("not-a-uuid") is None
    await store.append_ops(doc.id, [entry(owner.id), entry(owner.id)])
    first = await store.set_public_link(doc.id, "t" * 32)
    assert first is not None and (first.token, first.since_seq) == ("t" * 32, 2)
    assert await store.get_public_link(doc.id) == first
    await store.append_ops(doc.id, [entry(owner.id)])
    second = await store.set_public_link(doc.id, "u" * 32)
    assert second is not None and (second.token, second.since_seq) == ("u" * 32, 3)
    assert await store.set_public_link(doc.id, None) is None
    assert await store.get_public_link(doc.id) is None
    assert await store.set_public_link(str(uuid.uuid4()), "v" * 32) is None
    assert await store.set_public_link("not-a-uuid", "v" * 32) is None
    # The token is not part of the document record (nothing can send it out by accident).
    assert "t" * 32 not in repr(await store.get_document(doc.id))


async def test_names_are_never_made_from_addresses_and_can_be_changed(
    store: DocumentStore,
) -> None:
    invited = await store.get_or_create_pending_user("carol.secret@example.com")
    assert invited.name == ""
    assert await store.set_user_name(invited.id, "Carol") is None  # not registered yet
    ann = await make_user(store)
    renamed = await store.set_user_name(ann.id, "Ann B.")
    assert renamed is not None and renamed.name == "Ann B." and renamed.email == ann.email
    assert await store.get_user(ann.id) == renamed
    assert await store.set_user_name(str(uuid.uuid4()), "Nobody") is None
    assert await store.set_user_name("not-a-uuid", "Nobody") is None


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


async def test_replicas_that_never_wrote_are_pruned_once_unseen(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Replicas")
    for rid in ("idleAAAA", "idleBBBB", "idleCCCC", "writerAA"):
        await store.bind_replica(rid, ann.id)
    await store.append_ops(doc.id, [entry(ann.id, replica="writerAA")])
    past = datetime.now(UTC) - timedelta(days=1)
    assert await store.prune_replicas(past) == 0  # all seen just now
    future = datetime.now(UTC) + timedelta(seconds=5)
    assert await store.prune_replicas(future, limit=2) == 2  # bounded batches
    assert await store.prune_replicas(future) == 1
    assert await store.prune_replicas(future) == 0
    assert await store.bind_replica("writerAA", "someone-else") == ann.id  # kept: it wrote
    assert await store.bind_replica("idleAAAA", "someone-else") == "someone-else"  # free again


async def test_binding_a_replica_again_refreshes_when_it_was_last_seen(
    store: DocumentStore,
) -> None:
    ann = await make_user(store)
    await store.bind_replica("seenAAAA", ann.id)
    await asyncio.sleep(0.05)
    cutoff = datetime.now(UTC)
    await asyncio.sleep(0.05)
    assert await store.bind_replica("seenAAAA", ann.id) == ann.id  # seen again after the cutoff
    assert await store.prune_replicas(cutoff) == 0
    assert await store.bind_replica("seenAAAA", "mallory") == ann.id  # another user: no refresh


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


async def test_resent_messages_can_be_found_by_payload(store: DocumentStore) -> None:
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
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01a", counter_hi=5) == 1
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01b", counter_hi=6) == 2
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01b", counter_hi=5) is None
    assert await store.find_seq_of_payload(doc.id, "otherrepl", b"\x01a", counter_hi=5) is None
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01del") == 3
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01zzz") is None
    await store.append_ops(doc.id, [entry(ann.id, "replicaA1", b"\x01del")])
    assert await store.find_seq_of_payload(doc.id, "replicaA1", b"\x01del") == 4  # the newest


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
    older = await store.latest_snapshot(doc.id, before_seq=400)
    assert older is not None and older.seq == 300 and older.state == b"state300"
    assert await store.latest_snapshot(doc.id, before_seq=300) is None  # only two kept


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


# --- sessions and invitations ---------------------------------------------------------------------


def _later(seconds: float = 3600) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_a_refresh_token_rotates_once_and_reuse_revokes_the_session(
    store: DocumentStore,
) -> None:
    user = await make_user(store)
    sid, other = str(uuid.uuid4()), str(uuid.uuid4())
    await store.create_session(sid, user.id, "jti-1", _later())
    await store.create_session(other, user.id, "jti-x", _later())
    assert await store.dead_sessions([sid, other]) == set()
    assert await store.rotate_session(sid, "jti-1", "jti-2", _later()) == "rotated"
    assert await store.rotate_session(sid, "jti-2", "jti-3", _later()) == "rotated"
    # A used-up token again: the whole session is signed out, the good token too.
    assert await store.rotate_session(sid, "jti-1", "jti-9", _later()) == "reused"
    assert await store.rotate_session(sid, "jti-3", "jti-4", _later()) == "revoked"
    assert await store.dead_sessions([sid, other]) == {sid}
    assert await store.rotate_session(str(uuid.uuid4()), "a", "b", _later()) == "unknown"
    assert await store.rotate_session("not-a-uuid", "a", "b", _later()) == "unknown"
    assert await store.rotate_session(other, "jti-x", "jti-y", _later()) == "rotated"


async def test_sessions_are_revoked_one_or_all_but_one(store: DocumentStore) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    mine = [str(uuid.uuid4()) for _ in range(3)]
    for sid in mine:
        await store.create_session(sid, ann.id, "j", _later())
    bobs = str(uuid.uuid4())
    await store.create_session(bobs, bob.id, "j", _later())
    assert await store.revoke_sessions(ann.id, only=mine[0]) == [mine[0]]
    assert await store.revoke_sessions(ann.id, only=mine[0]) == []  # already signed out
    assert await store.revoke_sessions(bob.id, only=mine[1]) == []  # not Bob's session
    assert sorted(await store.revoke_sessions(ann.id, keep=mine[2])) == [mine[1]]
    assert await store.dead_sessions([*mine, bobs]) == {mine[0], mine[1]}
    assert await store.revoke_sessions(ann.id) == [mine[2]]
    unknown = str(uuid.uuid4())
    assert await store.dead_sessions([bobs, "not-a-uuid", unknown]) == {"not-a-uuid", unknown}
    expired = str(uuid.uuid4())
    await store.create_session(expired, bob.id, "j", _later(-1))
    assert await store.dead_sessions([expired, bobs]) == {expired}
    assert await store.rotate_session(expired, "j", "k", _later()) == "revoked"


async def test_a_password_can_be_replaced(store: DocumentStore) -> None:
    user = await make_user(store)
    await store.set_password(user.id, "new-hash")
    changed = await store.get_user(user.id)
    assert changed is not None and changed.password_hash == "new-hash"


async def test_invitations_replace_count_and_expire(store: DocumentStore) -> None:
    owner = await make_user(store)
    doc = await store.create_document(owner.id, "Plan")
    other = await store.create_document(owner.id, "Other")
    first = await store.create_invitation(
        doc.id, "bob@example.com", "viewer", owner.id, "h1", _later(), max_pending=2
    )
    assert (first.doc_title, first.inviter_name, first.role) == ("Plan", "Ann", "viewer")
    again = await store.create_invitation(
        doc.id, "bob@example.com", "editor", owner.id, "h2", _later(), max_pending=2
    )
    assert await store.get_invitation("h1") is None  # replaced: the old link is dead
    assert (await store.get_invitation("h2")) == again
    assert [i.role for i in await store.list_invitations(doc.id)] == ["editor"]
    await store.create_invitation(
        other.id, "eve@example.com", "viewer", owner.id, "h3", _later(), max_pending=2
    )
    with pytest.raises(QuotaExceededError):
        await store.create_invitation(
            doc.id, "carl@example.com", "viewer", owner.id, "h4", _later(), max_pending=2
        )
    assert await store.get_invitation("h4") is None
    late = await store.create_invitation(
        doc.id, "late@example.com", "viewer", owner.id, "h5", _later(-1), max_pending=9
    )
    assert await store.get_invitation("h5") is None
    assert late.id not in {i.id for i in await store.list_invitations(doc.id)}
    assert await store.redeem_invitation("h5", owner.id) is None
    assert await store.delete_invitation(other.id, again.id) is False  # wrong document
    assert await store.delete_invitation(doc.id, again.id) is True
    assert await store.get_invitation("h2") is None
    assert await store.delete_invitation(doc.id, "not-a-uuid") is False


async def test_redeeming_an_invitation_grants_once_and_never_downgrades(
    store: DocumentStore,
) -> None:
    owner = await make_user(store)
    editor = await make_user(store, "ed@example.com", "Ed")
    bob = await make_user(store, "bob@example.com", "Bob")
    doc = await store.create_document(owner.id, "Plan")
    await store.set_permission(doc.id, editor.id, "editor")

    async def invite(by: str, role: str, h: str, email: str = "x@example.com") -> None:
        await store.create_invitation(doc.id, email, role, by, h, _later(), max_pending=50)  # type: ignore[arg-type]

    await invite(owner.id, "viewer", "a")
    redeemed = await store.redeem_invitation("a", bob.id)
    assert redeemed is not None and redeemed[1] == "viewer"
    assert await store.redeem_invitation("a", bob.id) is None  # single use
    await invite(editor.id, "viewer", "b")
    redeemed = await store.redeem_invitation("b", editor.id)  # an editor stays editor
    assert redeemed is not None and redeemed[1] == "editor"
    await invite(owner.id, "editor", "c")
    redeemed = await store.redeem_invitation("c", owner.id)  # the owner stays owner
    assert redeemed is not None and redeemed[1] == "owner"
    # An editor's invitation stops working when the editor loses the role.
    carl = await make_user(store, "carl@example.com", "Carl")
    await invite(editor.id, "viewer", "d")
    await store.set_permission(doc.id, editor.id, "viewer")
    redeemed = await store.redeem_invitation("d", carl.id)
    assert redeemed is not None and redeemed[1] is None
    assert (await store.get_role(doc.id, carl.id)) is not None
    assert (await store.get_role(doc.id, carl.id))[1] is None  # type: ignore[index]
    assert await store.redeem_invitation("d", carl.id) is None  # used up all the same
    role = await store.get_role(doc.id, bob.id)
    assert role is not None and role[1] == "viewer"


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


# --- semantics every backend shares (the in-memory one included) ---------------------------------


async def test_a_refused_invitation_changes_nothing(store: DocumentStore) -> None:
    owner = await make_user(store)
    doc = await store.create_document(owner.id, "Plan")
    kept = await store.create_invitation(
        doc.id, "bob@example.com", "viewer", owner.id, "k1", _later(), max_pending=1
    )
    await store.create_invitation(
        doc.id, "eve@example.com", "viewer", owner.id, "k2", _later(), max_pending=2
    )
    with pytest.raises(QuotaExceededError):  # replaces Bob's, but Eve's alone fills the quota
        await store.create_invitation(
            doc.id, "bob@example.com", "editor", owner.id, "k3", _later(), max_pending=1
        )
    assert await store.get_invitation("k1") == kept  # the one it would have replaced survives
    with pytest.raises(NotFoundError):
        await store.create_invitation(
            str(uuid.uuid4()), "x@example.com", "viewer", owner.id, "k4", _later(), max_pending=9
        )
    assert await store.get_invitation("k4") is None


async def test_listings_are_ordered(store: DocumentStore) -> None:
    ann = await make_user(store)
    zed = await make_user(store, "zed@example.com", "Zed")
    bob = await make_user(store, "bob@example.com", "Bob")
    first = await store.create_document(ann.id, "First")
    await asyncio.sleep(0.01)
    second = await store.create_document(ann.id, "Second")
    await asyncio.sleep(0.01)
    await store.rename_document(first.id, "First, renamed")  # now the most recently updated
    assert [d.id for d, _ in await store.list_documents(ann.id)] == [first.id, second.id]
    await asyncio.sleep(0.01)
    await store.append_ops(second.id, [entry(ann.id)])  # an edit updates it too
    assert [d.id for d, _ in await store.list_documents(ann.id)] == [second.id, first.id]
    assert [t[0] for t in await store.all_document_titles()] == [first.id, second.id]
    await store.set_permission(first.id, zed.id, "viewer")
    await store.set_permission(first.id, bob.id, "editor")
    assert [c.user_id for c in await store.list_collaborators(first.id)] == [ann.id, bob.id, zed.id]
    for email in ("zoe@example.com", "al@example.com"):
        await store.create_invitation(
            first.id, email, "viewer", ann.id, email, _later(), max_pending=9
        )
        await asyncio.sleep(0.01)
    listed = await store.list_invitations(first.id)
    assert [i.email for i in listed] == ["zoe@example.com", "al@example.com"]  # oldest first


async def test_log_entries_are_stored_whole_and_not_shared(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Whole")
    payload = bytearray(b"\x01[1]")
    new = NewLogEntry(
        ann.id,
        "replicaW1",
        payload,  # type: ignore[arg-type]  # a caller's buffer, as any bytes-like object
        1,
        2,
        kind="insert",
        position=3,
        length=2,
        preview="hi",
    )
    before = datetime.now(UTC)
    await store.append_ops(doc.id, [new, entry("guest-123", payload=b"\x01[2]")])
    payload[1:] = b"[9]"  # the caller's buffer changes after the commit: the log does not
    first, second = await store.read_ops(doc.id, 0)
    assert first.payload == b"\x01[1]" and isinstance(first.payload, bytes)
    assert (first.doc_id, first.user_id, first.replica) == (doc.id, ann.id, "replicaW1")
    assert (first.kind, first.position, first.length, first.preview) == ("insert", 3, 2, "hi")
    assert first.user_name == "Ann" and second.user_name == ""  # a guest has no account
    assert before - timedelta(seconds=5) <= first.created_at <= datetime.now(UTC)
    await store.set_user_name(ann.id, "Ann B.")  # names are read now, not copied at append
    assert (await store.read_ops(doc.id, 0, limit=1))[0].user_name == "Ann B."
    assert await store.read_history(doc.id, 99, 10) == await store.read_history(doc.id, None, 10)
    assert await store.read_ops(doc.id, 2) == []
    assert await store.read_history(doc.id, 1, 10) == []


async def test_deleting_a_document_frees_the_replicas_that_wrote_only_to_it(
    store: DocumentStore,
) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Gone")
    kept = await store.create_document(ann.id, "Kept")
    for rid in ("onlyGone", "bothDocs"):
        await store.bind_replica(rid, ann.id)
        await store.append_ops(doc.id, [entry(ann.id, replica=rid)])
    await store.append_ops(kept.id, [entry(ann.id, replica="bothDocs")])
    await store.create_invitation(
        doc.id, "bob@example.com", "viewer", ann.id, "gone", _later(), max_pending=9
    )
    assert await store.delete_document(doc.id)
    assert await store.get_invitation("gone") is None
    future = datetime.now(UTC) + timedelta(seconds=5)
    assert await store.prune_replicas(future) == 1
    assert await store.bind_replica("bothDocs", "someone-else") == ann.id
    assert await store.bind_replica("onlyGone", "someone-else") == "someone-else"


async def test_redeeming_upgrades_a_viewer_only_when_the_inviter_may_grant(
    store: DocumentStore,
) -> None:
    owner = await make_user(store)
    editor = await make_user(store, "ed@example.com", "Ed")
    viewer = await make_user(store, "vi@example.com", "Vi")
    doc = await store.create_document(owner.id, "Plan")
    await store.set_permission(doc.id, editor.id, "editor")
    await store.set_permission(doc.id, viewer.id, "viewer")
    await store.create_invitation(
        doc.id, "a@example.com", "viewer", editor.id, "by-editor", _later(), max_pending=9
    )
    await store.set_permission(doc.id, editor.id, "viewer")  # the inviter loses the right
    redeemed = await store.redeem_invitation("by-editor", viewer.id)
    assert redeemed is not None and redeemed[1] == "viewer"  # kept, neither raised nor lost
    await store.create_invitation(
        doc.id, "b@example.com", "editor", owner.id, "by-owner", _later(), max_pending=9
    )
    redeemed = await store.redeem_invitation("by-owner", viewer.id)
    assert redeemed is not None and redeemed[1] == "editor"  # the owner may upgrade
    role = await store.get_role(doc.id, viewer.id)
    assert role is not None and role[1] == "editor"


async def test_expired_invitations_do_not_count_against_the_quota(store: DocumentStore) -> None:
    owner = await make_user(store)
    doc = await store.create_document(owner.id, "Plan")
    await store.create_invitation(
        doc.id, "old@example.com", "viewer", owner.id, "old", _later(-1), max_pending=9
    )
    fresh = await store.create_invitation(
        doc.id, "new@example.com", "viewer", owner.id, "new", _later(), max_pending=1
    )
    assert [i.id for i in await store.list_invitations(doc.id)] == [fresh.id]


async def test_collaborators_after_the_owner_are_ordered_by_email(store: DocumentStore) -> None:
    owner = await make_user(store, "zz-owner@example.com", "Owner")
    doc = await store.create_document(owner.id, "Team")
    emails = ["dan@example.com", "bea@example.com", "cal@example.com", "al@example.com"]
    for email in emails:
        user = await make_user(store, email, email.split("@")[0])
        await store.set_permission(doc.id, user.id, "viewer")
    listed = [c.email for c in await store.list_collaborators(doc.id)]
    assert listed == ["zz-owner@example.com", *sorted(emails)]


async def test_list_rows_name_the_owner_and_the_newest_edits_author(store: DocumentStore) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    untouched = await store.create_document(ann.id, "Untouched")
    edited = await store.create_document(ann.id, "Edited")
    theirs = await store.create_document(bob.id, "Theirs")
    await store.set_permission(edited.id, bob.id, "editor")
    await store.set_permission(theirs.id, ann.id, "viewer")
    await store.append_ops(edited.id, [entry(ann.id), entry(ann.id)])
    await store.append_ops(edited.id, [entry(bob.id, replica="replica02")])  # the newest
    await store.append_ops(theirs.id, [entry(bob.id, replica="replica02")])
    await store.append_ops(theirs.id, [entry("guest-0a1b2c3d", replica="replica03")])

    rows = await store.list_document_rows(ann.id)
    # The same documents, roles and order as list_documents.
    assert [(r.doc, r.role) for r in rows] == await store.list_documents(ann.id)
    by_id = {r.doc.id: r for r in rows}
    assert set(by_id) == {untouched.id, edited.id, theirs.id}
    assert (by_id[untouched.id].owner_name, by_id[untouched.id].last_editor_id) == ("Ann", None)
    assert by_id[untouched.id].last_editor_name is None
    assert (by_id[edited.id].last_editor_id, by_id[edited.id].last_editor_name) == (bob.id, "Bob")
    assert by_id[theirs.id].owner_name == "Bob" and by_id[theirs.id].role == "viewer"
    # A guest has no account: its id, and no name.
    assert (by_id[theirs.id].last_editor_id, by_id[theirs.id].last_editor_name) == (
        "guest-0a1b2c3d",
        None,
    )
    await store.set_user_name(bob.id, "Robert")  # names are read at listing time
    assert {r.doc.id: r.owner_name for r in await store.list_document_rows(bob.id)} == {
        edited.id: "Ann",
        theirs.id: "Robert",
    }
    assert await store.list_document_rows(str(uuid.uuid4())) == []


async def test_co_collaborators_share_a_document_and_are_ordered_by_recency_then_count(
    store: DocumentStore,
) -> None:
    me = await make_user(store, "me@example.com", "Me")
    often = await make_user(store, "often@example.com", "Often")
    recent = await make_user(store, "recent@example.com", "Recent")
    owner = await make_user(store, "owner@example.com", "Owner")
    stranger = await make_user(store, "stranger@example.com", "Stranger")
    pending = await store.get_or_create_pending_user("pending@example.com")
    assert await store.co_collaborators(me.id) == []

    first = await store.create_document(me.id, "First")
    second = await store.create_document(me.id, "Second")
    for doc in (first, second):
        await store.set_permission(doc.id, often.id, "viewer")
    await store.set_permission(first.id, pending.id, "viewer")
    theirs = await store.create_document(owner.id, "Theirs")  # I am a grantee: the owner counts
    await store.set_permission(theirs.id, me.id, "editor")
    await store.set_permission(theirs.id, recent.id, "viewer")  # so does a fellow grantee
    elsewhere = await store.create_document(stranger.id, "Elsewhere")
    await store.set_permission(elsewhere.id, often.id, "editor")  # not shared with me

    # The most recently updated shared document first: "Theirs" (owner and recent, tied, by id).
    people = await store.co_collaborators(me.id)
    tied = sorted([owner.id, recent.id])
    assert [p.user_id for p in people] == [*tied, often.id]
    assert {p.user_id: p.name for p in people}[often.id] == "Often"
    # Touching "First" makes its members the most recent.
    await store.rename_document(first.id, "First, renamed")
    assert [p.user_id for p in await store.co_collaborators(me.id)] == [often.id, *tied]
    # Seen from the other side, and nobody is their own co-collaborator.
    assert [p.user_id for p in await store.co_collaborators(stranger.id)] == [often.id]
    assert me.id in {p.user_id for p in await store.co_collaborators(often.id)}
    assert await store.co_collaborators(str(uuid.uuid4())) == []
    assert await store.co_collaborators("not-a-uuid") == []


async def test_co_collaborators_count_shared_documents_when_equally_recent(
    store: DocumentStore,
) -> None:
    me = await make_user(store, "me@example.com", "Me")
    one = await make_user(store, "one@example.com", "One")
    two = await make_user(store, "two@example.com", "Two")
    shared = await store.create_document(me.id, "Both")
    for user in (one, two):
        await store.set_permission(shared.id, user.id, "viewer")
    only_two = await store.create_document(me.id, "Two only")
    await store.set_permission(only_two.id, two.id, "viewer")
    await store.rename_document(shared.id, "Both, latest")  # both last shared at the same time
    assert [p.user_id for p in await store.co_collaborators(me.id)] == [two.id, one.id]


async def test_a_grant_by_id_hides_the_address_until_someone_shares_by_address(
    store: DocumentStore,
) -> None:
    owner = await make_user(store, "owner@example.com", "Owner")
    picked = await make_user(store, "picked@example.com", "Picked")
    typed = await make_user(store, "typed@example.com", "Typed")
    doc = await store.create_document(owner.id, "Doc")

    def flags(listed: list) -> dict[str, bool]:
        return {c.user_id: c.by_address for c in listed}

    await store.set_permission(doc.id, picked.id, "viewer", by_address=False)
    await store.set_permission(doc.id, typed.id, "viewer")
    assert flags(await store.list_collaborators(doc.id)) == {
        owner.id: True,
        picked.id: False,
        typed.id: True,
    }
    # A role change by id keeps what was known; sharing by address reveals it for good.
    await store.set_permission(doc.id, typed.id, "editor", by_address=False)
    await store.set_permission(doc.id, picked.id, "editor", by_address=False)
    listed = flags(await store.list_collaborators(doc.id))
    assert listed[typed.id] is True and listed[picked.id] is False
    await store.set_permission(doc.id, picked.id, "viewer")
    await store.set_permission(doc.id, picked.id, "editor", by_address=False)
    assert flags(await store.list_collaborators(doc.id))[picked.id] is True
    # Removed and picked again: hidden again.
    assert await store.remove_permission(doc.id, picked.id)
    await store.set_permission(doc.id, picked.id, "viewer", by_address=False)
    assert flags(await store.list_collaborators(doc.id))[picked.id] is False
