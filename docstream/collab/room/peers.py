"""Who is in a Room: joining (the ``welcome``), leaving, carets, and peers of other nodes.

Runs on the Room's worker, in the order of its inbox. A join binds the client's replica id to its
user (a replica id belongs to one user for good), replaces an older connection of the same
replica, and sends the ``welcome``: the log entries the client lacks when they are few, the encoded
state otherwise. Local joins, leaves and caret moves are handed to the extensions
(:class:`PresenceChanged`: the cluster tells the other nodes); peers of other nodes arrive from
the cluster and expire when their node stops refreshing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from docstream.collab import messages as m
from docstream.collab.connection import CLOSE_REPLACED, Connection
from docstream.collab.extensions import PresenceChanged
from docstream.collab.loader import payload_json
from docstream.collab.presence import CursorState
from docstream.collab.room import frames
from docstream.crdt import CharId
from docstream.errors import DocStreamError, ForbiddenReplicaError
from docstream.protocol.codes import CLOSE_FORBIDDEN
from docstream.protocol.messages import (
    PeerCursor,
    SeqOpsRaw,
    SetCursor,
    UserInfo,
    WelcomeRaw,
)
from docstream.protocol.messages import Presence as PresenceFrame

if TYPE_CHECKING:
    from docstream.collab.room.core import Room

CATCH_UP_LIMIT = 2000  # beyond this many missing entries, `welcome` carries the state instead


async def join(room: Room, item: m.JoinItem) -> None:
    conn, hello = item.conn, item.hello
    bound = await room.context.bind_replica(hello.replica, conn.user_id)
    if bound != conn.user_id:
        conn.send(
            frames.error(ForbiddenReplicaError.code, "this replica id belongs to another user")
        )
        conn.close(CLOSE_FORBIDDEN, "forbidden replica")
        return
    presence = room.presence
    previous = presence.local.get(hello.replica)
    if previous is not None and previous is not conn:
        leave(room, previous)
        previous.close(CLOSE_REPLACED, "replaced by a newer connection of this replica")
    peer = conn.attach(hello.replica)
    conn.batch = hello.batch
    conn.send(frames.text(await welcome(room, conn, hello.since)))
    for replica, cursor in presence.cursors.items():
        if replica != hello.replica:
            conn.send(frames.text(PeerCursor(cursor.peer, cursor.anchor, cursor.head)))
    presence.local[hello.replica] = conn
    frame = frames.text(PresenceFrame("join", peer))
    for other in presence.others(hello.replica):
        other.send(frame)
    await room.extensions.emit(PresenceChanged(room.doc_id, "join", peer))


async def welcome(room: Room, conn: Connection, since: int) -> WelcomeRaw:
    assert conn.replica is not None
    user = UserInfo(id=conn.user_id, name=conn.name, color=conn.color)
    peers = room.presence.peers(excluding=conn.replica)

    def make(state: bytes | None = None, ops: list[SeqOpsRaw] | None = None) -> WelcomeRaw:
        return WelcomeRaw(
            doc_id=room.doc_id,
            seq=room.seq,
            role=conn.role,
            user=user,
            peers=peers,
            state=state,
            ops=ops,
        )

    # A link-only guest gets no log entries from before the link was made (they may insert
    # text deleted before the document was shared): the state instead, which has no such text.
    floor = max(1, conn.catch_up_floor)
    if floor <= since <= room.seq and room.seq - since <= CATCH_UP_LIMIT:
        entries = await room.store.read_ops(room.doc_id, since, room.seq - since)
        if len(entries) == room.seq - since:
            ops = [
                SeqOpsRaw(
                    seq=e.seq,
                    author=e.user_id,
                    replica=e.replica,
                    ops=msgspec.Raw(payload_json(e.payload)),
                )
                for e in entries
            ]
            return make(ops=ops)
    return make(state=await room.encoded_state())


def leave(room: Room, conn: Connection) -> None:
    replica = conn.replica
    presence = room.presence
    if replica is None or presence.local.get(replica) is not conn:
        return
    del presence.local[replica]
    presence.drop_cursor(replica)
    assert conn.peer is not None
    frame = frames.text(PresenceFrame("leave", conn.peer))
    for other in presence.connections():
        other.send(frame)
    room.spawn(room.extensions.emit(PresenceChanged(room.doc_id, "leave", conn.peer)))


def cursor(room: Room, conn: Connection, msg: SetCursor) -> None:
    if not conn.live or conn.peer is None:
        return
    for value in (msg.anchor, msg.head):
        if value is not None:
            try:
                known = room.doc.has(CharId.parse(value))
            except DocStreamError:
                known = False
            if not known:
                conn.send(frames.error("unknown_id", f"cursor names unknown id {value!r}"))
                return
    room.presence.cursors[conn.peer.replica] = CursorState(conn.peer, msg.anchor, msg.head)
    frame = frames.text(PeerCursor(conn.peer, msg.anchor, msg.head))
    for other in room.presence.others(conn.peer.replica):
        other.send(frame)
    room.spawn(room.extensions.emit(PresenceChanged(room.doc_id, "cursor", (conn.peer, msg))))


def _broadcast(room: Room, frame: msgspec.Struct) -> None:
    text = frames.text(frame)
    for conn in room.presence.connections():
        conn.send(text)


def remote_presence(room: Room, item: m.RemotePresenceItem) -> None:
    """A peer of another node joined, left, moved its caret or is still there."""
    presence = room.presence
    remote = presence.remote
    for peer in item.peers:
        if peer.replica in presence.local:
            continue
        if item.action == "leave":
            if remote.pop(peer.replica, None) is not None:
                presence.drop_cursor(peer.replica)
                _broadcast(room, PresenceFrame("leave", peer))
            continue
        if peer.replica not in remote:
            _broadcast(room, PresenceFrame("join", peer))
        remote[peer.replica] = (peer, item.expiry)
        if item.action == "cursor":
            presence.cursors[peer.replica] = CursorState(peer, item.anchor, item.head)
            _broadcast(room, PeerCursor(peer, item.anchor, item.head))


def expire(room: Room, now: float) -> None:
    """Forget the peers of other nodes not refreshed since ``now``."""
    presence = room.presence
    for replica, (peer, expiry) in list(presence.remote.items()):
        if expiry < now:
            del presence.remote[replica]
            presence.drop_cursor(replica)
            _broadcast(room, PresenceFrame("leave", peer))
