"""Every WebSocket frame as a msgspec Struct with an explicit ``type`` tag.

The tags are the protocol (renaming a class never changes it). Client frames and server frames are
two separate tagged unions, decoded by one module-level decoder each (``docstream.protocol.codec``).
The server forwards ops it has validated as pre-encoded JSON (``msgspec.Raw``) so a broadcast costs
one encode, whatever the number of receivers.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from docstream.crdt import Op

RoleName = Literal["owner", "editor", "viewer"]

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


# --- client -> server ----------------------------------------------------------------------------


class Hello(msgspec.Struct, tag="hello", tag_field="type", frozen=True):
    replica: str
    since: int = 0


class SubmitOps(msgspec.Struct, tag="ops", tag_field="type", frozen=True):
    ref: int
    ops: list[Op]


class SetCursor(msgspec.Struct, tag="cursor", tag_field="type", frozen=True):
    anchor: str | None = None
    head: str | None = None


ClientFrame = Hello | SubmitOps | SetCursor

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


class Ack(msgspec.Struct, tag="ack", tag_field="type", frozen=True):
    ref: int
    seq: int


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


ServerFrame = Welcome | RemoteOps | Ack | Presence | PeerCursor | RoleChanged | ErrorFrame

#: The deterministic peer colours (docs/protocol.md §5).
COLORS = ("#E02424", "#3F83F8", "#0E9F6E", "#D03801", "#7E3AF2", "#ECE513", "#06B6D4", "#EC4899")


def color_for(user_id: str) -> str:
    """djb2 over the UTF-8 bytes of the user id, modulo the palette."""
    h = 5381
    for byte in user_id.encode("utf-8"):
        h = (h * 33 + byte) & 0xFFFFFFFF
    return COLORS[h % len(COLORS)]
