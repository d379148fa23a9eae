"""The audit log, on every backend: append with names copied, filters, pagination, purge."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from docstream.errors import StorageError
from docstream.storage.base import AuditFilter, DocumentStore, NewAuditEntry, utcnow


async def test_an_entry_keeps_the_names_and_title_as_they_were(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    doc = await store.create_document(ann.id, "Plans")
    before = utcnow()
    made = await store.append_audit(
        NewAuditEntry(
            action="document.shared",
            actor_id=ann.id,
            ip="203.0.113.9",
            doc_id=doc.id,
            subject_id=bob.id,
            detail={"role": "editor"},
        )
    )
    assert made.actor_email == "ann@example.com" and made.actor_name == "Ann"
    assert made.doc_title == "Plans" and made.subject_name == "Bob"
    assert made.detail == {"role": "editor"} and made.ip == "203.0.113.9"
    assert before - timedelta(seconds=1) <= made.at <= utcnow() + timedelta(seconds=1)
    await store.set_user_name(ann.id, "Ann Renamed")
    await store.rename_document(doc.id, "Other")
    await store.delete_document(doc.id)
    [listed] = await store.list_audit(AuditFilter(doc_id=doc.id))
    assert listed == made  # still the names and title of the moment it happened


async def test_unknown_or_malformed_ids_are_recorded_with_empty_names(
    store: DocumentStore,
) -> None:
    made = await store.append_audit(
        NewAuditEntry(
            action="auth.sign_in_failed",
            actor_id=None,
            doc_id="not-a-uuid",
            subject_id=str(uuid.uuid4()),
            detail={"email": "x@example.com", "reason": "unknown_account"},
        )
    )
    assert (made.actor_id, made.actor_email, made.actor_name) == (None, "", "")
    assert made.doc_id == "not-a-uuid" and made.doc_title == "" and made.subject_name == ""
    assert made.ip is None


async def test_filters_and_newest_first_keyset_pages(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    doc = await store.create_document(ann.id, "Plans")
    other = await store.create_document(bob.id, "Other")
    made = []
    for i in range(7):
        actor = ann if i % 2 == 0 else bob
        made.append(
            await store.append_audit(
                NewAuditEntry(
                    action="document.renamed" if i < 5 else "auth.sign_in",
                    actor_id=actor.id,
                    doc_id=(doc if i < 3 else other).id if i < 5 else None,
                )
            )
        )
    ids = [e.id for e in made]
    assert ids == sorted(ids) and len(set(ids)) == 7
    everything = await store.list_audit(AuditFilter())
    assert [e.id for e in everything] == ids[::-1]
    page1 = await store.list_audit(AuditFilter(), limit=3)
    page2 = await store.list_audit(AuditFilter(), before_id=page1[-1].id, limit=3)
    page3 = await store.list_audit(AuditFilter(), before_id=page2[-1].id, limit=3)
    assert [e.id for e in page1 + page2 + page3] == ids[::-1]
    assert await store.list_audit(AuditFilter(), before_id=ids[0]) == []
    by_doc = await store.list_audit(AuditFilter(doc_id=doc.id))
    assert [e.id for e in by_doc] == ids[2::-1]
    by_actor_id = await store.list_audit(AuditFilter(actor=bob.id))
    by_actor_email = await store.list_audit(AuditFilter(actor=" BOB@example.com "))
    assert [e.id for e in by_actor_id] == [ids[5], ids[3], ids[1]]
    assert by_actor_email == by_actor_id
    assert [e.id for e in await store.list_audit(AuditFilter(action="auth."))] == ids[:4:-1]
    assert await store.list_audit(AuditFilter(action="auth_")) == []  # no wildcards
    assert await store.list_audit(AuditFilter(action="%")) == []
    both = await store.list_audit(AuditFilter(actor=ann.id, action="document.", doc_id=other.id))
    assert [e.id for e in both] == [ids[4]]
    since = await store.list_audit(AuditFilter(since=made[4].at))
    assert {e.id for e in since} >= {ids[4], ids[5], ids[6]}
    assert all(e.at >= made[4].at for e in since)
    until = await store.list_audit(AuditFilter(until=made[0].at))
    assert until == []
    future = await store.list_audit(AuditFilter(since=utcnow() + timedelta(days=1)))
    assert future == []


async def test_purge_deletes_only_older_entries_in_batches(store: DocumentStore) -> None:
    for i in range(5):
        await store.append_audit(NewAuditEntry(action=f"test.{i}"))
    cutoff = utcnow() + timedelta(seconds=1)
    assert await store.purge_audit(utcnow() - timedelta(days=1)) == 0
    assert await store.purge_audit(cutoff, limit=2) == 2
    remaining = await store.list_audit(AuditFilter())
    assert [e.action for e in remaining] == ["test.4", "test.3", "test.2"]  # oldest went first
    assert await store.purge_audit(cutoff) == 3
    assert await store.list_audit(AuditFilter()) == []
    later = await store.append_audit(NewAuditEntry(action="test.after"))
    assert later.id > remaining[0].id  # ids are never reused


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_sql_entries_cannot_be_changed(make_store: object, kind: str) -> None:
    backend = make_store(kind)  # type: ignore[operator]
    async with backend:
        await backend.migrate()
        made = await backend.append_audit(NewAuditEntry(action="auth.sign_in"))
        with pytest.raises(StorageError):
            if kind == "sqlite":
                await backend._write(
                    lambda conn: conn.execute(
                        "UPDATE audit_log SET action = 'x' WHERE id = ?", (made.id,)
                    )
                )
            else:
                await backend._one("UPDATE audit_log SET action = 'x' WHERE id = %s", (made.id,))
        [still] = await backend.list_audit(AuditFilter())
        assert still.action == "auth.sign_in"
