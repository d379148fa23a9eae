"""Document titles for ``GET /suggest/titles``: one global trie, kept in step with the database.

Every word of a title is indexed (see :mod:`~docstream.services.typeahead.title_entries`): a
query matches the start of any word ("notes" finds "Team notes"). Entries end in ``|<doc id>``
(a title may contain ``|``; the id after the last one is a UUID), so equal titles of different
documents are distinct entries and a result names its document. A document is suggested once, by
its best entry: an exact prefix of the whole title first, then of a later word, then one-typo
matches (whole title before word), each by frequency and then entry.

**Writes** come from the document events of this node (the service is an extension) and from the
``titles`` peer messages of the others. They are queued and applied by one background
task, in batches (one WAL sync per batch, off the event loop), each with 3 attempts and exponential
backoff; a failed attempt is logged as a warning, a batch that fails all three as an error and
counted in :attr:`TitleService.failed_writes` (shown under ``/health`` ``details``). A failure also
marks the index stale, and the next housekeeping round reconciles it.

**Reconciliation** with the database (the truth) adds missing titles and removes stale ones: before
the node serves, after a broker reconnection (events may have been lost meanwhile) and after a
failed write. So titles never go missing, whatever happened to the files or the process: a ``kill
-9`` loses at most the queued changes, which the next start re-adds. With more entries (words of
titles) than ``titles_max_words``, the most recently created documents are indexed.

**Fairness between owners.** The index holds at most ``titles_max_per_owner`` entries (words of
titles) of any one owner: a user who creates thousands of documents pushes out their own oldest
titles, never other people's (the trie's LRU bound alone would let one account evict everybody).
Such an owner's searches also look through their own documents in the database when the index
has too few matches, so their unindexed titles are still found by them.

**Reads** run the adaptive permission loop: take ``3 * limit`` candidate entries, ask the database
which of their documents the caller can open (one query), keep those, and double the pool (up to
:data:`MAX_POOL`) while too few are left and the trie has more; each round checks only the
candidates it has not checked yet. Past :data:`MAX_POOL`, one last look at :data:`LAST_POOL`
candidates settles a prefix shared by up to that many titles (1,000 inaccessible documents
cannot hide 3 accessible ones ranked after them). Only a prefix shared by more titles than that
falls back to the caller's own documents (one more query, costing O(their documents)), so
nothing the caller can open is ever hidden behind other people's titles.

Nothing about a document the caller cannot open is returned: no title, no id, no count (the
response has at most ``limit`` entries, all accessible). The response time does grow with the
number of inaccessible titles ranked first under a prefix (more rounds): a timing signal about
how popular a prefix is, not about any one document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from docstream.collab.extensions import (
    BrokerReconnected,
    DocumentCreated,
    DocumentDeleted,
    DocumentRenamed,
    DocumentRestored,
    Extension,
    PeerMessage,
)
from docstream.errors import DocStreamError
from docstream.services.documents import DocumentService
from docstream.services.identity import Identity
from docstream.services.typeahead.stores import (
    Slot,
    StoreOpener,
    claim_slot,
    open_store,
    typeahead_directory,
)
from docstream.services.typeahead.title_entries import (
    Barrier,
    Candidate,
    Control,
    DropTitle,
    Item,
    Reconcile,
    SetTitle,
    Stop,
    TitleSuggestion,
    candidate,
    clean_query,
    entries_for,
    event_decoder,
    fitting,
    merge_candidates,
    ranked,
    reconcile_mutations,
)
from docstream.services.typeahead.title_ledger import TitleLedger, keep_per_owner
from docstream.settings import Settings
from docstream.storage.base import DocumentStore
from docstream.typeahead.durable import DurableTrie, Mutation
from docstream.typeahead.trie import Suggestion, fold

log = logging.getLogger(__name__)

#: The pool the permission loop doubles up to.
MAX_POOL = 1000
#: One last, larger look before falling back to the caller's own documents.
LAST_POOL = 2 * MAX_POOL
#: The most queued changes applied with one WAL sync.
MAX_BATCH = 1000
#: Attempts per write before it counts as failed.
ATTEMPTS = 3

Publish = Callable[[str, bytes], Awaitable[None]]
#: The topic of this service's peer messages.
PEER_TOPIC = "titles"


class TitleService(Extension):
    """The title index of this node. An async context manager and an extension (see the module
    docstring).

    Args:
        store: the database, read to reconcile.
        documents: answers which documents a caller can open.
        settings: ``data_dir`` and the ``titles_*`` budget and snapshot thresholds.
        publish: tells the other nodes (``Cluster.publish_peer``); None without a cluster.
        opener: how the store is opened (tests inject failures).
        backoff: seconds before the second attempt of a write (doubled before the third).
        housekeeping: seconds between snapshot checks and retries of a failed reconciliation.
    """

    name = "titles"

    def __init__(
        self,
        store: DocumentStore,
        documents: DocumentService,
        settings: Settings,
        *,
        publish: Publish | None = None,
        opener: StoreOpener = DurableTrie.open,
        backoff: float = 0.2,
        housekeeping: float = 30.0,
    ) -> None:
        self._store = store
        self._documents = documents
        self._settings = settings
        self._publish = publish
        self._opener = opener
        self._backoff = backoff
        self._housekeeping = housekeeping
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._trie: DurableTrie | None = None
        self._slot: Slot | None = None
        self._task: asyncio.Task[None] | None = None
        #: What was written, by document and by owner (see TitleLedger).
        self._ledger = TitleLedger()
        self.failed_writes = 0
        self.stale = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> TitleService:
        settings = self._settings
        self._slot = await asyncio.to_thread(claim_slot, typeahead_directory(settings), "titles")
        try:
            self._trie = await asyncio.to_thread(
                open_store,
                self._opener,
                self._slot.directory,
                "titles",
                max_words=settings.titles_max_words,
                snapshot_writes=settings.titles_snapshot_writes,
                snapshot_interval=settings.titles_snapshot_interval,
            )
        except BaseException:
            self._slot.release()
            raise
        self._task = asyncio.get_running_loop().create_task(self._run(), name="titles-writer")
        await self.reconcile()  # before the node serves: titles never go missing
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._queue.put_nowait(Stop())
            try:
                await asyncio.wait_for(self._task, self._settings.shutdown_timeout)
            except TimeoutError:
                log.warning("title index: %d changes not written at shutdown", self.pending)
            finally:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        try:
            if self._trie is not None:
                await asyncio.to_thread(self._trie.close)
        except DocStreamError as exc:
            log.warning("title index: final snapshot failed (%s); the WAL has every write", exc)
        finally:
            if self._slot is not None:
                self._slot.release()

    @property
    def trie(self) -> DurableTrie:
        assert self._trie is not None, "use the TitleService as an async context manager"
        return self._trie

    @property
    def pending(self) -> int:
        """Changes queued and not written yet."""
        return self._queue.qsize()

    def health(self) -> dict[str, Any]:
        """For ``/health``: counters only (a word count would tell anyone how many documents
        exist)."""
        stats = self._trie.stats() if self._trie is not None else None
        return {
            "failed_writes": self.failed_writes,
            "pending_writes": self.pending,
            "stale": self.stale,
            "snapshot_failures": stats.snapshot_failures if stats else 0,
        }

    async def reconcile(self) -> None:
        """Bring the index in line with the database, after the changes queued before it."""
        item = Reconcile()
        self._queue.put_nowait(item)
        await asyncio.shield(item.done)

    async def flush(self) -> None:
        """Wait until every change queued so far is written (or has failed)."""
        item = Barrier()
        self._queue.put_nowait(item)
        await asyncio.shield(item.done)

    async def resync(self) -> None:
        """Queue a reconciliation without waiting (after a broker reconnection)."""
        self._queue.put_nowait(Reconcile())

    # --- extension hooks and peer messages -----------------------------------------------------

    async def document_created(self, event: DocumentCreated) -> None:
        doc = event.doc
        await self._change(SetTitle(doc.id, doc.title, doc.owner_id))

    async def document_renamed(self, event: DocumentRenamed) -> None:
        doc = event.doc
        await self._change(SetTitle(doc.id, doc.title, doc.owner_id))

    async def document_deleted(self, event: DocumentDeleted) -> None:
        await self._change(DropTitle(event.doc_id))

    async def document_restored(self, event: DocumentRestored) -> None:
        doc = event.doc
        await self._change(SetTitle(doc.id, doc.title, doc.owner_id))

    async def broker_reconnected(self, event: BrokerReconnected) -> None:
        await self.resync()  # events may have been lost meanwhile

    async def peer_message(self, event: PeerMessage) -> None:
        if event.topic == PEER_TOPIC:
            await self.on_cluster_event(event.body)

    async def on_cluster_event(self, body: bytes) -> None:
        """A ``titles`` message from another node: apply it here too (never re-published)."""
        try:
            event = event_decoder.decode(body)
        except msgspec.DecodeError:
            log.warning("title index: ignored an unreadable cluster event")
            return
        self._queue.put_nowait(event)

    async def _change(self, event: SetTitle | DropTitle) -> None:
        self._queue.put_nowait(event)
        if self._publish is not None:
            await self._publish(PEER_TOPIC, msgspec.json.encode(event))

    # --- reads -------------------------------------------------------------------------------

    async def suggest(self, caller: Identity, query: str, limit: int) -> list[TitleSuggestion]:
        """Titles with a word starting with ``query`` (then one typo away) among documents the
        caller can open; ranked as the module docstring says; at most ``limit``. A blank query
        suggests nothing.
        """
        text = clean_query(query)
        if not text.strip() or limit < 1:
            return []
        key = fold(text)
        best: dict[str, Candidate] = {}  # doc id -> its best entry seen so far
        allowed: set[str] = set()
        pool = min(3 * limit, MAX_POOL)
        while True:
            candidates = self.trie.fuzzy_suggest(text, pool)
            fresh = merge_candidates(candidates, key, best)
            if fresh:
                allowed |= await self._documents.accessible(caller, fresh, include_public=False)
            if len(allowed) >= limit or len(candidates) < pool:
                if len(allowed) < limit and caller.user_id in self._ledger.overflowing:
                    return await self._with_own_documents(caller, key, limit, best, allowed)
                return ranked(best, allowed, limit)
            if pool >= LAST_POOL:
                break
            pool = min(2 * pool, MAX_POOL) if pool < MAX_POOL else LAST_POOL
        # More than LAST_POOL candidates and still too few: the caller's own documents.
        return await self._with_own_documents(caller, key, limit, best, allowed)

    async def _with_own_documents(
        self,
        caller: Identity,
        key: str,
        limit: int,
        best: dict[str, Candidate],
        allowed: set[str],
    ) -> list[TitleSuggestion]:
        for doc, _role in await self._documents.list_for(caller):
            if doc.id in allowed:
                continue
            exact = [
                found
                for entry in entries_for(doc.id, doc.title)
                if (found := candidate(Suggestion(entry, max(1, self.trie.frequency(entry))), key))
                and not found.rank[0]  # exact prefixes only
            ]
            if exact:
                best[doc.id] = min(exact, key=lambda c: c.rank)
                allowed.add(doc.id)
        return ranked(best, allowed, limit)

    # --- the writer --------------------------------------------------------------------------

    async def _run(self) -> None:
        """Apply queued changes in order, in batches; reconcile when asked; stop on Stop."""
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), self._housekeeping)
            except TimeoutError:
                await self._housekeep()
                continue
            control: Control | None = None
            try:
                if isinstance(item, Control):
                    control = item
                else:
                    batch, control = self._take_batch(item)
                    await self._write(batch)
                if isinstance(control, Reconcile):
                    await self._reconcile()
            except Exception:  # the writer must outlive any one bad change
                log.exception("title index: unexpected error in the writer")
                self.stale = True
            finally:
                if control is not None:
                    control.finish()
            if isinstance(control, Stop):
                return

    def _take_batch(
        self, first: SetTitle | DropTitle
    ) -> tuple[list[SetTitle | DropTitle], Control | None]:
        batch: list[SetTitle | DropTitle] = [first]
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if isinstance(item, Control):
                return batch, item
            batch.append(item)
        return batch, None

    async def _write(self, batch: list[SetTitle | DropTitle]) -> None:
        plan = self._ledger.plan(batch, self._settings.titles_max_per_owner)
        if plan.mutations and not await self._apply(
            plan.mutations, f"{len(batch)} title change(s)"
        ):
            self.failed_writes += len(batch)
            self.stale = True
            return
        self._ledger.commit(plan)

    async def _reconcile(self) -> None:
        try:
            rows = await self._store.all_document_titles()
        except DocStreamError as exc:
            log.warning("title index: cannot read the titles to reconcile (%s); will retry", exc)
            self.stale = True
            return
        kept, overflowing = keep_per_owner(rows, self._settings.titles_max_per_owner)
        if overflowing:
            log.info(
                "title index: %d owner(s) have more than titles_max_per_owner=%d entries; "
                "their oldest titles are not indexed",
                len(overflowing),
                self._settings.titles_max_per_owner,
            )
        fit = fitting(kept, self.trie.max_words)
        if fit < len(kept):
            log.warning(
                "title index: the words of %d documents exceed titles_max_words=%d; the oldest "
                "%d are not indexed",
                len(kept),
                self.trie.max_words,
                len(kept) - fit,
            )
            kept = kept[:fit]
        kept.reverse()  # oldest first, as the trie's recency order wants
        desired = {doc_id: entries_for(doc_id, title) for doc_id, title, _ in kept}
        mutations = reconcile_mutations(self.trie, desired)
        if mutations and not await self._apply(mutations, "reconciliation"):
            self.failed_writes += 1
            self.stale = True
        else:
            self._ledger = TitleLedger.of(kept, overflowing)
            self.stale = False
            if mutations:
                log.info("title index: reconciled with the database (%d changes)", len(mutations))

    async def _apply(self, mutations: list[Mutation], what: str) -> bool:
        """Write ``mutations`` with up to ATTEMPTS tries; False (logged) if all fail."""
        delay = self._backoff
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await asyncio.to_thread(self.trie.apply, mutations)
                return True
            except Exception as exc:  # PersistenceError mostly; anything else is as fatal
                if attempt == ATTEMPTS:
                    log.error("title index: %s failed %d times, giving up: %s", what, attempt, exc)
                    return False
                log.warning(
                    "title index: %s failed (attempt %d of %d): %s; retrying in %.2f s",
                    what,
                    attempt,
                    ATTEMPTS,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
        return False  # pragma: no cover - the loop always returns

    async def _housekeep(self) -> None:
        try:
            await asyncio.to_thread(self.trie.maybe_snapshot)
        except Exception:
            log.exception("title index: snapshot check failed")
        if self.stale and self._queue.empty():
            self._queue.put_nowait(Reconcile())
