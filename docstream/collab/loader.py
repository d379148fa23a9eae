"""Loading a document's CRDT from storage: the latest good snapshot plus the log entries after it.

The ops payload stored in the log is one format-version byte followed by the JSON list of ops
exactly as on the wire (docs/protocol.md §6), so the log can be replayed and served to clients
without re-encoding.

A stored snapshot is *sealed*: one tag byte and a CRC-32 of the CRDT state in front of it
(``docs/state-format.md``, "Stored snapshots"), so a damaged snapshot is recognised instead of
opening as a different document. A snapshot that does not unseal or decode is logged and skipped:
the next older one is tried, and without any the log is replayed from the start. The log is the
truth; a snapshot is only a shortcut.

Decoding a large state and replaying a long tail take a while (a million runs: about a second of
CPU), so both run on the event loop in slices (:mod:`~docstream.collab.slices`), and the loop
keeps serving other sockets meanwhile. A worker thread would not help: pure Python holds the GIL.
"""

from __future__ import annotations

import logging
import secrets
import zlib

import msgspec

from docstream import metrics, tracing
from docstream.collab import slices
from docstream.crdt import Document, Op, op_decoder
from docstream.crdt.steps import Steps
from docstream.errors import StateFormatError
from docstream.storage.base import DocumentStore, LogEntry

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
_PREFIX = bytes([PAYLOAD_VERSION])
_encoder = msgspec.json.Encoder()
#: First byte of a sealed snapshot (a CRDT state starts with its own version byte, 0x01).
SEAL_TAG = 0xD5
#: Log entries replayed per step of a sliced replay.
REPLAY_STEP = 16
#: The span of a document load (latest good snapshot plus the log after it).
LOAD_SPAN = "document.load"


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


def seal_state(state: bytes) -> bytes:
    """A CRDT state as stored in a snapshot: tag, CRC-32 (big-endian), the state."""
    return bytes([SEAL_TAG]) + zlib.crc32(state).to_bytes(4, "big") + state


def unseal_state(blob: bytes) -> bytes:
    """The CRDT state inside a stored snapshot; StateFormatError if it is damaged.

    Snapshots written before sealing (a bare state, version byte 0x01) are read as they are.
    """
    if blob[:1] == bytes([SEAL_TAG]):
        if len(blob) < 5:
            raise StateFormatError("a sealed snapshot is cut short")
        state = blob[5:]
        if zlib.crc32(state).to_bytes(4, "big") != blob[1:5]:
            raise StateFormatError("a snapshot's checksum does not match its content")
        return state
    if blob[:1] == b"\x01":
        return blob
    raise StateFormatError(f"a snapshot starts with an unknown tag {blob[:1]!r}")


def server_replica() -> str:
    """A fresh replica id for the server's own replicas (never used to create ops)."""
    return "srv_" + secrets.token_urlsafe(12)


def _replay_steps(doc: Document, tail: list[LogEntry]) -> Steps[None]:
    for i, entry in enumerate(tail):
        if i % REPLAY_STEP == REPLAY_STEP - 1:
            yield
        doc.apply(decode_payload(entry.payload))


async def load_document(
    store: DocumentStore, doc_id: str, replica: str | None = None, upto: int | None = None
) -> tuple[Document, int]:
    """The document's CRDT and the seq it reflects (snapshot + tail; up to ``upto``)."""
    doc, seq, _ = await load_document_and_state(store, doc_id, replica, upto)
    return doc, seq


async def load_document_and_state(
    store: DocumentStore, doc_id: str, replica: str | None = None, upto: int | None = None
) -> tuple[Document, int, bytes | None]:
    """Like :func:`load_document`, plus the encoded state when the snapshot is already current
    (no tail), so the first ``welcome`` need not encode it again. With ``upto``, the document as
    it was at that seq (the history's "text at this point"): a snapshot from before it, if one is
    kept, and the log entries up to it.

    The document may be frozen (:mod:`~docstream.collab.heap`): when done with it, release it
    with :func:`~docstream.collab.slices.release`.
    """
    if upto is not None:  # a look into the past (history), not a document load: not timed
        return await _load(store, doc_id, replica or server_replica(), upto)
    attributes = {"docstream.doc_id": doc_id} if tracing.enabled() else None
    with metrics.LOAD_SECONDS.time(), tracing.span(LOAD_SPAN, attributes) as span:
        return await _load(store, doc_id, replica or server_replica(), None, span)


async def _load(
    store: DocumentStore,
    doc_id: str,
    replica: str,
    upto: int | None,
    span: tracing.SpanLike = tracing.OFF,
) -> tuple[Document, int, bytes | None]:
    doc, seq, state = Document(replica=replica), 0, None
    before: int | None = None if upto is None else upto + 1
    damaged = False
    while (snapshot := await store.latest_snapshot(doc_id, before_seq=before)) is not None:
        try:
            state = unseal_state(snapshot.state)
            doc = await slices.decode(state, replica)
        except StateFormatError as exc:
            log.error(
                "document %s: the snapshot at seq %d is damaged (%s); trying an older one",
                doc_id,
                snapshot.seq,
                exc.detail,
            )
            before, state, damaged = snapshot.seq, None, True
            continue
        seq = snapshot.seq
        break
    else:
        if damaged:
            log.error("document %s: no usable snapshot; replaying the whole log", doc_id)
    try:
        tail = await store.read_ops(doc_id, seq, None if upto is None else max(upto - seq, 0))
        if tail:
            await slices.run_sliced(_replay_steps(doc, tail))
            seq = tail[-1].seq
    except BaseException:
        slices.release_now(doc)
        raise
    if span.is_recording():
        span.set_attribute("docstream.load.seq", seq)
        span.set_attribute("docstream.load.snapshot_seq", snapshot.seq if snapshot else 0)
        span.set_attribute("docstream.load.snapshot_bytes", len(snapshot.state) if snapshot else 0)
        span.set_attribute("docstream.load.replayed_entries", len(tail))
        span.set_attribute("docstream.load.replayed_bytes", sum(len(e.payload) for e in tail))
    return doc, seq, state if not tail else None
