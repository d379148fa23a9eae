"""Every WebSocket frame as a msgspec Struct with an explicit ``type`` tag.

The tags are the protocol (renaming a class never changes it). Client frames and server frames are
two separate tagged unions, decoded by one module-level decoder each (``docstream.protocol.codec``).
The server forwards ops it has validated as pre-encoded JSON (``msgspec.Raw``) so a broadcast costs
one encode, whatever the number of receivers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from docstream.crdt import Op

RoleName = Literal["owner", "editor", "commenter", "viewer"]

# --- shared pieces -------------------------------------------------------------------------------


class Peer(msgspec.Struct, frozen=True):
    """Someone connected to the document (one per replica)."""

    user_id: str
    name: str
    color: str
    replica: str


class UserInfo(msgspec.Struct, frozen=True):
    id: str
    name: str
    color: str


class SeqOps(msgspec.Struct, frozen=True):
    """One log entry inside ``welcome.ops``."""

    seq: int
    author: str
    ops: list[Op]
    replica: str = ""


class SeqOpsRaw(msgspec.Struct, frozen=True):
    seq: int
    author: str
    ops: msgspec.Raw
    replica: str = ""


# --- comments (docs/protocol.md §5.4) ----------------------------------------------------------

#: A comment id, chosen by the client (a re-sent frame with the same id is the same comment).
CommentId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
#: A comment's text (its length in characters; blank is refused by the server too).
CommentBody = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
#: The user ids @mentioned (the server keeps only people with access to the document).
Mentions = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=20)]
#: The CRDT id of a character ("counter@replica").
AnchorId = Annotated[str, msgspec.Meta(max_length=64)]
#: The text the comment was written on, as the client saw it (for "on deleted text").
Quote = Annotated[str, msgspec.Meta(max_length=1000)]


class CommentInfo(msgspec.Struct, frozen=True):
    """One comment as every client sees it. ``thread`` is the id of the thread's first comment
    (its own id for a first comment, which alone has the anchor and ``resolved``)."""

    id: str
    thread: str
    author_id: str
    author_name: str
    body: str
    created_at: datetime
    anchor_start: str
    anchor_end: str
    quote: str
    mentions: list[str]
    resolved: bool
    version: int
    edited_at: datetime | None = None


# --- client -> server ----------------------------------------------------------------------------


class Hello(msgspec.Struct, tag="hello", tag_field="type", frozen=True):
    replica: str
    since: int = 0
    #: The client reads ``batch`` frames and acks for several messages (``ack.n``): the server
    #: may then send what it has queued for the socket as one frame.
    batch: bool = False


class SubmitOps(msgspec.Struct, tag="ops", tag_field="type", frozen=True):
    ref: int
    ops: list[Op]


class SetCursor(msgspec.Struct, tag="cursor", tag_field="type", frozen=True):
    anchor: str | None = None
    head: str | None = None


class AddComment(msgspec.Struct, tag="comment_add", tag_field="type", frozen=True):
    """Start a thread on the characters ``start``..``end`` (CRDT ids, inclusive)."""

    id: CommentId
    body: CommentBody
    start: AnchorId
    end: AnchorId
    quote: Quote = ""
    mentions: Mentions = []


class ReplyComment(msgspec.Struct, tag="comment_reply", tag_field="type", frozen=True):
    id: CommentId
    thread: CommentId
    body: CommentBody
    mentions: Mentions = []


class EditComment(msgspec.Struct, tag="comment_edit", tag_field="type", frozen=True):
    """Replace the text of one's own comment."""

    id: CommentId
    body: CommentBody
    mentions: Mentions = []


class DeleteComment(msgspec.Struct, tag="comment_delete", tag_field="type", frozen=True):
    """Delete one's own comment (a thread's first comment takes its replies with it)."""

    id: CommentId


class ResolveComment(msgspec.Struct, tag="comment_resolve", tag_field="type", frozen=True):
    """Resolve (or reopen, ``resolved`` false) the thread whose first comment is ``id``."""

    id: CommentId
    resolved: bool = True


