"""Password reset links and personal API tokens, on every backend."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from docstream.errors import NotFoundError, QuotaExceededError
from docstream.storage.base import DocumentStore, utcnow


async def test_a_reset_sets_the_password_once_and_ends_every_other_reset_of_the_user(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "old-hash")
    bob = await store.register_user("bob@example.com", "Bob", "bob-hash")
    later = utcnow() + timedelta(hours=1)
    await store.create_password_reset(ann.id, "h1", later)
    await store.create_password_reset(ann.id, "h2", later)
    await store.create_password_reset(bob.id, "hb", later)
    changed = await store.redeem_password_reset("h1", "new-hash")
    assert changed is not None and changed.id == ann.id and changed.password_hash == "new-hash"
    assert (await store.get_user(ann.id)) == changed
    assert await store.redeem_password_reset("h1", "again") is None  # used up
    assert await store.redeem_password_reset("h2", "again") is None  # the other one went too
    assert (await store.get_user(ann.id)).password_hash == "new-hash"  # type: ignore[union-attr]
    bobs = await store.redeem_password_reset("hb", "bob-new")  # another user's is untouched
    assert bobs is not None and bobs.id == bob.id


async def test_an_expired_or_unknown_reset_changes_nothing(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "old-hash")
    await store.create_password_reset(ann.id, "gone", utcnow() - timedelta(seconds=1))
    assert await store.redeem_password_reset("gone", "new-hash") is None
    assert await store.redeem_password_reset("never-issued", "new-hash") is None
    assert (await store.get_user(ann.id)).password_hash == "old-hash"  # type: ignore[union-attr]


async def test_resets_exist_only_for_registered_users(store: DocumentStore) -> None:
    pending = await store.get_or_create_pending_user("invited@example.com")
    later = utcnow() + timedelta(hours=1)
    with pytest.raises(NotFoundError):
        await store.create_password_reset(pending.id, "h", later)
    with pytest.raises(NotFoundError):
        await store.create_password_reset(str(uuid.uuid4()), "h", later)
    with pytest.raises(NotFoundError):
        await store.create_password_reset("not-a-uuid", "h", later)


async def test_api_tokens_are_listed_found_by_hash_touched_and_revoked(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    later = utcnow() + timedelta(days=30)
    first = await store.create_api_token(ann.id, "ci", "read", "th1", None, 10)
    second = await store.create_api_token(ann.id, "backup", "read-write", "th2", later, 10)
    await store.create_api_token(bob.id, "bob's", "read", "thb", None, 10)
    assert first.scope == "read" and first.expires_at is None and first.last_used_at is None
    assert second.expires_at is not None
    assert abs((second.expires_at - later).total_seconds()) < 1
    assert [t.id for t in await store.list_api_tokens(ann.id)] == [first.id, second.id]
    found = await store.get_api_token("th2")
    assert found is not None and found.id == second.id and found.user_id == ann.id
    assert found.name == "backup" and found.scope == "read-write"
    assert await store.get_api_token("nope") is None
    used = utcnow()
    await store.touch_api_token(first.id, used)
    touched = await store.get_api_token("th1")
    assert touched is not None and touched.last_used_at is not None
    assert abs((touched.last_used_at - used).total_seconds()) < 1
    await store.touch_api_token(str(uuid.uuid4()), used)  # unknown: no error
    assert not await store.delete_api_token(bob.id, first.id)  # not Bob's to revoke
    assert await store.get_api_token("th1") is not None
    assert await store.delete_api_token(ann.id, first.id)
    assert not await store.delete_api_token(ann.id, first.id)
    assert not await store.delete_api_token(ann.id, "not-a-uuid")
    assert await store.get_api_token("th1") is None
    assert [t.id for t in await store.list_api_tokens(ann.id)] == [second.id]


async def test_expired_api_tokens_are_neither_found_nor_listed_nor_counted(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    past = utcnow() - timedelta(seconds=1)
    await store.create_api_token(ann.id, "old", "read", "old", past, 1)
    assert await store.get_api_token("old") is None
    assert await store.list_api_tokens(ann.id) == []
    fresh = await store.create_api_token(ann.id, "new", "read", "new", None, 1)  # quota of 1
    with pytest.raises(QuotaExceededError):
        await store.create_api_token(ann.id, "more", "read", "more", None, 1)
    assert [t.id for t in await store.list_api_tokens(ann.id)] == [fresh.id]
    with pytest.raises(NotFoundError):
        await store.create_api_token(str(uuid.uuid4()), "x", "read", "x", None, 1)


async def test_a_refused_token_creation_changes_nothing(store: DocumentStore) -> None:
    """Over quota, the whole creation is refused: the expired tokens it would have pruned stay
    (revoking one still finds it), on every backend alike."""
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    await store.create_api_token(ann.id, "live", "read", "live", None, 1)
    expired = await store.create_api_token(bob.id, "old", "read", "old", utcnow(), 1)
    with pytest.raises(QuotaExceededError):
        await store.create_api_token(ann.id, "more", "read", "more", None, 1)
    assert await store.delete_api_token(bob.id, expired.id)
