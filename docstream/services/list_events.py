"""Pushing document-list changes to ``GET /events`` streams: shared, unshared, renamed, deleted.

Without this, a document shared with someone appears in their list only when they reload it.
Each open stream belongs to one signed-in user and knows the ids of the documents in that user's
list (read once, when it opens, then kept up to date by the changes themselves). A change is
decided *where the stream is*, never where the edit happened:

- **access** to a document changed for a user (``AccessChanged``): that user's streams ask the
  database whether the user can still open it (one query per stream's user) and get ``shared``
  (now in the list: a new grant or another role) or ``unshared`` (no longer in it);
- **created**: the owner's other streams get ``shared`` (the document entered their list);
- **restored** from the trash: as an access change for each of its members;
- **renamed** / **deleted** (also: moved to the trash): only streams whose list holds the document
  get ``renamed`` / ``deleted``.

So a stream never hears about a document its user cannot see, and the stream's own list is the
filter. Every change made on this node is also published to the other nodes as a ``documents``
peer message (:class:`DocumentChange`), so a stream on node B hears of a share made on node A.

**Other events.** Other features put their own messages on the same streams with
:meth:`ListEvents.push_to_user` (a :class:`Pushed` event name and JSON, e.g. notifications):
they decide who may see what, and tell the other nodes themselves.

**Bounded.** At most ``events_max_streams_per_user`` streams per user on this process (more is
``rate_limited``), and each stream queues at most ``events_queue_size`` changes: a reader that
falls that far behind is dropped (the stream ends; ``EventSource`` reconnects by itself and the
client refetches the list). Sign-outs and token expiry end streams through
:class:`~docstream.services.revocations.Revocations`, as they close sockets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec

from docstream.collab.extensions import (
    AccessChanged,
    BrokerReconnected,
    DocumentCreated,
    DocumentDeleted,
    DocumentRenamed,
    DocumentRestored,
    Extension,
    PeerMessage,
)
from docstream.errors import DocStreamError, RateLimitedError
from docstream.services.revocations import Revocations
from docstream.settings import Settings
from docstream.storage.base import DocumentStore

log = logging.getLogger(__name__)

#: The topic of this service's peer messages.
PEER_TOPIC = "documents"

ListKind = Literal["shared", "unshared", "renamed", "deleted"]


class ListChange(msgspec.Struct, frozen=True):
    """The data of one ``event: documents`` message (docs/protocol.md)."""

    kind: ListKind
    doc_id: str


class Pushed(msgspec.Struct, frozen=True):
    """Another feature's message on the same stream (``event``: its SSE event name, such as
    ``notification``; ``data``: its JSON), sent with :meth:`ListEvents.push_to_user`."""

    event: str
    data: str


class DocumentChange(msgspec.Struct, frozen=True):
    """What happened to a document, as told between nodes (``user_id``: whose access changed,
    or the owner of a created document)."""

    what: Literal["access", "created", "renamed", "deleted"]
    doc_id: str
    user_id: str | None = None


_change_decoder = msgspec.json.Decoder(DocumentChange)


class Stream:
    """One open ``GET /events`` response: its user, its list, and the changes not sent yet."""

    def __init__(self, user_id: str, docs: set[str], queue_size: int) -> None:
        self.user_id = user_id
        #: The ids of the documents in the user's list, as this stream last knew it.
        self.docs = docs
        self._queue: asyncio.Queue[ListChange | Pushed | None] = asyncio.Queue(queue_size + 1)
        self._limit = queue_size
        self.closed = False

    def push(self, change: ListChange | Pushed) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= self._limit:
            log.info("list events: dropped a stream that fell %d changes behind", self._limit)
            self.close()
            return
        self._queue.put_nowait(change)

    def close(self, code: int = 0, reason: str = "") -> None:
        """End the stream (what is queued is dropped: the client refetches on reconnection)."""
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self, timeout: float) -> ListChange | Pushed | None:
        """The next change; None once the stream is closed. Raises TimeoutError when idle."""
        if self.closed and self._queue.empty():
            return None
        return await asyncio.wait_for(self._queue.get(), timeout)


class ListEvents(Extension):
    """The ``GET /events`` streams of this process (see the module docstring)."""

    name = "list-events"

    def __init__(
        self,
        store: DocumentStore,
        settings: Settings,
        revocations: Revocations,
        *,
        publish: Callable[[str, bytes], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._revocations = revocations
        self._publish = publish
        self._by_user: dict[str, set[Stream]] = {}

    # --- streams ---------------------------------------------------------------------------------

    async def open(self, user_id: str, session_id: str, expires_at: float) -> Stream:
        """A new stream for a signed-in user.

        Raises:
            RateLimitedError: the user already has ``events_max_streams_per_user`` streams here.
        """
        streams = self._by_user.get(user_id, set())
        if len(streams) >= self._settings.events_max_streams_per_user:
            raise RateLimitedError("too many open event streams; close one", retry_after=5.0)
        # Registered before the list is read: a change made meanwhile is not missed.
        stream = Stream(user_id, set(), self._settings.events_queue_size)
        self._by_user.setdefault(user_id, set()).add(stream)
        self._revocations.register(stream, session_id, expires_at)
        try:
            stream.docs |= {doc.id for doc, _role in await self._store.list_documents(user_id)}
        except BaseException:
            self.close(stream)
            raise
        return stream

    def close(self, stream: Stream) -> None:
        """Forget a stream (its response ended)."""
        stream.close()
        self._revocations.unregister(stream)
        streams = self._by_user.get(stream.user_id)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._by_user[stream.user_id]

    def close_all(self) -> None:
        """End every open stream (the server is stopping: a response that never ends would keep
        it waiting; the clients reconnect to wherever they are sent next)."""
        for streams in list(self._by_user.values()):
            for stream in list(streams):
                stream.close()

    def count(self) -> int:
        return sum(len(s) for s in self._by_user.values())

    def has_streams(self, user_id: str) -> bool:
        return bool(self._by_user.get(user_id))

    def push_to_user(self, user_id: str, message: Pushed) -> int:
        """Queue ``message`` on every stream of ``user_id`` on this process (the caller decided
        the user may see it, and tells the other nodes itself); returns how many streams."""
        streams = self._streams_of(user_id)
        for stream in streams:
            stream.push(message)
        return len(streams)

    # --- extension hooks (changes made on this node) --------------------------------------------

    async def access_changed(self, event: AccessChanged) -> None:
        if event.user_id is not None:  # public sharing changes nobody's list
            await self._local(DocumentChange("access", event.doc_id, event.user_id))

    async def document_created(self, event: DocumentCreated) -> None:
        await self._local(DocumentChange("created", event.doc.id, event.doc.owner_id))

    async def document_renamed(self, event: DocumentRenamed) -> None:
        await self._local(DocumentChange("renamed", event.doc.id))

    async def document_deleted(self, event: DocumentDeleted) -> None:
        await self._local(DocumentChange("deleted", event.doc_id))

    async def document_restored(self, event: DocumentRestored) -> None:
        """Back from the trash: for its members, as if it were shared with them again."""
        for user_id in event.members:
            await self._local(DocumentChange("access", event.doc.id, user_id))

    async def peer_message(self, event: PeerMessage) -> None:
        if event.topic != PEER_TOPIC:
            return
        try:
            change = _change_decoder.decode(event.body)
        except msgspec.DecodeError:
            log.warning("list events: ignored an unreadable peer message")
            return
        await self.apply(change)

    async def broker_reconnected(self, event: BrokerReconnected) -> None:
        """Changes of other nodes may have been lost: end every stream; clients reconnect and
        refetch their lists."""
        for streams in list(self._by_user.values()):
            for stream in list(streams):
                stream.close()

    async def _local(self, change: DocumentChange) -> None:
        await self.apply(change)
        if self._publish is not None:
            await self._publish(PEER_TOPIC, msgspec.json.encode(change))

    # --- applying a change to the streams of this process ---------------------------------------

    async def apply(self, change: DocumentChange) -> None:
        doc_id = change.doc_id
        if change.what == "access" and change.user_id is not None:
            await self._access(change.user_id, doc_id)
        elif change.what == "created" and change.user_id is not None:
            for stream in self._streams_of(change.user_id):
                if doc_id not in stream.docs:
                    stream.docs.add(doc_id)
                    stream.push(ListChange("shared", doc_id))
        elif change.what in ("renamed", "deleted"):
            kind: ListKind = "renamed" if change.what == "renamed" else "deleted"
            for streams in list(self._by_user.values()):
                for stream in list(streams):
                    if doc_id in stream.docs:
                        if kind == "deleted":
                            stream.docs.discard(doc_id)
                        stream.push(ListChange(kind, doc_id))

    async def _access(self, user_id: str, doc_id: str) -> None:
        streams = self._streams_of(user_id)
        if not streams:
            return
        try:
            can_open = bool(
                await self._store.accessible_document_ids(user_id, [doc_id], include_public=False)
            )
        except DocStreamError as exc:
            log.warning("list events: cannot check access (%s); ending the streams", exc.detail)
            for stream in streams:
                stream.close()  # the clients reconnect and refetch
            return
        for stream in streams:
            if can_open:
                stream.docs.add(doc_id)
                stream.push(ListChange("shared", doc_id))
            elif doc_id in stream.docs:
                stream.docs.discard(doc_id)
                stream.push(ListChange("unshared", doc_id))

    def _streams_of(self, user_id: str) -> list[Stream]:
        return list(self._by_user.get(user_id, ()))
