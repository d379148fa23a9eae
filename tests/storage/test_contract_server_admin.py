"""Server administration on every backend: the first administrator (also under concurrency),
run-time settings, server invitations, the user list and deleting accounts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentStore, NewLogEntry


def _later(hours: int = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


async def test_only_the_first_claim_makes_an_administrator(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    assert await store.claim_first_admin(ann.id)
    assert not await store.claim_first_admin(bob.id)
    assert await store.count_admins() == 1
    pending = await store.get_or_create_pending_user("cy@example.com")
    await store.set_admin(ann.id, False)
    assert not await store.claim_first_admin(pending.id)  # an invited address is not an account
    assert not await store.claim_first_admin(str(uuid.uuid4()))


async def test_concurrent_first_claims_make_exactly_one_administrator(
    store: DocumentStore,
) -> None:
    users = [await store.register_user(f"u{i}@example.com", f"U{i}", "hash") for i in range(8)]
    results = await asyncio.gather(*(store.claim_first_admin(u.id) for u in users))
    assert sum(results) == 1
    assert await store.count_admins() == 1


async def test_server_settings_are_set_replaced_and_removed(store: DocumentStore) -> None:
    assert await store.get_server_setting("signup_policy") is None
    await store.set_server_setting("signup_policy", "closed")
    await store.set_server_setting("signup_policy", "open")
    assert await store.get_server_setting("signup_policy") == "open"
    await store.set_server_setting("signup_policy", None)
    assert await store.get_server_setting("signup_policy") is None


async def test_server_invitations_are_listed_replaced_used_and_revoked(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    first = await store.create_server_invitation("bob@example.com", ann.id, "h1", _later())
    again = await store.create_server_invitation("bob@example.com", ann.id, "h2", _later())
    await store.create_server_invitation("old@example.com", ann.id, "h3", _later(-1))
    assert await store.get_server_invitation("h1") is None  # replaced
    assert await store.get_server_invitation("h3") is None  # expired
    found = await store.get_server_invitation("h2")
    assert found is not None and found.email == "bob@example.com" and found.id == again.id
    assert [i.id for i in await store.list_server_invitations()] == [again.id]
    assert first.id != again.id
    assert await store.signup_invited("bob@example.com")
    assert not await store.signup_invited("old@example.com")
    assert not await store.signup_invited("cy@example.com")
    await store.use_server_invitations("bob@example.com")
    assert not await store.signup_invited("bob@example.com")
    third = await store.create_server_invitation("dan@example.com", ann.id, "h4", _later())
    assert await store.delete_server_invitation(third.id)
    assert not await store.delete_server_invitation(third.id)
    assert await store.list_server_invitations() == []


async def test_a_document_invitation_also_lets_an_address_sign_up(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    doc = await store.create_document(ann.id, "Plan")
    await store.create_invitation(doc.id, "bob@example.com", "viewer", ann.id, "d1", _later(), 5)
    assert await store.signup_invited("bob@example.com")


async def test_the_user_list_searches_pages_and_counts_documents(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann Smith", "hash")
    await store.register_user("bob@example.com", "Bob", "hash")
    await store.register_user("cy@other.org", "Cy 100%", "hash")
    await store.get_or_create_pending_user("pending@example.com")
    await store.create_document(ann.id, "One")
    await store.create_document(ann.id, "Two")
    await store.create_session(str(uuid.uuid4()), ann.id, "jti", _later())
    everyone, total = await store.list_users("", 10, 0)
    assert total == 3 and [s.user.email for s in everyone] == [
        "ann@example.com",
        "bob@example.com",
        "cy@other.org",
    ]
    assert everyone[0].documents == 2 and everyone[1].documents == 0
    if store.dialect != "memory":
        assert everyone[0].last_sign_in is not None and everyone[1].last_sign_in is None
    page, total = await store.list_users("", 1, 1)
    assert total == 3 and [s.user.email for s in page] == ["bob@example.com"]
    found, total = await store.list_users("SMITH", 10, 0)
    assert total == 1 and found[0].user.id == ann.id
    found, total = await store.list_users("example.com", 10, 0)
    assert total == 2
    found, total = await store.list_users("0%", 10, 0)  # LIKE wildcards are literal
    assert [s.user.email for s in found] == ["cy@other.org"]
    found, total = await store.list_users("_", 10, 0)
    assert total == 0
    assert await store.server_counts() == (3, 2)


async def _with_everything(store: DocumentStore) -> tuple[str, str, str, str, str]:
    """Ann owns a document with a log, a version, grants and an invitation, and holds a grant on
    Bob's document; returns (ann, bob, cy, ann's doc, bob's doc)."""
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    cy = await store.register_user("cy@example.com", "Cy", "hash")
    mine = await store.create_document(ann.id, "Ann's")
    theirs = await store.create_document(bob.id, "Bob's")
    await store.append_ops(mine.id, [NewLogEntry(ann.id, "r1", b"x")])
    await store.append_ops(theirs.id, [NewLogEntry(ann.id, "r1", b"y")])
    await store.create_version(mine.id, 1, "x", "named", "v1", ann.id, keep=5)
    await store.set_permission(mine.id, bob.id, "editor")
    await store.set_permission(mine.id, cy.id, "viewer")
    await store.set_permission(theirs.id, ann.id, "editor")
    await store.create_invitation(mine.id, "dan@example.com", "viewer", ann.id, "t1", _later(), 5)
    await store.create_server_invitation("eve@example.com", ann.id, "s1", _later())
    await store.create_session(str(uuid.uuid4()), ann.id, "jti", _later())
    return ann.id, bob.id, cy.id, mine.id, theirs.id


