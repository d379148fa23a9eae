"""Document titles for ``GET /suggest/titles``: one global trie, kept in step with the database.

Entries are ``"<title>|<doc id>"`` (a title may contain ``|``; the id after the last one is a UUID),
so equal titles of different documents are distinct entries and a result names its document.

**Writes** come from the :class:`~docstream.services.documents.DocumentListener` hooks of this node
and from the ``titles`` cluster events of the others. They are queued and applied by one background
task, in batches (one WAL sync per batch, off the event loop), each with 3 attempts and exponential
backoff; a failed attempt is logged as a warning, a batch that fails all three as an error and
counted in :attr:`TitleService.failed_writes` (shown under ``/health`` ``details``). A failure also
marks the index stale, and the next housekeeping round reconciles it.

**Reconciliation** with the database (the truth) adds missing titles and removes stale ones: before
the node serves, after a broker reconnection (events may have been lost meanwhile) and after a
failed write. So titles never go missing, whatever happened to the files or the process: a ``kill
-9`` loses at most the queued changes, which the next start re-adds. With more documents than
``titles_max_words``, the most recently created ones are indexed.

**Fairness between owners.** The index holds at most ``titles_max_per_owner`` titles of any one
owner: a user who creates thousands of documents pushes out their own oldest titles, never other
people's (the trie's LRU bound alone would let one account evict everybody). Such an owner's
searches also look through their own documents in the database when the index has too few
matches, so their unindexed titles are still found by them.

**Reads** run the adaptive permission loop: rank ``3 * limit`` candidates, ask the database which
of them the caller can open (one query), keep those, and double the pool (up to
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
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec

from docstream.errors import DocStreamError
from docstream.services.auth import Identity
from docstream.services.documents import DocumentService, is_uuid
from docstream.settings import Settings
from docstream.storage.base import DocumentRecord, DocumentStore
from docstream.typeahead.durable import DurableTrie, Mutation
from docstream.typeahead.stores import (
    Slot,
    StoreOpener,
    claim_slot,
    open_store,
    typeahead_directory,
)
from docstream.typeahead.trie import Suggestion, fold
from docstream.typeahead.wal import Op

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


class TitleSuggestion(msgspec.Struct, frozen=True):
    """One suggested document: its title (``word``), the entry's frequency and its id."""

    word: str
    frequency: int
    doc_id: str


class SetTitle(msgspec.Struct, tag="set", frozen=True):
    """A document was created or renamed (also the ``titles`` cluster event)."""

    doc_id: str
    title: str
    #: Empty in events from nodes that predate per-owner fairness (then the owner is not counted).
    owner_id: str = ""


class DropTitle(msgspec.Struct, tag="drop", frozen=True):
    """A document was deleted."""

    doc_id: str


TitleEvent = SetTitle | DropTitle
_event_decoder = msgspec.json.Decoder(TitleEvent)


class _Control:
    """A queue item that is not a change: it ends a batch and is handled on its own."""

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class _Reconcile(_Control):
    pass


class _Barrier(_Control):
    """Done once everything queued before it is written (or has failed)."""


class _Stop(_Control):
    pass


_Item = SetTitle | DropTitle | _Control


def entry_for(doc_id: str, title: str) -> str:
    return f"{title}|{doc_id}"


def parse_entry(word: str) -> tuple[str, str] | None:
    """``(title, doc_id)`` of an entry, or None for anything that is not one."""
    title, sep, doc_id = word.rpartition("|")
    if not sep or not title or not is_uuid(doc_id):
        return None
    return title, doc_id


def clean_query(query: str) -> str:
    """What a title query searches for: no ``|`` (it separates the id), no leading blanks."""
    return query.replace("|", "").lstrip()


