"""The client side of the protocol as a sans-I/O state machine (no sockets, no clock).

Message sequence (docs/protocol.md §5)::

    client                              server
    hello{replica, since}      ──►
                               ◄──      welcome{seq, role, user, peers, state | ops}
    (re-send every unacked ops message, same ids)
    ops{ref, ops}              ──►
                               ◄──      ack{ref, seq[, n]}     (durably stored at seq)
                               ◄──      ops{seq, author, ...}  (others' edits, in seq order)
                               ◄──      batch{frames}          (several of the above, in order)
    cursor{anchor, head}       ──►
                               ◄──      presence / cursor / role / error

Invariants: every local edit is integrated at once and kept in ``pending`` until its ack, so it
survives any number of reconnects; a transient refusal (``storage_unavailable``, ``rate_limited``,
``internal``) sets ``resync``: the transport reconnects and re-sends everything pending in order,
because later messages may depend on the refused one (their ``unknown_id`` is then not final);
``since`` is the last server seq applied (frames on one
connection arrive in seq order, acks included); a ``state`` in ``welcome`` replaces the replica and
the pending edits are re-applied on top of it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from docstream.crdt import Change, CharId, Document, Op
from docstream.protocol.messages import (
    Ack,
    Batch,
    CommentList,
    CommentsRemoved,
    CommentUpsert,
    ErrorFrame,
    Hello,
    Peer,
    PeerCursor,
    Presence,
    RemoteOps,
    RoleChanged,
    RoleName,
    ServerFrame,
    SetCursor,
    SubmitOps,
    UserInfo,
    Welcome,
)

#: Errors after which re-sending the same ops can never succeed.
PERMANENT_ERRORS = frozenset(
    {
        "bad_message",
        "read_only",
        "unknown_id",
        "duplicate_id_conflict",
        "forbidden_replica",
        "too_large",
    }
)


@dataclass(frozen=True, slots=True)
class Welcomed:
    seq: int
    role: RoleName
    user: UserInfo
    peers: list[Peer]
    changes: list[Change]


@dataclass(frozen=True, slots=True)
class RemoteChange:
    seq: int
    author: str
    replica: str
    changes: list[Change]


@dataclass(frozen=True, slots=True)
class Acked:
    ref: int
    seq: int


@dataclass(frozen=True, slots=True)
class PeerJoined:
    peer: Peer


@dataclass(frozen=True, slots=True)
class PeerLeft:
    peer: Peer


@dataclass(frozen=True, slots=True)
class CursorMoved:
    peer: Peer
    anchor: str | None
    head: str | None


@dataclass(frozen=True, slots=True)
class RoleUpdated:
    role: RoleName


@dataclass(frozen=True, slots=True)
class Refused:
    """The server refused a message; ``dropped`` ops will never be re-sent."""

    code: str
    message: str
    ref: int | None
    dropped: list[Op] | None


@dataclass(frozen=True, slots=True)
class CommentsChanged:
    """A comment frame (docs/protocol.md §5.4): the list after ``welcome``, a new or changed
    comment, removed ones, or the refusal of one of our comment frames. The session keeps no
    comments: a client that shows them keeps its own."""

    frame: CommentList | CommentUpsert | CommentsRemoved | ErrorFrame


@dataclass(frozen=True, slots=True)
class Desynced:
    """A frame arrived out of order; reconnect (with ``since``) to repair."""

    reason: str


Event = (
    Welcomed
    | RemoteChange
    | Acked
    | PeerJoined
    | PeerLeft
    | CursorMoved
    | RoleUpdated
    | Refused
    | CommentsChanged
    | Desynced
)


def text_diff(old: str, new: str) -> list[Change]:
    """One change turning ``old`` into ``new`` (common prefix and suffix kept)."""
    if old == new:
        return []
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return [Change(start, end_old - start, new[start:end_new])]


class ClientSession:
    """One replica of one document, with its unacknowledged edits."""

    def __init__(self, replica: str, doc: Document | None = None) -> None:
        self.doc = doc if doc is not None else Document(replica=replica)
        self.replica = replica
        self.since = 0
        self.pending: OrderedDict[int, list[Op]] = OrderedDict()
        self.next_ref = 1
        self.live = False
        #: Set by a transient refusal: reconnect (hello + re-send everything pending, in order).
        self.resync = False
        self.role: RoleName | None = None
        self.peers: dict[str, Peer] = {}

    # --- outgoing --------------------------------------------------------------------------------

    def hello(self) -> Hello:
        self.live = False
        self.resync = False
        return Hello(replica=self.replica, since=self.since, batch=True)

    def _submit(self, ops: list[Op]) -> SubmitOps | None:
        if not ops:
            return None
        ref = self.next_ref
        self.next_ref += 1
        self.pending[ref] = ops
        return SubmitOps(ref=ref, ops=ops) if self.live else None

    def insert(self, index: int, text: str) -> SubmitOps | None:
        """Integrate a local insert; return the frame to send now (None while offline)."""
        return self._submit(self.doc.insert(index, text))

    def delete(self, index: int, length: int) -> SubmitOps | None:
        return self._submit(self.doc.delete(index, length))

    def cursor(self, anchor_index: int, head_index: int | None = None) -> SetCursor:
        """A caret/selection given as indexes, anchored to the char before each end."""
        head_index = anchor_index if head_index is None else head_index
        return SetCursor(anchor=self._anchor(anchor_index), head=self._anchor(head_index))

    def _anchor(self, index: int) -> str | None:
        return None if index <= 0 else str(self.doc.id_at(min(index, len(self.doc)) - 1))

    def index_of_anchor(self, anchor: str | None) -> int:
        """Where a remote caret anchored to ``anchor`` is now."""
        if anchor is None:
            return 0
        cid = CharId.parse(anchor)
        if not self.doc.has(cid):
            return 0
        visible_before = self.doc.index_of(cid)
        # the caret is after the anchor char (if it is still visible)
        try:
            return visible_before + (1 if self.doc.id_at(visible_before) == cid else 0)
        except IndexError:
            return visible_before

    def resend(self) -> list[SubmitOps]:
        """Every unacknowledged message, in order (after ``welcome``)."""
        return [SubmitOps(ref=ref, ops=ops) for ref, ops in self.pending.items()]

    # --- incoming --------------------------------------------------------------------------------

    def receive(self, frame: ServerFrame) -> list[Event]:
        if isinstance(frame, Welcome):
            return [self._welcome(frame)]
        if isinstance(frame, RemoteOps):
            if frame.seq <= self.since:
                return []
            if frame.seq != self.since + 1:
                return [Desynced(f"expected seq {self.since + 1}, got {frame.seq}")]
            changes = self.doc.apply_and_diff(frame.ops)
            self.since = frame.seq
            return [RemoteChange(frame.seq, frame.author, frame.replica, changes)]
        if isinstance(frame, Ack):
            # n consecutive messages: refs ref-n+1..ref, stored at seqs seq-n+1..seq.
            acked: list[Event] = []
            for back in range(frame.n - 1, -1, -1):
                self.pending.pop(frame.ref - back, None)
                acked.append(Acked(frame.ref - back, frame.seq - back))
            self.since = max(self.since, frame.seq)
            return acked
        if isinstance(frame, Batch):
            events: list[Event] = []
            for inner in frame.frames:
                events += self.receive(inner)
            return events
        if isinstance(frame, Presence):
            if frame.action == "join":
                self.peers[frame.peer.replica] = frame.peer
                return [PeerJoined(frame.peer)]
            self.peers.pop(frame.peer.replica, None)
            return [PeerLeft(frame.peer)]
        if isinstance(frame, PeerCursor):
            return [CursorMoved(frame.peer, frame.anchor, frame.head)]
        if isinstance(frame, RoleChanged):
            self.role = frame.role
            return [RoleUpdated(frame.role)]
        if isinstance(frame, CommentList | CommentUpsert | CommentsRemoved):
            return [CommentsChanged(frame)]
        assert isinstance(frame, ErrorFrame)
        if frame.comment is not None:
            return [CommentsChanged(frame)]
        dropped = None
        if frame.ref is not None and frame.ref in self.pending:
            if frame.code in PERMANENT_ERRORS and not self.resync:
                dropped = self.pending.pop(frame.ref)
            else:
                # A transient refusal (the database is down, rate limited...). Later messages
                # may build on the refused one, so their refusals on this connection say
                # nothing final: keep everything and resynchronise on a new connection.
                self.resync = True
        return [Refused(frame.code, frame.message, frame.ref, dropped)]

    def _welcome(self, frame: Welcome) -> Welcomed:
        before = self.doc.text
        if frame.state is not None:
            doc = Document.decode_state(frame.state, replica=self.replica)
            for ops in self.pending.values():
                doc.apply(ops)
            self.doc = doc
            changes = text_diff(before, doc.text)
        else:
            changes = []
            for entry in frame.ops or []:
                if entry.seq > self.since:
                    changes += self.doc.apply_and_diff(entry.ops)
                    self.since = entry.seq
        self.since = frame.seq
        self.live = True
        self.role = frame.role
        self.peers = {p.replica: p for p in frame.peers}
        return Welcomed(frame.seq, frame.role, frame.user, list(frame.peers), changes)
