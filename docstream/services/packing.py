"""Packing every document's old log entries, once at start: what converts an existing store.

A Room packs its document's log at a pause in the typing (:mod:`docstream.collab.snapshots`). A
store written before packs existed, a document typed into without a pause until a crash, or one
nobody has opened since, still holds a row per edit: :data:`START_DELAY` seconds after start (the
reconnecting clients and the loads after a restart go first) this service walks every document in
the background and packs what lies more than a pack below its latest snapshot, a pack at a time
with a pause between packs, logging its progress. Each pack is its own short transaction, so the
server serves meanwhile; a restart halfway simply goes on where packing stopped (packs are
aligned and only whole ones are written). Every node may run it; a pack written twice is refused
by its primary key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from docstream.errors import DocStreamError
from docstream.storage.base import DocumentStore
from docstream.storage.packs import PACK_ROWS

log = logging.getLogger(__name__)


#: Seconds after start before packing begins: the first minutes after a restart are when every
#: client reconnects and every document is loaded again, and packing costs CPU.
START_DELAY = 30.0
#: A pause between two packs, so that the event loop is never held for long.
PAUSE = 0.05


class LogPacker:
    """An async context manager packing every document's log once, in the background."""

    def __init__(
        self, store: DocumentStore, *, delay: float = START_DELAY, pause: float = PAUSE
    ) -> None:
        self._store = store
        self._delay = delay
        self._pause = pause
        self._task: asyncio.Task[None] | None = None

    async def _pack(self, doc_id: str) -> int:
        """One document, a pack at a time with a pause between packs; entries moved."""
        seq = await self._store.snapshot_seq(doc_id)
        if seq is None:
            return 0
        moved = 0
        # What a load from that snapshot no longer replays, one pack per call (a document packed
        # already costs one read).
        while packed := await self._store.pack_log(doc_id, seq - PACK_ROWS, max_packs=1):
            moved += packed
            await asyncio.sleep(self._pause)
        return moved

    async def pack_all(self) -> int:
        """Pack every document; return the entries moved."""
        started = time.monotonic()
        documents = [doc_id for doc_id, _, _ in await self._store.all_document_titles()]
        moved = 0
        last_report = started
        for done, doc_id in enumerate(documents, 1):
            try:
                moved += await self._pack(doc_id)
            except DocStreamError as exc:
                log.warning("cannot pack the log of document %s: %s", doc_id, exc.detail)
            if moved and time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                log.info("packing old log entries: %d of %d documents", done, len(documents))
        if moved:
            log.info(
                "packed %d old log entries of %d documents in %.1f s",
                moved,
                len(documents),
                time.monotonic() - started,
            )
        return moved

    async def _run(self) -> None:
        await asyncio.sleep(self._delay)
        try:
            await self.pack_all()
        except DocStreamError as exc:
            log.warning("packing old log entries stopped (%s); the next start goes on", exc)
        except Exception:  # a background task: the server serves on without packing
            log.exception("packing old log entries failed unexpectedly")

    async def finished(self) -> None:
        """Wait until the background packing is done (or stopped)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def __aenter__(self) -> LogPacker:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="log-packer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
