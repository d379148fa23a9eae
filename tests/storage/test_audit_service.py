"""The audit log extension on every backend: an ActionTaken is stored before emit returns, a
write that fails is logged and never raised, and retention purges what is older."""

from __future__ import annotations

import asyncio
import logging

import pytest

from docstream.collab.extensions import ActionTaken, Extensions
from docstream.services.audit import AuditLog
from docstream.storage.base import AuditFilter, DocumentStore, NewAuditEntry
from docstream.storage.memory import MemoryDocumentStore


async def test_an_action_is_stored_before_emit_returns(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    audit = AuditLog(store, retention_days=365, interval=3600)
    extensions = Extensions([audit])
    await extensions.emit(
        ActionTaken(
            action="auth.sign_in",
            actor_id=ann.id,
            ip="192.0.2.1",
            detail=(("method", "password"), ("long", "x" * 1000)),
        )
    )
    [entry] = await store.list_audit(AuditFilter())
    assert (entry.action, entry.actor_id, entry.actor_name, entry.ip) == (
        "auth.sign_in",
        ann.id,
        "Ann",
        "192.0.2.1",
    )
    assert entry.detail == {"method": "password", "long": "x" * 200}  # bounded


async def test_a_failed_write_is_logged_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    closed = MemoryDocumentStore()  # never opened: every call fails
    audit = AuditLog(closed, retention_days=365, interval=3600)
    with caplog.at_level(logging.ERROR, logger="docstream.services.audit"):
        await audit.action_taken(ActionTaken(action="auth.sign_in", actor_id=None))
    assert audit.failures == 1
    assert "audit entry lost: auth.sign_in" in caplog.text


async def test_retention_purges_older_entries_and_zero_keeps_them(store: DocumentStore) -> None:
    for i in range(3):
        await store.append_audit(NewAuditEntry(action=f"test.{i}"))
    forever = AuditLog(store, retention_days=0, interval=3600)
    assert await forever.purge_once() == 0
    a_year = AuditLog(store, retention_days=365, interval=3600)
    assert await a_year.purge_once() == 0
    assert len(await store.list_audit(AuditFilter())) == 3
    instant = AuditLog(store, retention_days=1e-9, interval=3600)  # ~0.1 ms
    await asyncio.sleep(0.01)  # the entries are older than that now
    assert await instant.purge_once() == 3
    assert await store.list_audit(AuditFilter()) == []


async def test_the_purge_task_runs_at_start_and_stops_with_the_context(
    store: DocumentStore,
) -> None:
    await store.append_audit(NewAuditEntry(action="test.old"))
    await asyncio.sleep(0.01)
    async with AuditLog(store, retention_days=1e-9, interval=3600) as audit:
        for _ in range(200):
            if not await store.list_audit(AuditFilter()):
                break
            await store.ping()
        assert await store.list_audit(AuditFilter()) == []
    assert audit._task is not None and audit._task.done()
