"""@mentions: per document, the collaborators' names ranked by how often they were picked.

Each document gets its own durable trie (``<slot>/<doc id>.wal`` and ``.snapshot``; the id is
checked to be a UUID before any path is built). It is loaded on first use: the stored names and
frequencies, reconciled with the collaborators the database lists (names added, departed ones
removed). ``select`` counts one pick of a collaborator (durably, before it returns); only current
collaborators can be picked, so nobody can plant text in other people's suggestions. Lookups are
case-insensitive and return the stored spelling; a leading ``@`` is ignored.

**Unloading.** A janitor runs every ``mentions_janitor_interval`` seconds and unloads tries unused
for ``mentions_idle_timeout`` seconds. An index being unloaded is marked ``closing``; a request
that finds it closing waits until the unload has finished, then loads it afresh. The unload takes
the index's write lock before closing the store, so selections already under way are written
first; a selection that arrives later sees the index unloaded and retries on the fresh one. No
selection is lost.

**Changes.** Sharing and unsharing (``access_changed``) reconcile a loaded index with the
database; a deleted document's index is dropped and its files removed. In a cluster each of these,
and every selection, is published as a ``mentions`` peer message and applied by the other nodes. The
frequencies live only on the nodes' disks: a node that was down while others counted selections
keeps its older counts (the names themselves always come from the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec

from docstream.collab.extensions import AccessChanged, DocumentDeleted, Extension, PeerMessage
from docstream.errors import DocStreamError, InvalidInputError, NotFoundError
from docstream.services.documents import is_uuid
from docstream.services.typeahead.stores import (
    Slot,
    StoreOpener,
    claim_slot,
    delete_store,
    open_store,
    typeahead_directory,
)
from docstream.settings import Settings
from docstream.storage.base import DocumentStore
from docstream.typeahead.durable import DurableTrie, Mutation
from docstream.typeahead.trie import Suggestion, fold
from docstream.typeahead.wal import Op

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], Awaitable[None]]
#: The topic of this service's peer messages.
PEER_TOPIC = "mentions"


class MentionSelected(msgspec.Struct, tag="select", frozen=True):
    doc_id: str
    word: str


class MentionsRefresh(msgspec.Struct, tag="refresh", frozen=True):
    doc_id: str


class MentionsDropped(msgspec.Struct, tag="drop", frozen=True):
    doc_id: str


MentionEvent = MentionSelected | MentionsRefresh | MentionsDropped
_event_decoder = msgspec.json.Decoder(MentionEvent)


def clean_query(query: str) -> str:
    """Mention queries may start with the ``@`` the user typed."""
    return query.lstrip().removeprefix("@")


class MentionIndex:
    """One document's loaded trie and its lifecycle flags."""

    def __init__(self, doc_id: str, trie: DurableTrie, now: float) -> None:
        self.doc_id = doc_id
        self.trie = trie
        self.last_used = now
        #: Held while writing; the unload takes it too, so it waits for writes under way.
        self.lock = asyncio.Lock()
        #: Set when the janitor (or a deletion) starts unloading: new requests wait for ``closed``.
        self.closing = False
        #: Set once the store is closed: a writer that got the lock after the unload retries.
        self.unloaded = False
        self.closed = asyncio.Event()


