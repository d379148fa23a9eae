"""Comment frames to everyone who has a document open, on this node and on the others.

A comment is stored by the comments service; what every open socket of the document must then
see (a ``comment`` or ``comment_removed`` frame) is written straight to the sockets of its Room
here, and published to the other nodes, whose :class:`CommentRelay` writes it to theirs. Nothing
waits for the Room's worker: a socket that joins later reads the full list after its
``welcome`` (:func:`send_list`, in the Room's order), from the database the comment is already
in, so it misses nothing whichever comes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from docstream.collab.extensions import Extension, PeerChannel, PeerMessage

if TYPE_CHECKING:
    from docstream.collab.hub import Hub

#: The peer-message topic of comment frames between nodes.
TOPIC = "comments"


class RelayedFrame(msgspec.Struct, frozen=True):
    """A comment frame for the sockets of ``doc_id`` on every node."""

    doc_id: str
    frame: msgspec.Raw


_decoder = msgspec.json.Decoder(RelayedFrame)
_encoder = msgspec.json.Encoder()


def deliver(hub: Hub, doc_id: str, text: str) -> int:
    """Write a frame to every socket of the document on this node; how many there were."""
    room = hub.rooms.get(doc_id)
    if room is None:
        return 0
    conns = list(room.presence.connections())
    for conn in conns:
        conn.send(text)
    return len(conns)


async def broadcast(hub: Hub, peers: PeerChannel | None, doc_id: str, text: str) -> None:
    """Write a frame to the document's sockets here and on the other nodes."""
    deliver(hub, doc_id, text)
    if peers is not None:
        body = _encoder.encode(RelayedFrame(doc_id, msgspec.Raw(text.encode())))
        await peers.publish_peer(TOPIC, body)


class CommentRelay(Extension):
    """Writes the comment frames of other nodes to this node's sockets."""

    name = "comments"

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def peer_message(self, event: PeerMessage) -> None:
        if event.topic != TOPIC:
            return
        relayed = _decoder.decode(event.body)
        deliver(self._hub, relayed.doc_id, bytes(relayed.frame).decode())
