"""Judging one incoming ``ops`` message against the Room's replica, without I/O.

A message is applied to the replica atomically or refused: :func:`accept` checks the sender's role,
replica and the limits, applies the message op by op and says, as a typed outcome, what happened:
:class:`Accepted` (a new log entry, or a re-send that changed nothing) or :class:`Refused` (with
``applied`` telling whether some of its ops reached the replica first, so that the Room rebuilds
the replica before judging the next message). Nothing here touches storage or sockets.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

from docstream.collab.connection import Connection
from docstream.collab.loader import encode_payload
from docstream.crdt import CharId, Delete, Document, Insert, Op
from docstream.crdt.ids import MAX_COUNTER
from docstream.crdt.sequence import BLOCK_MAX
from docstream.errors import (
    CrdtError,
    DocStreamError,
    ForbiddenReplicaError,
    InvalidInputError,
    ReadOnlyError,
    TooLargeError,
)
from docstream.protocol.messages import SubmitOps
from docstream.settings import MAX_COUNTER_JUMP, Settings
from docstream.storage.base import NewLogEntry


class Kind(enum.Enum):
    """What an accepted message is for the log."""

    NEW = "new"  #: it changed the replica: a new entry, stored and broadcast
    RESEND = "resend"  #: it changed nothing (a re-send): acknowledged, not stored again


@dataclass(slots=True)
class Accepted:
    """An ``ops`` message applied to the replica, on its way to the log and its ack."""

    conn: Connection
    msg: SubmitOps
    kind: Kind
    entry: NewLogEntry | None  # the entry to store (None for a re-send)
    payload: bytes
    counter_hi: int | None = None
    #: Where it landed in the log (a re-send: where it was first stored; None: not known).
    seq: int | None = None
    answered: bool = False
    #: Where its answer goes instead of ``conn`` (a server-side edit, see ``OpsItem``).
    reply: asyncio.Future[int] | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A message the Room refuses (its sender gets ``error`` with its ``ref``)."""

    error: DocStreamError
    #: Some of its ops reached the replica before the refusal: the replica must be rebuilt.
    applied: bool = False


def accept(
    doc: Document, seq: int, settings: Settings, conn: Connection, msg: SubmitOps, batched: int
) -> Accepted | Refused:
    """Validate and apply one message; what to store for it (nothing for a re-send).

    ``seq`` is the Room's, ``batched`` the number of messages of the batch so far, this one
    included. A message is a re-send, acknowledged without storing it again, only if applying it
    changed nothing (every insert already known with the same text, every delete already done):
    an exact copy of a stored message always is. Anything else is a new entry of the log, stored
    and broadcast in full, known parts included (applying them again is a no-op everywhere), so
    the replica never holds what the log and the others lack.
    """
    try:
        ids = check(doc, settings, conn, msg)
        lo = hi = None
        inserted = 0
        for op, cid in zip(msg.ops, ids, strict=True):
            if isinstance(op, Insert):
                end = cid.counter + len(op.text) - 1
                lo = cid.counter if lo is None else min(lo, cid.counter)
                hi = end if hi is None else max(hi, end)
                if not doc.has(cid):
                    inserted += len(op.text)
        check_size(doc, seq, settings, inserted, batched)
    except DocStreamError as exc:
        return Refused(exc)
    before = len(doc)
    for index, op in enumerate(msg.ops):
        try:
            doc.apply((op,))
        except CrdtError as exc:
            return Refused(exc, applied=index > 0)
    try:
        payload = encode_payload(msg.ops)
        assert conn.replica is not None
        if not inserted and len(doc) == before:
            return Accepted(conn, msg, Kind.RESEND, None, payload, counter_hi=hi)
        kind, position, length, preview = summary(doc, msg.ops, ids[0])
    except DocStreamError as exc:
        return Refused(exc, applied=True)
    entry = NewLogEntry(
        user_id=conn.user_id,
        replica=conn.replica,
        payload=payload,
        counter_lo=lo,
        counter_hi=hi,
        kind=kind,
        position=position,
        length=length,
        preview=preview,
    )
    return Accepted(conn, msg, Kind.NEW, entry, payload, counter_hi=hi)


def check(doc: Document, settings: Settings, conn: Connection, msg: SubmitOps) -> list[CharId]:
    """Role, replica and limits; return the parsed id of every op, or raise the error."""
    if conn.role in ("viewer", "commenter"):
        raise ReadOnlyError(f"{conn.role}s cannot edit this document")
    ops = msg.ops
    if not ops:
        raise InvalidInputError("an ops message needs at least one op")
    if len(ops) > settings.max_ops_per_message:
        raise TooLargeError(
            f"{len(ops)} ops in one message; the limit is {settings.max_ops_per_message}"
        )
    ids = []
    for op in ops:
        cid = CharId.parse(op.id)
        if cid.counter > MAX_COUNTER:
            raise InvalidInputError(f"counter of {op.id} is too large")
        if isinstance(op, Insert):
            if cid.counter > doc.max_counter + MAX_COUNTER_JUMP:
                # A Lamport clock moves to max(seen) + 1; a leap would exhaust everyone's ids.
                raise InvalidInputError(
                    f"insert id {op.id} jumps too far ahead of the document's clock "
                    f"({doc.max_counter})"
                )
            if cid.replica != conn.replica:
                raise ForbiddenReplicaError(
                    f"insert id {op.id} is not of your replica {conn.replica}"
                )
            if "\x00" in op.text:
                # PostgreSQL text (versions, previews) cannot hold it; no editor types it.
                raise InvalidInputError(f"insert {op.id}: text must not contain NUL (U+0000)")
            if len(op.text) > settings.max_insert_length:
                raise TooLargeError(
                    f"an insert of {len(op.text)} characters exceeds {settings.max_insert_length}"
                )
        ids.append(cid)
    return ids


def check_size(doc: Document, seq: int, settings: Settings, inserted: int, batched: int) -> None:
    """The document's caps: refuse growth beyond them (deletes stay possible below the log cap,
    so a full document can still be cut down)."""
    if seq + batched > settings.max_document_log_entries:
        raise TooLargeError(
            f"this document has reached its limit of {settings.max_document_log_entries} "
            "edits; copy its text into a new document to go on"
        )
    if not inserted:
        return
    if len(doc) + inserted > settings.max_document_chars:
        raise TooLargeError(
            f"this edit would make the document longer than its limit of "
            f"{settings.max_document_chars} characters"
        )
    cap = settings.max_document_runs
    if doc.block_count * BLOCK_MAX >= cap and doc.stored_runs() >= cap:
        raise TooLargeError(
            f"this document holds {cap} or more pieces of text and deleted text, its limit; "
            "copy its text into a new document to go on"
        )


def summary(doc: Document, ops: list[Op], first: CharId) -> tuple[str, int, int, str]:
    """History columns: kind, position of the first change, length, inserted text preview."""
    inserted = "".join(op.text for op in ops if isinstance(op, Insert))
    deleted = sum(op.length for op in ops if isinstance(op, Delete))
    kind = "insert" if not deleted else "delete" if not inserted else "edit"
    return kind, doc.index_of(first), len(inserted) or deleted, inserted[:100]