class TitleService:
    """The title index of this node. An async context manager (see the module docstring).

    Args:
        store: the database, read to reconcile.
        documents: answers which documents a caller can open.
        settings: ``data_dir`` and the ``titles_*`` budget and snapshot thresholds.
        publish: ``Cluster.publish_custom``; None on a single node without a cluster.
        opener: how the store is opened (tests inject failures).
        backoff: seconds before the second attempt of a write (doubled before the third).
        housekeeping: seconds between snapshot checks and retries of a failed reconciliation.
    """

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
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._trie: DurableTrie | None = None
        self._slot: Slot | None = None
        self._task: asyncio.Task[None] | None = None
        #: doc id -> its entry, as last written (the trie itself may have evicted some).
        self._entries: dict[str, str] = {}
        #: owner -> their indexed doc ids, least recently set first; doc id -> owner.
        self._owned: dict[str, OrderedDict[str, None]] = {}
        self._owner_of: dict[str, str] = {}
        #: Owners with more documents than ``titles_max_per_owner`` (some titles not indexed).
        self._overflowing: set[str] = set()
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
            self._queue.put_nowait(_Stop())
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
        item = _Reconcile()
        self._queue.put_nowait(item)
        await asyncio.shield(item.done)

    async def flush(self) -> None:
        """Wait until every change queued so far is written (or has failed)."""
        item = _Barrier()
        self._queue.put_nowait(item)
        await asyncio.shield(item.done)

    async def resync(self) -> None:
        """Queue a reconciliation without waiting (a broker reconnection hook)."""
        self._queue.put_nowait(_Reconcile())

    # --- DocumentListener and cluster events -------------------------------------------------

    async def document_created(self, doc: DocumentRecord) -> None:
        await self._change(SetTitle(doc.id, doc.title, doc.owner_id))

    async def document_renamed(self, doc: DocumentRecord) -> None:
        await self._change(SetTitle(doc.id, doc.title, doc.owner_id))

    async def document_deleted(self, doc_id: str) -> None:
        await self._change(DropTitle(doc_id))

    async def access_changed(self, doc_id: str, user_id: str | None) -> None:
        return None  # access is checked at query time

    async def on_cluster_event(self, body: bytes) -> None:
        """A ``titles`` event from another node: apply it here too (never re-published)."""
        try:
            event = _event_decoder.decode(body)
        except msgspec.DecodeError:
            log.warning("title index: ignored an unreadable cluster event")
            return
        self._queue.put_nowait(event)

    async def _change(self, event: SetTitle | DropTitle) -> None:
        self._queue.put_nowait(event)
        if self._publish is not None:
            await self._publish("titles", msgspec.json.encode(event))

    # --- reads -------------------------------------------------------------------------------

    async def suggest(self, caller: Identity, query: str, limit: int) -> list[TitleSuggestion]:
        """Titles matching ``query`` (prefix, then one typo) among documents the caller can open.

        Ranked by frequency, then title; at most ``limit``. A blank query suggests nothing.
        """
        text = clean_query(query)
        if not text.strip() or limit < 1:
            return []
        found: dict[str, TitleSuggestion] = {}  # doc id -> suggestion, in rank order
        checked: set[str] = set()
        pool = min(3 * limit, MAX_POOL)
        while True:
            candidates = self.trie.fuzzy_suggest(text, pool)
            fresh = _fresh_candidates(candidates, checked)
            allowed = (
                await self._documents.accessible(caller, list(fresh), include_public=False)
                if fresh
                else set()
            )
            for doc_id, (title, frequency) in fresh.items():
                if doc_id in allowed and doc_id not in found:
                    found[doc_id] = TitleSuggestion(title, frequency, doc_id)
            if len(found) >= limit or len(candidates) < pool:
                if len(found) < limit and caller.user_id in self._overflowing:
                    return await self._with_own_documents(caller, text, limit, found)
                return list(found.values())[:limit]
            if pool >= LAST_POOL:
                break
            pool = min(2 * pool, MAX_POOL) if pool < MAX_POOL else LAST_POOL
        # More than LAST_POOL candidates and still too few: the caller's own documents.
        return await self._with_own_documents(caller, text, limit, found)

    async def _with_own_documents(
        self, caller: Identity, text: str, limit: int, found: dict[str, TitleSuggestion]
    ) -> list[TitleSuggestion]:
        key = fold(text)
        for doc, _role in await self._documents.list_for(caller):
            if doc.id not in found and fold(doc.title).startswith(key):
                frequency = max(1, self.trie.frequency(entry_for(doc.id, doc.title)))
                found[doc.id] = TitleSuggestion(doc.title, frequency, doc.id)

        def rank(s: TitleSuggestion) -> tuple[bool, int, str]:
            entry_key = fold(entry_for(s.doc_id, s.word))
            return (not entry_key.startswith(key), -s.frequency, entry_key)

        return sorted(found.values(), key=rank)[:limit]

    # --- the writer --------------------------------------------------------------------------

    async def _run(self) -> None:
        """Apply queued changes in order, in batches; reconcile when asked; stop on _Stop."""
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), self._housekeeping)
            except TimeoutError:
                await self._housekeep()
                continue
            control: _Control | None = None
            try:
                if isinstance(item, _Control):
                    control = item
                else:
                    batch, control = self._take_batch(item)
                    await self._write(batch)
                if isinstance(control, _Reconcile):
                    await self._reconcile()
            except Exception:  # the writer must outlive any one bad change
                log.exception("title index: unexpected error in the writer")
                self.stale = True
            finally:
                if control is not None:
                    control.finish()
            if isinstance(control, _Stop):
                return

    def _take_batch(
        self, first: SetTitle | DropTitle
    ) -> tuple[list[SetTitle | DropTitle], _Control | None]:
        batch: list[SetTitle | DropTitle] = [first]
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if isinstance(item, _Control):
                return batch, item
            batch.append(item)
        return batch, None

    async def _write(self, batch: list[SetTitle | DropTitle]) -> None:
        after: dict[str, str | None] = {}
        owners_after: dict[str, str | None] = {}
        books: dict[str, OrderedDict[str, None]] = {}  # working copies of the owners touched
        overflow: set[str] = set()
        mutations: list[Mutation] = []

        def entry_now(doc_id: str) -> str | None:
            return after[doc_id] if doc_id in after else self._entries.get(doc_id)

        def owner_now(doc_id: str) -> str | None:
            return owners_after[doc_id] if doc_id in owners_after else self._owner_of.get(doc_id)

        for change in batch:
            doc_id = change.doc_id
            current = entry_now(doc_id)
            new = entry_for(doc_id, change.title) if isinstance(change, SetTitle) else None
            owner = (change.owner_id if isinstance(change, SetTitle) else "") or owner_now(doc_id)
            if owner:
                book = books.get(owner)
                if book is None:
                    book = books[owner] = OrderedDict(self._owned.get(owner, {}))
                book.pop(doc_id, None)
                if new is not None:
                    book[doc_id] = None  # the owner's most recent
                    while len(book) > self._settings.titles_max_per_owner:
                        oldest, _ = book.popitem(last=False)
                        evicted = entry_now(oldest)
                        if evicted is not None:
                            mutations.append(Mutation(Op.REMOVE, evicted))
                        after[oldest] = None
                        owners_after[oldest] = None
                        overflow.add(owner)
                owners_after[doc_id] = owner if new is not None else None
            if new == current:
                continue
            if current is not None:
                mutations.append(Mutation(Op.REMOVE, current))
            if new is not None:
                mutations.append(Mutation(Op.INSERT, new))
            after[doc_id] = new
        if mutations and not await self._apply(mutations, f"{len(batch)} title change(s)"):
            self.failed_writes += len(batch)
            self.stale = True
            return
        for doc_id, entry in after.items():
            if entry is None:
                self._entries.pop(doc_id, None)
            else:
                self._entries[doc_id] = entry
        for doc_id, owner in owners_after.items():
            if owner is None:
                self._owner_of.pop(doc_id, None)
            else:
                self._owner_of[doc_id] = owner
        for owner, book in books.items():
            if book:
                self._owned[owner] = book
            else:
                self._owned.pop(owner, None)
        self._overflowing |= overflow

    async def _reconcile(self) -> None:
        try:
            rows = await self._store.all_document_titles()
        except DocStreamError as exc:
            log.warning("title index: cannot read the titles to reconcile (%s); will retry", exc)
            self.stale = True
            return
        per_owner = self._settings.titles_max_per_owner
        kept: list[tuple[str, str, str]] = []  # newest first
        counts: dict[str, int] = {}
        overflowing: set[str] = set()
        for doc_id, title, owner in reversed(rows):
            if counts.get(owner, 0) >= per_owner:
                overflowing.add(owner)
                continue
            counts[owner] = counts.get(owner, 0) + 1
            kept.append((doc_id, title, owner))
        if overflowing:
            log.info(
                "title index: %d owner(s) have more than titles_max_per_owner=%d documents; "
                "their oldest titles are not indexed",
                len(overflowing),
                per_owner,
            )
        if len(kept) > self.trie.max_words:
            log.warning(
                "title index: %d documents exceed titles_max_words=%d; the oldest are not indexed",
                len(kept),
                self.trie.max_words,
            )
            kept = kept[: self.trie.max_words]
        kept.reverse()  # oldest first, as the trie's recency order wants
        desired = {doc_id: entry_for(doc_id, title) for doc_id, title, _ in kept}
        mutations = _reconcile_mutations(self.trie, desired)
        if mutations and not await self._apply(mutations, "reconciliation"):
            self.failed_writes += 1
            self.stale = True
        else:
            self._entries = desired
            self._owner_of = {doc_id: owner for doc_id, _, owner in kept}
            self._owned = {}
            for doc_id, _, owner in kept:
                self._owned.setdefault(owner, OrderedDict())[doc_id] = None
            self._overflowing = overflowing
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
            self._queue.put_nowait(_Reconcile())


def _fresh_candidates(
    candidates: Iterable[Suggestion], checked: set[str]
) -> dict[str, tuple[str, int]]:
    """doc id -> (title, frequency) of candidates not checked yet, in rank order."""
    fresh: dict[str, tuple[str, int]] = {}
    for suggestion in candidates:
        parsed = parse_entry(suggestion.word)
        if parsed is None or parsed[1] in checked:
            continue
        checked.add(parsed[1])
        fresh[parsed[1]] = (parsed[0], suggestion.frequency)
    return fresh


def _reconcile_mutations(trie: DurableTrie, desired: dict[str, str]) -> list[Mutation]:
    """REMOVE what the trie holds but the database does not say; INSERT what is missing."""
    wanted = set(desired.values())
    present: set[str] = set()
    mutations: list[Mutation] = []
    for word, _frequency in trie.items_lru():
        if word in wanted:  # exact: a title whose case changed is replaced too
            present.add(word)
        else:
            mutations.append(Mutation(Op.REMOVE, word))
    mutations += [Mutation(Op.INSERT, e) for e in desired.values() if e not in present]
    return mutations
