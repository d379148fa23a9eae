"""Extensions: the one way other parts of a node hear what happens to documents and rooms.

In the spirit of Hocuspocus' extensions. Anything that keeps state derived from documents or
passes events on (cluster fan-out, the title, mention and word indexes, snapshots and automatic
versions, later a search index or an audit log) is an :class:`Extension`, registered once, in the
composition root, in the order its hooks must run. The code that produces an event (a Room, the
Hub, the document service, the broker) calls :meth:`Extensions.emit` with a frozen, typed payload
and knows nothing about who listens.

Rules:

- every hook is ``async`` and receives one frozen payload; an extension overrides only the hooks
  it needs (the base class's are no-ops);
- hooks run one after the other, in registration order; an exception in one is logged and does
  not stop the others (an extension is never the reason an edit or a request fails);
- a hook that may take long (network, disk) must hand the work to its own task: the Room awaits
  ``change_committed`` on its worker, before the next batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from docstream.storage.base import DocumentRecord, LogEntry

log = logging.getLogger("docstream.extensions")


# --- payloads ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomOpened:
    """A document was loaded on this node (its Room exists; clients may join)."""

    doc_id: str


@dataclass(frozen=True, slots=True)
class RoomStopped:
    """A document's Room on this node stopped (final snapshot written, last client gone)."""

    doc_id: str


@dataclass(frozen=True, slots=True)
class ChangeCommitted:
    """Entries of this node were committed to the log (``entries`` in seq order; ``seq`` is the
    last one's)."""

    doc_id: str
    seq: int
    entries: Sequence[LogEntry]


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """A local client joined, left or moved its cursor (``action``: join, leave, cursor)."""

    doc_id: str
    action: str
    payload: Any


@dataclass(frozen=True, slots=True)
class DocumentCreated:
    doc: DocumentRecord


@dataclass(frozen=True, slots=True)
class DocumentRenamed:
    doc: DocumentRecord


@dataclass(frozen=True, slots=True)
class DocumentDeleted:
    doc_id: str


@dataclass(frozen=True, slots=True)
class DocumentRestored:
    """A document came back from the trash, as it was (``members``: its owner and grantees, whose
    lists get it back)."""

    doc: DocumentRecord
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccessChanged:
    """A user's grant changed (``user_id`` None: public sharing changed, re-check everyone)."""

    doc_id: str
    user_id: str | None


@dataclass(frozen=True, slots=True)
class SessionsRevoked:
    """These sign-in sessions were signed out on this node (their sockets must close)."""

    session_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BrokerReconnected:
    """The pub/sub broker reconnected: messages of other nodes may have been lost meanwhile."""


@dataclass(frozen=True, slots=True)
class PeerMessage:
    """Another node's extension published ``body`` under ``topic`` (see :class:`PeerChannel`).

    Each extension that talks to its peers owns one topic (``titles``, ``mentions``,
    ``sessions``), decodes its own bodies and ignores the other topics. Delivery is at most once.
    """

    topic: str
    body: bytes


@dataclass(frozen=True, slots=True)
class ActionTaken:
    """Someone did something worth an audit entry: signed in (or failed to), shared, restored,
    changed a password, acted as an administrator...

    ``action`` is a dotted name (``auth.sign_in``, ``auth.sign_in_failed``, ``document.shared``,
    ``admin.user_disabled``...); ``actor_id`` the user who acted (``None``: anonymous, such as a
    failed sign-in of an unknown address); ``ip`` where from (the client address as the trusted
    proxies tell it, ``None`` from the command line); ``doc_id`` the document acted on and
    ``subject_id`` the user acted on, where there is one; ``detail`` a few short strings (the
    role given, the address tried, the version restored). Emitted after the action succeeded
    (or, for a refusal worth recording, after it was refused).
    """

    action: str
    actor_id: str | None
    ip: str | None = None
    doc_id: str | None = None
    subject_id: str | None = None
    detail: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CommentPosted:
    """A comment or a reply was stored (emitted once, on the node that stored it).

    ``thread_id`` is the id of the thread's first comment (equal to ``comment_id`` for a new
    thread); ``participants`` the other people who wrote in the thread before (not the author);
    ``mentioned`` the user ids @mentioned in ``body``. The notifications follow from these.
    """

    doc_id: str
    comment_id: str
    thread_id: str
    author_id: str
    body: str
    participants: tuple[str, ...] = ()
    mentioned: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MentionPicked:
    """Someone who can edit ``doc_id`` picked a collaborator in the @mention popup (the editor
    inserted ``@name`` into the text); ``position``: where, as a character offset, if the client
    said. Emitted by the route once the pick is counted."""

    doc_id: str
    actor_id: str
    name: str
    position: int | None = None


