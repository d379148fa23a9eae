"""The contract of single sign-on identities, on every backend: one (issuer, subject) signs in to
one account, never to an invited (pending) user or to a second account."""

from __future__ import annotations

import uuid

import pytest

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import DocumentStore
from docstream.storage.records import NO_PASSWORD

ISSUER = "https://id.example.com"


async def test_an_identity_is_linked_once_to_one_account(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", NO_PASSWORD)
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    assert not ann.pending  # an account without a password is registered, not invited
    assert await store.identity_user(ISSUER, "sub-1") is None
    assert await store.link_identity(ISSUER, "sub-1", ann.id) is True
    assert await store.link_identity(ISSUER, "sub-1", ann.id) is False  # again: no change
    assert await store.identity_user(ISSUER, "sub-1") == ann.id
    with pytest.raises(ConflictError):
        await store.link_identity(ISSUER, "sub-1", bob.id)
    assert await store.identity_user(ISSUER, "sub-1") == ann.id
    # The subject is only unique per issuer; an account may have several identities.
    assert await store.link_identity("https://other.example.com", "sub-1", bob.id) is True
    assert await store.link_identity(ISSUER, "sub-2", ann.id) is True
    assert await store.identity_user("https://other.example.com", "sub-1") == bob.id
    assert await store.identity_user(ISSUER, "SUB-1") is None  # subjects are case-sensitive


async def test_an_identity_is_never_linked_to_an_invited_or_missing_user(
    store: DocumentStore,
) -> None:
    invited = await store.get_or_create_pending_user("carol@example.com")
    with pytest.raises(NotFoundError):
        await store.link_identity(ISSUER, "sub-3", invited.id)
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(NotFoundError):
            await store.link_identity(ISSUER, "sub-3", missing)
    assert await store.identity_user(ISSUER, "sub-3") is None
