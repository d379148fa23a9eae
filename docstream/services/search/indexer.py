"""Keeping the search index in step with the documents, off the commit path.

The indexer is an extension. A committed change, a new, renamed or restored document only
*schedules* the document (a dict entry): the Room's worker never waits for indexing. A task of its
own re-indexes a scheduled document :attr:`delay` seconds after its last change (so a burst of
typing is indexed once), and at the latest ``4 * delay`` after the first one (so typing that
never pauses is still indexed). It reads the title and the current text and stores them with the
seq the text reflects (``DocumentStore.index_for_search``); an older text never replaces a newer
one, so two nodes indexing the same document cannot go backwards.

**Nothing is lost.** What was scheduled lives only in memory, so the indexer also *catches up*:
when it starts, and every ``catchup_interval`` seconds, it asks the store for every live document
whose log seq is past its indexed seq or whose title changed (``DocumentStore.search_backlog``) and
indexes them. That covers a crash or a stop between a commit and its indexing, edits committed by
other nodes of a cluster (their ``ChangeCommitted`` is heard only there), imports, restores of
versions and a database restored from a backup. A document moved to the trash needs nothing: the
query skips trashed documents, and a purge deletes its entry with it.

Texts are read without opening a Room: a document open on this node gives its text in its Room's
order (``Hub.current_text``), any other is loaded from its snapshot and log and released.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from docstream.collab import slices
from docstream.collab.extensions import (
    ChangeCommitted,
    DocumentCreated,
    DocumentDeleted,
    DocumentRenamed,
    DocumentRestored,
    Extension,
)
from docstream.collab.loader import load_document
from docstream.errors import DocStreamError
from docstream.storage.base import DocumentStore
from docstream.storage.search import MAX_INDEXED_CHARS

log = logging.getLogger(__name__)

#: Documents asked of the store per catch-up round.
BACKLOG_BATCH = 500


class SearchTextSource(Protocol):
    """The Hub: which documents are open here, and their text in Room order."""

    def open_seq(self, doc_id: str) -> int | None: ...

    async def current_text(self, doc_id: str) -> tuple[str, int]: ...


class SearchIndexer(Extension):
    """An async context manager: catches up when entered, then indexes what it hears."""

    name = "search"

    def __init__(
        self,
        store: DocumentStore,
        texts: SearchTextSource,
        *,
        delay: float,
        catchup_interval: float,
    ) -> None:
        self._store = store
        self._texts = texts
        self.delay = delay
        self.catchup_interval = catchup_interval
        self._due: dict[str, float] = {}  # doc id -> when to index it (monotonic)
        self._first: dict[str, float] = {}  # doc id -> when it was first scheduled
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: How many documents were indexed since start (for tests and health).
        self.indexed = 0

    # --- hooks (cheap: never wait for indexing) -------------------------------------------------

    def schedule(self, doc_id: str) -> None:
        now = time.monotonic()
        first = self._first.setdefault(doc_id, now)
        self._due[doc_id] = min(now + self.delay, first + 4 * self.delay)
        self._wake.set()

    async def change_committed(self, event: ChangeCommitted) -> None:
        self.schedule(event.doc_id)

    async def document_created(self, event: DocumentCreated) -> None:
        self.schedule(event.doc.id)

    async def document_renamed(self, event: DocumentRenamed) -> None:
        self.schedule(event.doc.id)

    async def document_restored(self, event: DocumentRestored) -> None:
        self.schedule(event.doc.id)

    async def document_deleted(self, event: DocumentDeleted) -> None:
        self._due.pop(event.doc_id, None)
        self._first.pop(event.doc_id, None)

    # --- the work -------------------------------------------------------------------------------

    async def _text(self, doc_id: str) -> tuple[str, int]:
        if self._texts.open_seq(doc_id) is not None:
            return await self._texts.current_text(doc_id)
        doc, seq = await load_document(self._store, doc_id)
        try:
            return await slices.text(doc), seq
        finally:
            await slices.release(doc)

    async def index_now(self, doc_id: str) -> bool:
        """Index one document as it is now; False if it is gone or in the trash."""
        record = await self._store.get_document(doc_id)
        if record is None:
            return False
        text, seq = await self._text(doc_id)
        # A PostgreSQL text holds no NUL; the rest of a long text is not searched.
        body = text[:MAX_INDEXED_CHARS].replace("\x00", " ")
        stored = await self._store.index_for_search(doc_id, record.title, body, seq)
        if stored:
            self.indexed += 1
        return stored

    async def catch_up(self) -> int:
        """Index every document the store says is behind; how many were indexed."""
        done: set[str] = set()
        while True:
            pending = [d for d in await self._store.search_backlog(BACKLOG_BATCH) if d not in done]
            if not pending:
                return len(done)
            for doc_id in pending:
                done.add(doc_id)  # at most once per round, even if it keeps failing
                await self._index_logged(doc_id)

    async def _index_logged(self, doc_id: str) -> None:
        try:
            await self.index_now(doc_id)
        except DocStreamError as exc:
            log.warning("search indexing of %s failed (%s); will retry", doc_id, exc)
        except Exception:  # the indexer must outlive any one document
            log.exception("search indexing of %s failed unexpectedly", doc_id)

    async def _catch_up_logged(self) -> None:
        try:
            count = await self.catch_up()
            if count:
                log.info("search index caught up on %d documents", count)
        except DocStreamError as exc:
            log.warning("search catch-up failed (%s); will retry", exc)
        except Exception:
            log.exception("search catch-up failed unexpectedly")

    async def _run(self) -> None:
        await self._catch_up_logged()
        next_catchup = time.monotonic() + self.catchup_interval
        while True:
            now = time.monotonic()
            ready = [d for d, at in self._due.items() if at <= now]
            for doc_id in ready:
                del self._due[doc_id]
                self._first.pop(doc_id, None)
                await self._index_logged(doc_id)
            now = time.monotonic()
            if now >= next_catchup:
                await self._catch_up_logged()
                next_catchup = time.monotonic() + self.catchup_interval
            wake_at = min([next_catchup, *self._due.values()])
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, wake_at - time.monotonic()))

    async def __aenter__(self) -> SearchIndexer:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="search-indexer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
