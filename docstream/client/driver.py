"""What a live document does with each frame and each closed connection, without a socket.

``LiveDocument`` (``client/live.py``) owns the WebSocket; this module owns the decisions, so they
are tested without a server (``tests/client``):

- a frame from the server goes through the ``ClientSession``; a ``welcome`` re-sends every
  unacknowledged message; a seq gap (``Desynced``) or a transient refusal (``resync``) ends the
  connection with :data:`~docstream.protocol.codes.CLOSE_RESTART` so the next one catches up
  with ``hello{since}`` and re-sends everything pending, in order;
- a closed connection is retried with exponential backoff, except after a close code that says
  retrying cannot help (invalid ``hello``, forbidden, no such document), after the server replaced
  the connection with a newer one of the same replica (4000: reconnecting would take the replica
  back, and the two would replace each other forever), or, for 4401, when there is no refresh
  token to get a new access token with. A connection the client closed itself (to resynchronise)
  is always re-opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import msgspec

from docstream.protocol import codec
from docstream.protocol.codes import CLOSE_RESTART, CLOSE_UNAUTHENTICATED, FINAL_CLOSE_CODES
from docstream.protocol.session import ClientSession, Desynced, Event, Welcomed

#: The header that carries a document's public link token (docs/protocol.md).
LINK_HEADER = "X-DocStream-Link"
#: How long to wait before reconnecting after a transient refusal (give the database a moment).
RESYNC_PAUSE = 0.5

#: What to do when a connection closed: reconnect, refresh the access token first, or give up.
Reaction = Literal["retry", "refresh", "stop"]


@dataclass(frozen=True, slots=True)
class Restart:
    """Close this connection (``code``, ``reason``) after ``pause`` seconds, and reconnect."""

    reason: str
    pause: float = 0.0
    code: int = CLOSE_RESTART


@dataclass(slots=True)
class Step:
    """What to do after one frame from the server."""

    events: list[Event] = field(default_factory=list)
    #: Encoded frames to send now, in order.
    send: list[str] = field(default_factory=list)
    #: The connection became live (a ``welcome`` arrived).
    welcomed: bool = False
    restart: Restart | None = None


def handshake_headers(token: str | None, link: str | None) -> dict[str, str]:
    """The headers of the WebSocket upgrade: the access token and the public link token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if link is not None:
        headers[LINK_HEADER] = link
    return headers


def reaction_to_close(code: int, *, can_refresh: bool, closed_by_us: bool = False) -> Reaction:
    """Whether a connection closed with ``code`` is worth re-opening (``closed_by_us``: the client
    sent the close first, to reconnect)."""
    if closed_by_us:
        return "retry"
    if code == CLOSE_UNAUTHENTICATED:
        # The token expired or the session ended: a refresh token may get a new one.
        return "refresh" if can_refresh else "stop"
    return "stop" if code in FINAL_CLOSE_CODES or code == CLOSE_RESTART else "retry"


class Backoff:
    """Delays between reconnection attempts: doubling from ``initial`` up to ``maximum``."""

    def __init__(self, maximum: float, initial: float = 0.05) -> None:
        self.initial, self.maximum = initial, maximum
        self.delay = initial

    def reset(self) -> None:
        """A connection was made: the next failure retries quickly again."""
        self.delay = self.initial

    def next(self) -> float:
        """The delay before the next attempt (and double the one after it)."""
        delay = self.delay
        self.delay = min(self.maximum, self.delay * 2)
        return delay


class LiveDriver:
    """The protocol side of one live document across any number of connections."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    def opening(self) -> str:
        """The first frame of a new connection (``hello`` with the last applied seq)."""
        return _text(self.session.hello())

    def outgoing(self, frame: msgspec.Struct | None) -> str | None:
        """The text to send now for a local edit or cursor (None while offline: edits wait in
        ``pending`` and are re-sent after the next ``welcome``)."""
        if frame is None or not self.session.live:
            return None
        return _text(frame)

    def receive(self, data: str | bytes) -> Step:
        """One frame from the server."""
        step = Step(events=self.session.receive(codec.decode_server_frame(data)))
        for event in step.events:
            if isinstance(event, Welcomed):
                step.welcomed = True
                step.send += [_text(message) for message in self.session.resend()]
            elif isinstance(event, Desynced) and step.restart is None:
                step.restart = Restart("desync")
        if self.session.resync and step.restart is None:
            step.restart = Restart("resync", pause=RESYNC_PAUSE)
        return step

    def disconnected(self) -> None:
        """The connection ended: edits wait until the next ``welcome``."""
        self.session.live = False


def _text(frame: msgspec.Struct) -> str:
    return codec.encode(frame).decode()