class MentionService(Extension):
    """Per-document mention tries. An async context manager and an extension (see the module
    docstring).

    Args:
        store: the database (collaborators).
        settings: ``data_dir`` and the ``mentions_*`` settings.
        publish: tells the other nodes (``Cluster.publish_peer``); None without a cluster.
        opener: how a store is opened (tests inject slow or failing ones).
        clock: monotonic seconds, for idleness.
    """

    name = "mentions"

    def __init__(
        self,
        store: DocumentStore,
        settings: Settings,
        *,
        publish: Publish | None = None,
        opener: StoreOpener = DurableTrie.open,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._settings = settings
        self._publish = publish
        self._opener = opener
        self._clock = clock
        self.loaded: dict[str, MentionIndex] = {}
        self._loading: dict[str, asyncio.Future[MentionIndex]] = {}
        self._slot: Slot | None = None
        self._janitor: asyncio.Task[None] | None = None
        #: Other nodes' events, applied in order by one task (never in the broker's reader).
        self._events: asyncio.Queue[MentionEvent] = asyncio.Queue()
        self._applier: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> MentionService:
        self._slot = await asyncio.to_thread(
            claim_slot, typeahead_directory(self._settings), "mentions"
        )
        loop = asyncio.get_running_loop()
        self._janitor = loop.create_task(self._run_janitor(), name="mentions-janitor")
        self._applier = loop.create_task(self._apply_events(), name="mentions-events")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in (self._janitor, self._applier):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            for index in list(self.loaded.values()):
                await self.unload(index)
        finally:
            if self._slot is not None:
                self._slot.release()

    @property
    def directory(self) -> Path:
        assert self._slot is not None, "use the MentionService as an async context manager"
        return self._slot.directory

    # --- reads and selections ----------------------------------------------------------------

    async def suggest(self, doc_id: str, query: str, limit: int) -> list[Suggestion]:
        """Collaborators of ``doc_id`` whose name starts with ``query`` (or is one typo away),
        most often picked first. The caller's access is checked by the route."""
        index = await self.acquire(doc_id)
        return index.trie.fuzzy_suggest(clean_query(query), limit)

    async def select(self, doc_id: str, word: str, *, publish: bool = True) -> Suggestion:
        """Count a pick of the collaborator named ``word`` (any case, leading ``@`` ignored);
        return their stored name and new frequency.

        Raises:
            InvalidInputError: ``word`` is not the name of a collaborator of this document.
            PersistenceError: the pick could not be written.
        """
        name = clean_query(word)
        while True:
            index = await self.acquire(doc_id)
            async with index.lock:
                if index.unloaded:  # unloaded while we waited: use the fresh one
                    continue
                stored = index.trie.get(name)
                if stored is None:
                    raise InvalidInputError("that name is not a collaborator of this document")
                frequency = await asyncio.to_thread(index.trie.select, stored.word)
                index.last_used = self._clock()
                break
        if publish and self._publish is not None:
            event = MentionSelected(doc_id, stored.word)
            await self._publish(PEER_TOPIC, msgspec.json.encode(event))
        return Suggestion(stored.word, frequency)

    # --- loading and unloading ---------------------------------------------------------------

    async def acquire(self, doc_id: str) -> MentionIndex:
        """The loaded index of ``doc_id``, loading it once however many ask at the same time.

        Raises:
            NotFoundError: not a document id, or no such document.
        """
        if not is_uuid(doc_id):
            raise NotFoundError("no such document")
        while True:
            index = self.loaded.get(doc_id)
            if index is not None:
                if index.closing:  # being unloaded: wait, then load afresh
                    await index.closed.wait()
                    continue
                index.last_used = self._clock()
                return index
            pending = self._loading.get(doc_id)
            if pending is not None:
                await asyncio.shield(pending)
                continue  # re-check: it may be closing already
            return await self._load_once(doc_id)

    async def _load_once(self, doc_id: str) -> MentionIndex:
        future: asyncio.Future[MentionIndex] = asyncio.get_running_loop().create_future()
        self._loading[doc_id] = future
        try:
            index = await self._load(doc_id)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters re-raise it
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._loading[doc_id]
        self.loaded[doc_id] = index
        future.set_result(index)
        return index

    async def _load(self, doc_id: str) -> MentionIndex:
        names = await self._names(doc_id)  # before any file is made for a missing document
        settings = self._settings
        trie = await asyncio.to_thread(
            open_store,
            self._opener,
            self.directory,
            doc_id,  # a UUID: checked in acquire()
            max_words=settings.mentions_max_words,
            snapshot_writes=settings.mentions_snapshot_writes,
            snapshot_interval=settings.mentions_snapshot_interval,
        )
        index = MentionIndex(doc_id, trie, self._clock())
        try:
            await self._reconcile(index, names)
        except BaseException:
            await asyncio.to_thread(trie.close, snapshot=False)
            raise
        return index

    async def _names(self, doc_id: str) -> list[str]:
        collaborators = await self._store.list_collaborators(doc_id)
        if not collaborators:  # every document has its owner: this one is gone
            raise NotFoundError("no such document")
        return [c.name for c in collaborators if c.name.strip()]

    async def _reconcile(self, index: MentionIndex, names: list[str]) -> None:
        """Make the trie hold exactly ``names`` (frequencies of those already there are kept)."""
        wanted = {fold(name): name for name in names}
        mutations = [
            Mutation(Op.REMOVE, word)
            for word, _frequency in index.trie.items_lru()
            if fold(word) not in wanted
        ]
        mutations += [
            Mutation(Op.INSERT, name)
            for name in wanted.values()
            if (stored := index.trie.get(name)) is None or stored.word != name
        ]
        if mutations:
            await asyncio.to_thread(index.trie.apply, mutations)

    async def unload(self, index: MentionIndex, *, delete: bool = False) -> None:
        """Close ``index`` after the writes under way (snapshotting), and forget it.

        With ``delete`` the store's files are removed instead (the document was deleted).
        """
        index.closing = True
        try:
            async with index.lock:
                index.unloaded = True
                try:
                    await asyncio.to_thread(index.trie.close, snapshot=not delete)
                except DocStreamError as exc:
                    log.warning("mentions %s: final snapshot failed (%s)", index.doc_id, exc)
                if delete:
                    await asyncio.to_thread(delete_store, self.directory, index.doc_id)
        finally:
            if self.loaded.get(index.doc_id) is index:
                del self.loaded[index.doc_id]
            index.closed.set()

    async def sweep(self) -> int:
        """Unload the tries idle for ``mentions_idle_timeout``; return how many were unloaded."""
        now = self._clock()
        idle = [
            index
            for index in self.loaded.values()
            if not index.closing and now - index.last_used >= self._settings.mentions_idle_timeout
        ]
        for index in idle:
            await self.unload(index)
        for index in list(self.loaded.values()):
            if not index.closing:
                await asyncio.to_thread(index.trie.maybe_snapshot)
        return len(idle)

    async def _run_janitor(self) -> None:
        while True:
            await asyncio.sleep(self._settings.mentions_janitor_interval)
            try:
                unloaded = await self.sweep()
                if unloaded:
                    log.debug("mentions janitor: unloaded %d idle tries", unloaded)
            except Exception:
                log.exception("mentions janitor: sweep failed")

    # --- extension hooks and peer messages -----------------------------------------------------

    async def document_deleted(self, event: DocumentDeleted) -> None:
        await self._drop(event.doc_id)
        await self._announce(MentionsDropped(event.doc_id))

    async def access_changed(self, event: AccessChanged) -> None:
        if event.user_id is None:
            return  # public sharing changed: the collaborators did not
        await self.refresh(event.doc_id)
        await self._announce(MentionsRefresh(event.doc_id))

    async def peer_message(self, event: PeerMessage) -> None:
        if event.topic == PEER_TOPIC:
            await self.on_cluster_event(event.body)

    async def refresh(self, doc_id: str) -> None:
        """Re-read the collaborators of a loaded index (unloaded ones do so when loaded)."""
        index = self.loaded.get(doc_id)
        if index is None or index.closing:
            return
        try:
            names = await self._names(doc_id)
        except NotFoundError:
            await self._drop(doc_id)
            return
        async with index.lock:
            if not index.unloaded:
                await self._reconcile(index, names)

    async def _drop(self, doc_id: str) -> None:
        if not is_uuid(doc_id):
            return
        index = self.loaded.get(doc_id)
        if index is not None and not index.closing:
            await self.unload(index, delete=True)
        else:
            if index is not None:
                await index.closed.wait()
            await asyncio.to_thread(delete_store, self.directory, doc_id)

    async def _announce(self, event: MentionsRefresh | MentionsDropped) -> None:
        if self._publish is not None:
            await self._publish(PEER_TOPIC, msgspec.json.encode(event))

    async def on_cluster_event(self, body: bytes) -> None:
        """A ``mentions`` event from another node: queued, then applied here too (never
        re-published)."""
        try:
            self._events.put_nowait(_event_decoder.decode(body))
        except msgspec.DecodeError:
            log.warning("mentions: ignored an unreadable cluster event")

    async def events_applied(self) -> None:
        """Wait until every cluster event received so far is applied."""
        await self._events.join()

    async def _apply_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                if isinstance(event, MentionSelected):
                    await self.select(event.doc_id, event.word, publish=False)
                elif isinstance(event, MentionsRefresh):
                    await self.refresh(event.doc_id)
                else:
                    await self._drop(event.doc_id)
            except (NotFoundError, InvalidInputError) as exc:
                log.debug("mentions: cluster event for %s not applied: %s", event.doc_id, exc)
            except Exception:
                log.exception("mentions: cluster event for %s failed", event.doc_id)
            finally:
                self._events.task_done()