CommentFrame = AddComment | ReplyComment | EditComment | DeleteComment | ResolveComment

ClientFrame = (
    Hello
    | SubmitOps
    | SetCursor
    | AddComment
    | ReplyComment
    | EditComment
    | DeleteComment
    | ResolveComment
)

# --- server -> client ----------------------------------------------------------------------------


class Welcome(msgspec.Struct, tag="welcome", tag_field="type", frozen=True, omit_defaults=True):
    doc_id: str
    seq: int
    role: RoleName
    user: UserInfo
    peers: list[Peer]
    state: bytes | None = None  # base64 in JSON; docs/state-format.md
    ops: list[SeqOps] | None = None


class WelcomeRaw(msgspec.Struct, tag="welcome", tag_field="type", frozen=True, omit_defaults=True):
    doc_id: str
    seq: int
    role: RoleName
    user: UserInfo
    peers: list[Peer]
    state: bytes | None = None
    ops: list[SeqOpsRaw] | None = None


class RemoteOps(msgspec.Struct, tag="ops", tag_field="type", frozen=True):
    seq: int
    author: str
    replica: str
    ops: list[Op]


class RemoteOpsRaw(msgspec.Struct, tag="ops", tag_field="type", frozen=True):
    seq: int
    author: str
    replica: str
    ops: msgspec.Raw


class Ack(msgspec.Struct, tag="ack", tag_field="type", frozen=True, omit_defaults=True):
    """The messages ``ref - n + 1`` .. ``ref`` are stored at ``seq - n + 1`` .. ``seq``."""

    ref: int
    seq: int
    #: How many consecutive messages this ack covers (more than one only after ``hello.batch``).
    n: int = 1


class Presence(msgspec.Struct, tag="presence", tag_field="type", frozen=True):
    action: Literal["join", "leave"]
    peer: Peer


class PeerCursor(msgspec.Struct, tag="cursor", tag_field="type", frozen=True):
    peer: Peer
    anchor: str | None
    head: str | None


class RoleChanged(msgspec.Struct, tag="role", tag_field="type", frozen=True):
    role: RoleName


class ErrorFrame(msgspec.Struct, tag="error", tag_field="type", frozen=True, omit_defaults=True):
    code: str
    message: str
    ref: int | None = None
    #: The id of the refused comment frame.
    comment: str | None = None


class CommentUpsert(msgspec.Struct, tag="comment", tag_field="type", frozen=True):
    """A comment is new or changed (keep the copy with the higher ``version``)."""

    comment: CommentInfo


class CommentsRemoved(msgspec.Struct, tag="comment_removed", tag_field="type", frozen=True):
    """These comments were deleted (a thread's first comment with its replies)."""

    ids: list[str]


class CommentList(msgspec.Struct, tag="comments", tag_field="type", frozen=True):
    """Every comment of the document, sent right after ``welcome`` (replaces what the client
    held)."""

    comments: list[CommentInfo]


#: A server frame that may travel inside a ``batch``.
SingleFrame = (
    Welcome
    | RemoteOps
    | Ack
    | Presence
    | PeerCursor
    | RoleChanged
    | ErrorFrame
    | CommentUpsert
    | CommentsRemoved
    | CommentList
)


class Batch(msgspec.Struct, tag="batch", tag_field="type", frozen=True):
    """Several server frames sent as one (only after ``hello.batch``), handled in order."""

    frames: list[SingleFrame]


ServerFrame = SingleFrame | Batch

#: The deterministic peer colours (docs/protocol.md §5).
COLORS = ("#E02424", "#3F83F8", "#0E9F6E", "#D03801", "#7E3AF2", "#ECE513", "#06B6D4", "#EC4899")


def color_for(user_id: str) -> str:
    """djb2 over the UTF-8 bytes of the user id, modulo the palette."""
    h = 5381
    for byte in user_id.encode("utf-8"):
        h = (h * 33 + byte) & 0xFFFFFFFF
    return COLORS[h % len(COLORS)]
