"""The audit log: every ``ActionTaken`` becomes a durable entry, and old entries are purged.

Registered last among the extensions: the entry is written before ``emit`` returns, so the request
that caused it has its entry once it completes (no queue that a crash could lose). A failed write
is logged and swallowed: the audit log never fails the request it records. The routes emit
``ActionTaken`` themselves because they know who acted and from where; the typed events without a
person or an address (a room opened, a change committed) are not audit material.

Retention: entries older than ``audit_retention_days`` (0: forever) are deleted, a bounded batch
at a time, every ``audit_purge_interval`` seconds, on every node (the deletes are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from docstream.collab.extensions import ActionTaken, Extension
from docstream.storage.base import DocumentStore, NewAuditEntry, utcnow

log = logging.getLogger(__name__)
BATCH = 10_000
#: The longest value kept for one detail (an address as typed can be anything).
MAX_DETAIL = 200


def _clean(value: str) -> str:
    """Bounded, and without NUL (PostgreSQL's text and jsonb cannot hold it): U+FFFD instead."""
    return value[:MAX_DETAIL].replace("\x00", "\ufffd")


class AuditLog(Extension):
    """The ``action_taken`` hook and the retention task (an async context manager)."""

    name = "audit"

    def __init__(self, store: DocumentStore, *, retention_days: float, interval: float) -> None:
        self._store = store
        self._retention = timedelta(days=retention_days) if retention_days > 0 else None
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        #: Entries that could not be written (for ``/health`` and the tests).
        self.failures = 0

    async def action_taken(self, event: ActionTaken) -> None:
        entry = NewAuditEntry(
            action=_clean(event.action),
            actor_id=event.actor_id,
            ip=event.ip,
            doc_id=event.doc_id,
            subject_id=event.subject_id,
            detail={_clean(k): _clean(v) for k, v in event.detail},
        )
        try:
            await self._store.append_audit(entry)
        except Exception:  # never the reason a request fails; the log says what was lost
            self.failures += 1
            log.exception(
                "audit entry lost: %s by %s on %s", event.action, event.actor_id, event.doc_id
            )

    async def purge_once(self) -> int:
        """Delete the entries past the retention (in batches until none is left)."""
        if self._retention is None:
            return 0
        total = 0
        cutoff = utcnow() - self._retention
        while True:
            removed = await self._store.purge_audit(cutoff, BATCH)
            total += removed
            if removed < BATCH:
                break
            await asyncio.sleep(0)
        if total:
            log.info("purged %d audit entries older than %s", total, cutoff.date())
        return total

    async def _run(self) -> None:
        while True:
            try:
                await self.purge_once()
            except Exception:  # the task must outlive any one failure
                log.exception("audit purge failed; will retry")
            await asyncio.sleep(self._interval)

    async def __aenter__(self) -> AuditLog:
        if self._retention is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-purge")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
