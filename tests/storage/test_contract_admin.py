"""The administrator flag and disabled accounts, on every backend."""

from __future__ import annotations

import uuid

from docstream.storage.base import DocumentStore


async def test_a_registered_user_can_be_made_an_administrator_and_back(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    assert not ann.is_admin and await store.count_admins() == 0
    promoted = await store.set_admin(ann.id, True)
    assert promoted is not None and promoted.is_admin
    assert await store.get_user(ann.id) == promoted
    assert (await store.get_user_by_email("ann@example.com")) == promoted
    assert await store.count_admins() == 1
    demoted = await store.set_admin(ann.id, False)
    assert demoted is not None and not demoted.is_admin
    assert await store.count_admins() == 0


async def test_an_invited_address_or_an_unknown_id_cannot_be_made_an_administrator(
    store: DocumentStore,
) -> None:
    pending = await store.get_or_create_pending_user("bob@example.com")
    assert await store.set_admin(pending.id, True) is None
    assert await store.set_admin(str(uuid.uuid4()), True) is None
    assert await store.set_admin("not-a-uuid", True) is None
    assert await store.count_admins() == 0


async def test_disabling_keeps_the_first_time_and_enabling_clears_it(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    await store.set_admin(ann.id, True)
    disabled = await store.set_disabled(ann.id, True)
    assert disabled is not None and disabled.disabled and disabled.disabled_at is not None
    again = await store.set_disabled(ann.id, True)
    assert again is not None and again.disabled_at == disabled.disabled_at
    assert await store.count_admins() == 0  # a disabled administrator administers nothing
    enabled = await store.set_disabled(ann.id, False)
    assert enabled is not None and not enabled.disabled and enabled.is_admin
    assert await store.count_admins() == 1
    assert await store.set_disabled(str(uuid.uuid4()), True) is None
