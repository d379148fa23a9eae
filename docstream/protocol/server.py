"""The server side of one collaboration socket as a sans-I/O state machine (no sockets, no clock).

The WebSocket route is a pump: it reads a frame, hands it to :meth:`ServerSession.receive` with
the current time, and performs the actions it gets back (reply with an ``error`` frame, join the
room, submit ops, move the cursor, close with a code). Every per-connection rule of the handshake
lives here, so each one is tested without a socket (``tests/protocol``).

States::

    awaiting_hello ──hello (valid)──► live ──► closing
        │  hello invalid: error, close 4400       ▲
        │  no hello by the deadline: close 4408   │ too large 1009, flooding 4429,
        └─────────────────────────────────────────┘ a failure (the error table's close code)

Rules, for every frame, in this order and in every state but ``closing``:

1. a text frame longer than ``max_frame_bytes`` bytes of UTF-8: close 1009;
2. every frame spends the flood budget (before ``hello`` too, whether or not it decodes): one over
   budget gets ``error rate_limited`` (with the ``ref`` of an ``ops`` frame), and persistent
   flooding closes 4429;
3. a binary frame, or text that does not decode to a client frame: ``error bad_message``;
4. before ``hello``, any other frame: ``error bad_message`` (the first frame must be ``hello``); a
   ``hello`` with an invalid replica id or a ``since`` outside 0..2^53-1: ``error`` and close 4400;
5. once live: ``ops`` are submitted, ``cursor`` moves the cursor, a second ``hello`` gets
   ``error bad_message``;
6. comment frames (``comment_add``, ``comment_reply``, ``comment_edit``, ``comment_delete``,
   ``comment_resolve``) also spend a budget of their own (each one is a database write):
   :data:`COMMENT_BURST` at once, then :data:`COMMENTS_PER_SECOND`; one over it gets
   ``error rate_limited`` with the frame's ``comment`` id (the client re-sends it later, the id
   makes that safe).

Before closing with 1009 or 4429 the pump reads and drops what the client is still sending until
it pauses (``Close.discard_first``): a socket closed with unread data is reset, and the client
would lose the close code with it.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Literal

from docstream.crdt.ids import check_replica
from docstream.errors import DocStreamError, ProtocolError, RateLimitedError, TooLargeError
from docstream.protocol import codec
from docstream.protocol.budget import FrameBudget
from docstream.protocol.codes import (
    CLOSE_HELLO_TIMEOUT,
    CLOSE_INVALID_HELLO,
    CLOSE_RATE_LIMITED,
    CLOSE_SERVER_ERROR,
    CLOSE_TOO_LARGE,
    close_code,
)
from docstream.protocol.messages import (
    AddComment,
    ClientFrame,
    CommentFrame,
    DeleteComment,
    EditComment,
    ErrorFrame,
    Hello,
    ReplyComment,
    ResolveComment,
    SetCursor,
    SubmitOps,
)
from docstream.settings import Settings

#: Refused frames in a row (net of accepted ones) that count as flooding.
MAX_STRIKES = 20
#: Comment frames a connection may send at once ...
COMMENT_BURST = 30
#: ... and then per second (each is a database write).
COMMENTS_PER_SECOND = 2.0
_COMMENT_FRAMES = (AddComment, ReplyComment, EditComment, DeleteComment, ResolveComment)
#: The largest ``since`` a hello may carry (2^53 - 1: exact in JavaScript, fits every database).
MAX_SEQ = 2**53 - 1

State = Literal["awaiting_hello", "live", "closing"]


@dataclass(frozen=True, slots=True)
class SocketLimits:
    """The per-connection limits (documented settings; see configuration.md)."""

    hello_timeout: float
    max_frame_bytes: int
    messages_per_second: float
    message_burst: int
    bytes_per_second: float
    byte_burst: int
    max_strikes: int = MAX_STRIKES

    @classmethod
    def from_settings(cls, settings: Settings) -> SocketLimits:
        return cls(
            hello_timeout=settings.hello_timeout,
            max_frame_bytes=settings.max_frame_bytes,
            messages_per_second=settings.ws_messages_per_second,
            message_burst=settings.ws_message_burst,
            bytes_per_second=settings.ws_bytes_per_second,
            byte_burst=settings.ws_byte_burst,
        )


# --- actions: what the pump must do --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer the frame with an ``error`` (``ref``: of the refused ``ops``); the connection stays
    open."""

    error: DocStreamError
    ref: int | None = None
    comment: str | None = None

    @property
    def frame(self) -> ErrorFrame:
        """The ``error`` frame to send."""
        return ErrorFrame(self.error.code, self.error.detail, self.ref, self.comment)


@dataclass(frozen=True, slots=True)
class Join:
    """The handshake is done: join the document's room with this ``hello``."""

    hello: Hello


@dataclass(frozen=True, slots=True)
class Submit:
    """Hand this ``ops`` message to the room."""

    frame: SubmitOps


@dataclass(frozen=True, slots=True)
class MoveCursor:
    """Hand this caret/selection to the room."""

    frame: SetCursor


