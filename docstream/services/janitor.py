"""Periodic clean-up of rows that would otherwise grow forever: the ``replicas`` table.

Every editing session (a browser tab, a Python client) binds a fresh replica id to its user, so the
table gains a row per session. Rows of replicas that never wrote to the ops log and were not seen
for ``replica_retention_days`` are deleted, a bounded batch at a time, every
``replica_prune_interval`` seconds. Replicas that authored log entries are kept forever: their
binding is what stops anyone else from using that id to forge characters in someone's name. A
pruned replica that comes back (a tab left open for weeks) is simply bound again by its next
``hello``. Every node runs the janitor; the deletes are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from docstream.errors import DocStreamError
from docstream.storage.base import DocumentStore, utcnow

log = logging.getLogger(__name__)
BATCH = 10_000


class ReplicaJanitor:
    """An async context manager running :meth:`prune_once` every ``interval`` seconds."""

    def __init__(self, store: DocumentStore, *, retention_days: float, interval: float) -> None:
        self._store = store
        self._retention = timedelta(days=retention_days)
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def prune_once(self) -> int:
        """Delete forgettable replicas (in batches until none is left); return how many."""
        total = 0
        cutoff = utcnow() - self._retention
        while True:
            removed = await self._store.prune_replicas(cutoff, BATCH)
            total += removed
            if removed < BATCH:
                break
            await asyncio.sleep(0)  # let other work run between batches
        if total:
            log.info("pruned %d replica ids unused since %s", total, cutoff.date())
        return total

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.prune_once()
            except DocStreamError as exc:
                log.warning("replica pruning failed (%s); will retry", exc)
            except Exception:  # the janitor must outlive any one failure
                log.exception("replica pruning failed unexpectedly")

    async def __aenter__(self) -> ReplicaJanitor:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="replica-janitor")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