async def test_deleting_an_account_deletes_its_documents(store: DocumentStore) -> None:
    ann, _bob, cy, mine, theirs = await _with_everything(store)
    outcome = await store.delete_user(ann, None)
    assert outcome is not None
    assert outcome.deleted == (mine,) and outcome.transferred == ()
    assert outcome.grants_removed == (theirs,)
    assert await store.get_user(ann) is None
    assert await store.get_user_by_email("ann@example.com") is None
    assert await store.get_document(mine) is None
    assert await store.get_version(mine, 1) is None
    assert await store.get_invitation("t1") is None
    assert await store.get_server_invitation("s1") is None
    assert [d.id for d, _ in await store.list_documents(cy)] == []
    # The log of Bob's document keeps Ann's edit under her id, with no name any more.
    (entry,) = await store.read_ops(theirs, 0)
    assert entry.user_id == ann and entry.user_name == ""
    found = await store.get_role(theirs, ann)
    assert found is not None and found[1] is None
    assert await store.delete_user(ann, None) is None
    # The address is free again.
    again = await store.register_user("ann@example.com", "Ann", "hash")
    assert again.id != ann


async def test_deleting_an_account_can_hand_its_documents_over(store: DocumentStore) -> None:
    ann, bob, cy, mine, _theirs = await _with_everything(store)
    outcome = await store.delete_user(ann, bob)
    assert outcome is not None
    assert outcome.transferred == (mine,) and outcome.deleted == ()
    doc = await store.get_document(mine)
    assert doc is not None and doc.owner_id == bob
    found = await store.get_role(mine, bob)
    assert found is not None and found[1] == "owner"
    roles = {c.user_id: c.role for c in await store.list_collaborators(mine)}
    assert roles == {bob: "owner", cy: "viewer"}  # Bob's own grant gave way to ownership
    assert len(await store.read_ops(mine, 0)) == 1  # the history stays
    assert await store.get_version(mine, 1) is not None
    assert await store.count_owned_documents(bob) == 2


async def test_an_account_cannot_be_handed_to_itself_or_to_nobody(store: DocumentStore) -> None:
    ann, _bob, _cy, mine, _theirs = await _with_everything(store)
    pending = await store.get_or_create_pending_user("pen@example.com")
    for heir in (ann, str(uuid.uuid4()), pending.id):
        with pytest.raises(NotFoundError):
            await store.delete_user(ann, heir)
    assert await store.get_user(ann) is not None  # nothing happened
    assert await store.get_document(mine) is not None
    assert await store.delete_user(str(uuid.uuid4()), None) is None
    assert await store.delete_user("not-a-uuid", None) is None
