"""Everything that crosses nodes: ops, presence, cursors, role changes, revocations, deletions.

The cluster is an :class:`~docstream.collab.extensions.Extension`: it hears what this node's Rooms
commit and who comes and goes (``change_committed``, ``presence_changed``, ``room_opened``,
``room_stopped``) and tells the other nodes; it hears access changes and deletions and passes them
on; and it is the :class:`~docstream.collab.extensions.PeerChannel` of the other extensions (their
messages arrive on the other nodes as ``PeerMessage`` events). Messages from other nodes go
straight to the Rooms and the Hub (never back through the extensions: that would echo them).

Topics: ``{redis_channel_prefix}{doc_id}`` per open document (ops and presence) and one global
``docstream:events`` (access changes, deletions, peer messages of extensions). Delivery is at most
once:

- ops carry their ``seq``; a Room applies them in order and repairs any gap from the log, and
  after a broker reconnection (or every ``seq_poll_interval`` seconds) every open Room re-reads the
  log beyond its ``seq`` — so a lost message delays an edit, never loses it;
- presence is soft state: each node re-announces its peers every ``heartbeat`` seconds and forgets
  remote peers not heard of for ``3 * heartbeat`` (a node that died takes its peers with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Literal

import msgspec

from docstream.collab import messages as m
from docstream.collab.extensions import (
    AccessChanged,
    BrokerReconnected,
    ChangeCommitted,
    DocumentDeleted,
    Event,
    Extension,
    Extensions,
    PeerMessage,
    PresenceChanged,
    RoomOpened,
    RoomStopped,
)
from docstream.collab.hub import Hub
from docstream.collab.loader import payload_json
from docstream.errors import DocStreamError
from docstream.protocol.messages import Peer, SetCursor
from docstream.pubsub.base import Broker
from docstream.storage.base import LogEntry

log = logging.getLogger(__name__)
EVENTS = "docstream:events"


class WireEntry(msgspec.Struct, frozen=True):
    seq: int
    user_id: str
    user_name: str
    replica: str
    kind: str
    position: int
    length: int
    preview: str
    ops: msgspec.Raw


class OpsEvent(msgspec.Struct, tag="ops", frozen=True):
    doc_id: str
    entries: list[WireEntry]


class PresenceEvent(msgspec.Struct, tag="presence", frozen=True):
    doc_id: str
    action: Literal["join", "leave", "cursor", "here", "sync"]
    node: str
    peers: list[Peer] = []
    anchor: str | None = None
    head: str | None = None


class AccessEvent(msgspec.Struct, tag="access", frozen=True):
    doc_id: str
    user_id: str | None


class DeletedEvent(msgspec.Struct, tag="deleted", frozen=True):
    doc_id: str


class CustomEvent(msgspec.Struct, tag="custom", frozen=True):
    """A peer message of an extension (e.g. the title index), by topic (``kind``)."""

    kind: str
    body: msgspec.Raw


ClusterEvent = OpsEvent | PresenceEvent | AccessEvent | DeletedEvent | CustomEvent
_decoder = msgspec.json.Decoder(ClusterEvent)
_encoder = msgspec.json.Encoder()


def _entry(e: LogEntry) -> WireEntry:
    return WireEntry(
        seq=e.seq,
        user_id=e.user_id,
        user_name=e.user_name,
        replica=e.replica,
        kind=e.kind,
        position=e.position,
        length=e.length,
        preview=e.preview,
        ops=msgspec.Raw(payload_json(e.payload)),
    )


def _log_entry(doc_id: str, w: WireEntry) -> LogEntry:
    from docstream.storage.base import utcnow

    return LogEntry(
        doc_id=doc_id,
        seq=w.seq,
        user_id=w.user_id,
        replica=w.replica,
        payload=b"\x01" + bytes(w.ops),
        kind=w.kind,
        position=w.position,
        length=w.length,
        preview=w.preview,
        created_at=utcnow(),
        user_name=w.user_name,
    )


class Cluster(Extension):
    """Connects a Hub to a Broker (see the module docstring).

    Args:
        hub: this node's Hub.
        broker: the pub/sub broker.
        extensions: the node's extensions, told the other nodes' peer messages.
    """

    name = "cluster"

    def __init__(
        self,
        hub: Hub,
        broker: Broker,
        extensions: Extensions,
        *,
        prefix: str = "doc:",
        heartbeat: float = 2.0,
        seq_poll_interval: float = 5.0,
    ) -> None:
        self.hub = hub
        self.broker = broker
        self.extensions = extensions
        self.prefix = prefix
        self.heartbeat = heartbeat
        self.seq_poll_interval = seq_poll_interval
        self._task: asyncio.Task[None] | None = None
        self.publish_failures = 0

    def topic(self, doc_id: str) -> str:
        return self.prefix + doc_id

    async def __aenter__(self) -> Cluster:
        await self.broker.subscribe(EVENTS, self._on_event)
        self._task = asyncio.get_running_loop().create_task(self._housekeeping())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _publish(self, topic: str, event: ClusterEvent) -> None:
        try:
            await self.broker.publish(topic, _encoder.encode(event))
        except DocStreamError as exc:
            # The log is the truth: peers repair by seq. Presence heals with the next heartbeat.
            self.publish_failures += 1
            log.warning("publish on %s failed: %s", topic, exc.detail)

    # --- this node's events ----------------------------------------------------------------------

    def listening(self, event_type: type[Event]) -> bool:
        if event_type in (ChangeCommitted, PresenceChanged):
            return self.broker.has_peers  # alone: nobody to tell, build nothing
        return True

    async def change_committed(self, event: ChangeCommitted) -> None:
        if self.broker.has_peers:
            entries = [_entry(e) for e in event.entries]
            await self._publish(self.topic(event.doc_id), OpsEvent(event.doc_id, entries))

    async def presence_changed(self, event: PresenceChanged) -> None:
        if not self.broker.has_peers:
            return
        node, doc_id = self.broker.instance_id, event.doc_id
        if event.action == "cursor":
            peer, msg = event.payload
            assert isinstance(msg, SetCursor)
            message = PresenceEvent(doc_id, "cursor", node, [peer], msg.anchor, msg.head)
        else:
            message = PresenceEvent(doc_id, event.action, node, [event.payload])  # type: ignore[arg-type]
        await self._publish(self.topic(doc_id), message)

    async def room_opened(self, event: RoomOpened) -> None:
        doc_id = event.doc_id
        await self.broker.subscribe(self.topic(doc_id), self._on_doc_message)
        await self._publish(
            self.topic(doc_id), PresenceEvent(doc_id, "sync", self.broker.instance_id)
        )
        # Anything committed elsewhere between our load and our subscription:
        room = self.hub.rooms.get(doc_id)
        if room is not None:
            self._enqueue(room, m.CallItem(_catch_up))

    async def room_stopped(self, event: RoomStopped) -> None:
        await self.broker.unsubscribe(self.topic(event.doc_id))

    async def document_deleted(self, event: DocumentDeleted) -> None:
        await self._publish(EVENTS, DeletedEvent(event.doc_id))

    async def access_changed(self, event: AccessChanged) -> None:
        await self._publish(EVENTS, AccessEvent(event.doc_id, event.user_id))

    async def broker_reconnected(self, event: BrokerReconnected) -> None:
        await self.repair_all()

    async def publish_peer(self, topic: str, body: bytes) -> None:
        """:class:`~docstream.collab.extensions.PeerChannel`: tell the other nodes' extensions."""
        await self._publish(EVENTS, CustomEvent(topic, msgspec.Raw(body)))

    # --- incoming --------------------------------------------------------------------------------

    async def _on_event(self, data: bytes) -> None:
        event = _decoder.decode(data)
        if isinstance(event, AccessEvent):
            await self.hub.access_changed(event.doc_id, event.user_id)
        elif isinstance(event, DeletedEvent):
            await self.hub.document_deleted(event.doc_id)
        elif isinstance(event, CustomEvent):
            await self.extensions.emit(PeerMessage(event.kind, bytes(event.body)))

    async def _on_doc_message(self, data: bytes) -> None:
        event = _decoder.decode(data)
        if isinstance(event, OpsEvent):
            room = self.hub.rooms.get(event.doc_id)
            if room is not None:
                entries = [_log_entry(event.doc_id, w) for w in event.entries]
                self._enqueue(room, m.RemoteItem(entries))
        elif isinstance(event, PresenceEvent):
            room = self.hub.rooms.get(event.doc_id)
            if room is None:
                return
            if event.action == "sync":
                await self._announce(event.doc_id)
                return
            expiry = time.monotonic() + 3 * self.heartbeat
            self._enqueue(
                room,
                m.RemotePresenceItem(
                    event.action, event.node, event.peers, event.anchor, event.head, expiry
                ),
            )

    def _enqueue(self, room: Any, item: m.Item) -> None:
        try:
            room.inbox.put_nowait(item)
        except asyncio.QueueFull:
            # The Room is saturated; the periodic seq poll repairs any ops this drops.
            log.warning("room %s inbox full; dropped a cluster message", room.doc_id)

    # --- repair and heartbeats -------------------------------------------------------------------

    async def repair_all(self) -> None:
        for room in list(self.hub.rooms.values()):
            self._enqueue(room, m.CallItem(_catch_up))

    async def _announce(self, doc_id: str) -> None:
        room = self.hub.rooms.get(doc_id)
        if room is None:
            return
        peers = [c.peer for c in room.presence.connections() if c.peer is not None]
        if peers:
            await self._publish(
                self.topic(doc_id), PresenceEvent(doc_id, "here", self.broker.instance_id, peers)
            )

    async def _housekeeping(self) -> None:
        last_poll = time.monotonic()
        while True:
            await asyncio.sleep(self.heartbeat)
            for doc_id, room in list(self.hub.rooms.items()):
                await self._announce(doc_id)
                self._enqueue(room, m.ExpirePresenceItem(time.monotonic()))
            if time.monotonic() - last_poll >= self.seq_poll_interval:
                last_poll = time.monotonic()
                for room in list(self.hub.rooms.values()):
                    try:
                        record = await self.hub.store.get_document(room.doc_id)
                    except DocStreamError:
                        break  # the database is down; try again next round
                    if record is not None and record.seq > room.seq:
                        log.info(
                            "room %s is behind the log (%d < %d); repairing",
                            room.doc_id,
                            room.seq,
                            record.seq,
                        )
                        self._enqueue(
                            room, m.CallItem(_catch_up, asyncio.get_running_loop().create_future())
                        )


async def _catch_up(room: Any) -> None:
    await room.catch_up()