@dataclass(frozen=True, slots=True)
class Comment:
    """Hand this comment frame to the comments service (it answers and broadcasts)."""

    frame: CommentFrame


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection with ``code``; first read and drop frames until the client pauses if
    ``discard_first`` (so the close frame is not lost to a TCP reset)."""

    code: int
    reason: str
    discard_first: bool = False


Action = Reply | Join | Submit | MoveCursor | Comment | Close


def frame_size(data: str | bytes | None) -> int:
    """Bytes a received frame holds (text as its in-memory size: O(1))."""
    if isinstance(data, str):
        return sys.getsizeof(data)
    return len(data) if data is not None else 0


def ref_of(text: str | None) -> int | None:
    """The ``ref`` of a refused ``ops`` frame, so the client knows which message to keep."""
    if text is None or '"ops"' not in text:
        return None
    with contextlib.suppress(ProtocolError, TooLargeError):
        frame = codec.decode_client_frame(text, len(text))
        if isinstance(frame, SubmitOps):
            return frame.ref
    return None


class ServerSession:
    """One client connection to one document, from the first frame to the close."""

    def __init__(self, limits: SocketLimits, now: float) -> None:
        self.limits = limits
        self.state: State = "awaiting_hello"
        #: When the ``hello`` must have arrived by (None once live or closing): the pump waits for
        #: a frame at most until then and calls :meth:`expire`.
        self.deadline: float | None = now + limits.hello_timeout
        self.hello: Hello | None = None
        self.budget = FrameBudget(
            messages_per_second=limits.messages_per_second,
            message_burst=limits.message_burst,
            bytes_per_second=limits.bytes_per_second,
            byte_burst=limits.byte_burst,
            max_strikes=limits.max_strikes,
            now=now,
        )
        self.comment_budget = FrameBudget(
            messages_per_second=COMMENTS_PER_SECOND,
            message_burst=COMMENT_BURST,
            bytes_per_second=float(limits.bytes_per_second),
            byte_burst=limits.byte_burst,
            max_strikes=limits.max_strikes,
            now=now,
        )

    # --- events from the pump --------------------------------------------------------------------

    def receive(self, data: str | bytes | None, now: float) -> list[Action]:
        """A frame arrived at ``now`` (``str`` for a text frame, ``bytes`` for a binary one)."""
        if self.state == "closing":
            return []
        text = data if isinstance(data, str) else None
        max_bytes = self.limits.max_frame_bytes
        if text is not None and (size := codec.utf8_size(text, max_bytes)) > max_bytes:
            detail = f"frame of {size} bytes exceeds the limit of {max_bytes}"
            return [self._close(CLOSE_TOO_LARGE, detail, discard_first=True)]
        actions: list[Action]
        if not self.budget.take(frame_size(data), now):
            if self.budget.flooding:
                return [self._close(CLOSE_RATE_LIMITED, "rate limited", discard_first=True)]
            actions = [Reply(RateLimitedError("too many messages; slow down"), ref_of(text))]
        elif text is None:
            actions = [Reply(ProtocolError("frames must be JSON text, not binary"))]
        else:
            try:
                frame = codec.decode_client_frame(text, max_bytes)
            except ProtocolError as exc:
                actions = [Reply(exc)]
            else:
                actions = self._handle(frame, now)
        return actions + self.expire(now)

    def expire(self, now: float) -> list[Action]:
        """The time is ``now``: close 4408 if the ``hello`` is overdue."""
        if self.state != "awaiting_hello" or self.deadline is None or now < self.deadline:
            return []
        return [self._close(CLOSE_HELLO_TIMEOUT, "no hello within the time limit")]

    def fail(self, exc: DocStreamError) -> Close:
        """Joining or serving the connection failed with ``exc``: close per the error table."""
        return self._close(close_code(exc), exc.detail)

    def crash(self) -> Close:
        """Something unexpected failed (logged by the pump): close as a server error."""
        return self._close(CLOSE_SERVER_ERROR, "server error")

    # --- rules -----------------------------------------------------------------------------------

    def _handle(self, frame: ClientFrame, now: float) -> list[Action]:
        if self.state == "awaiting_hello":
            if not isinstance(frame, Hello):
                return [Reply(ProtocolError("the first frame must be hello"))]
            try:
                check_replica(frame.replica)
                if frame.since < 0 or frame.since > MAX_SEQ:
                    raise ProtocolError(f"since must be between 0 and {MAX_SEQ}")
            except DocStreamError as exc:
                return [Reply(exc), self._close(CLOSE_INVALID_HELLO, "invalid hello")]
            self.state, self.deadline, self.hello = "live", None, frame
            return [Join(frame)]
        if isinstance(frame, SubmitOps):
            return [Submit(frame)]
        if isinstance(frame, SetCursor):
            return [MoveCursor(frame)]
        if isinstance(frame, _COMMENT_FRAMES):
            if not self.comment_budget.take(0, now):
                error = RateLimitedError("too many comments; slow down")
                return [Reply(error, comment=frame.id)]
            return [Comment(frame)]
        return [Reply(ProtocolError("hello was already received"))]

    def _close(self, code: int, reason: str, *, discard_first: bool = False) -> Close:
        self.state, self.deadline = "closing", None
        return Close(code, reason, discard_first)
