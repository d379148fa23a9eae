"""Server frames as the text a Connection sends (every part of the Room sends some)."""

from __future__ import annotations

import msgspec

from docstream.collab.loader import payload_json
from docstream.protocol import codec
from docstream.protocol.messages import ErrorFrame, RemoteOpsRaw
from docstream.storage.base import LogEntry


def text(frame: msgspec.Struct) -> str:
    return codec.encode(frame).decode()


def error(code: str, detail: str, ref: int | None = None) -> str:
    return text(ErrorFrame(code, detail, ref))


def remote_ops(seq: int, author: str, replica: str, payload: bytes) -> str:
    """The ``ops`` frame of a log entry (its stored payload embedded as is)."""
    ops = msgspec.Raw(payload_json(payload))
    return text(RemoteOpsRaw(seq=seq, author=author, replica=replica, ops=ops))


def remote_entry(entry: LogEntry) -> str:
    return remote_ops(entry.seq, entry.user_id, entry.replica, entry.payload)
