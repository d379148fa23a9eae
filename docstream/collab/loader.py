"""Loading a document's CRDT from storage: the latest snapshot plus the log entries after it.

The ops payload stored in the log is one format-version byte followed by the JSON list of ops
exactly
as on the wire (PROTOCOL.md §1), so the log can be replayed and served to clients without
re-encoding.
"""

from __future__ import annotations

import secrets

import msgspec

from docstream.crdt import Document, Op, op_decoder
from docstream.errors import StateFormatError
from docstream.storage.base import DocumentStore

PAYLOAD_VERSION = 1
_PREFIX = bytes([PAYLOAD_VERSION])
_encoder = msgspec.json.Encoder()


def encode_payload(ops: list[Op]) -> bytes:
    return _PREFIX + _encoder.encode(ops)


def payload_json(payload: bytes) -> bytes:
    """The JSON list of ops inside a stored payload (checked, not decoded)."""
    if not payload or payload[0] != PAYLOAD_VERSION:
        raise StateFormatError(
            f"ops payload version {payload[:1]!r} is not supported (expected {PAYLOAD_VERSION})"
        )
    return payload[1:]


def decode_payload(payload: bytes) -> list[Op]:
    try:
        return op_decoder.decode(payload_json(payload))
    except msgspec.DecodeError as exc:
        raise StateFormatError(f"a stored ops payload is corrupt: {exc}") from exc


def server_replica() -> str:
    """A fresh replica id for the server's own replicas (never used to create ops)."""
    return "srv_" + secrets.token_urlsafe(12)


async def load_document(
    store: DocumentStore, doc_id: str, replica: str | None = None
) -> tuple[Document, int]:
    """The document's CRDT and the seq it reflects (snapshot + tail)."""
    doc, seq, _ = await load_document_and_state(store, doc_id, replica)
    return doc, seq


async def load_document_and_state(
    store: DocumentStore, doc_id: str, replica: str | None = None
) -> tuple[Document, int, bytes | None]:
    """Like :func:`load_document`, plus the encoded state when the snapshot is already current
    (no tail), so the first ``welcome`` need not encode it again."""
    snapshot = await store.latest_snapshot(doc_id)
    replica = replica or server_replica()
    if snapshot is not None:
        doc = Document.decode_state(snapshot.state, replica=replica)
        seq = snapshot.seq
    else:
        doc, seq = Document(replica=replica), 0
    tail = await store.read_ops(doc_id, seq)
    for entry in tail:
        doc.apply(decode_payload(entry.payload))
        seq = entry.seq
    return doc, seq, snapshot.state if snapshot is not None and not tail else None