class PeerChannel(Protocol):
    """How an extension tells the same extension on the other nodes (the cluster)."""

    async def publish_peer(self, topic: str, body: bytes) -> None: ...


Event = (
    RoomOpened
    | RoomStopped
    | ChangeCommitted
    | PresenceChanged
    | DocumentCreated
    | DocumentRenamed
    | DocumentDeleted
    | DocumentRestored
    | AccessChanged
    | SessionsRevoked
    | ActionTaken
    | CommentPosted
    | MentionPicked
    | BrokerReconnected
    | PeerMessage
)


# --- the protocol --------------------------------------------------------------------------------


class Extension:
    """Base class of every extension: override the hooks you need."""

    #: Shown in logs when a hook fails.
    name: str = "extension"

    async def room_opened(self, event: RoomOpened) -> None:
        return None

    async def room_stopped(self, event: RoomStopped) -> None:
        return None

    async def change_committed(self, event: ChangeCommitted) -> None:
        return None

    async def presence_changed(self, event: PresenceChanged) -> None:
        return None

    async def document_created(self, event: DocumentCreated) -> None:
        return None

    async def document_renamed(self, event: DocumentRenamed) -> None:
        return None

    async def document_deleted(self, event: DocumentDeleted) -> None:
        return None

    async def document_restored(self, event: DocumentRestored) -> None:
        return None

    async def access_changed(self, event: AccessChanged) -> None:
        return None

    async def sessions_revoked(self, event: SessionsRevoked) -> None:
        return None

    async def broker_reconnected(self, event: BrokerReconnected) -> None:
        return None

    async def action_taken(self, event: ActionTaken) -> None:
        return None

    async def peer_message(self, event: PeerMessage) -> None:
        return None

    async def comment_posted(self, event: CommentPosted) -> None:
        return None

    async def mention_picked(self, event: MentionPicked) -> None:
        return None

    def listening(self, event_type: type[Event]) -> bool:
        """Whether this extension wants ``event_type`` right now (it overrides the hook). The
        cluster, for example, wants committed changes only while other nodes may listen."""
        return True


_HOOKS: dict[type[Any], str] = {
    RoomOpened: "room_opened",
    RoomStopped: "room_stopped",
    ChangeCommitted: "change_committed",
    PresenceChanged: "presence_changed",
    DocumentCreated: "document_created",
    DocumentRenamed: "document_renamed",
    DocumentDeleted: "document_deleted",
    DocumentRestored: "document_restored",
    AccessChanged: "access_changed",
    SessionsRevoked: "sessions_revoked",
    BrokerReconnected: "broker_reconnected",
    ActionTaken: "action_taken",
    PeerMessage: "peer_message",
    CommentPosted: "comment_posted",
    MentionPicked: "mention_picked",
}


class Extensions:
    """The registered extensions, in order. ``emit`` skips extensions that do not override a hook
    (no call, no await: the Room emits on every commit)."""

    def __init__(self, extensions: Iterable[Extension] = ()) -> None:
        self._all: list[Extension] = []
        self._by_hook: dict[str, list[Extension]] = {hook: [] for hook in _HOOKS.values()}
        for extension in extensions:
            self.add(extension)

    def add(self, extension: Extension) -> None:
        """Register one more (composition root only, before the node serves)."""
        self._all.append(extension)
        for hook, listeners in self._by_hook.items():
            if getattr(type(extension), hook) is not getattr(Extension, hook):
                listeners.append(extension)

    def remove(self, extension: Extension) -> None:
        """Unregister one (tests that open and close services around a shared registry)."""
        self._all.remove(extension)
        for listeners in self._by_hook.values():
            if extension in listeners:
                listeners.remove(extension)

    def __iter__(self) -> Iterator[Extension]:
        return iter(self._all)

    def listens(self, event_type: type[Event]) -> bool:
        """Whether anyone wants ``event_type`` now (skip building a costly payload)."""
        return any(e.listening(event_type) for e in self._by_hook[_HOOKS[event_type]])

    async def emit(self, event: Event) -> None:
        hook = _HOOKS[type(event)]
        for extension in self._by_hook[hook]:
            try:
                await getattr(extension, hook)(event)
            except Exception:
                log.exception("extension %s failed in %s", extension.name, hook)
