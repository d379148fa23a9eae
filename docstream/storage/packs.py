"""Packed log segments: a thousand old log entries in one compressed blob.

One row per edit is what makes the hot path cheap (append, read the tail after a seq) and the
history expensive to keep: the whole automerge-paper trace (260,000 edits) took 87 MB in SQLite,
most of it the same replica id, user id and timestamp prefix repeated in every row and index
entry. Entries older than a document's latest snapshot are rarely read (a full replay, an old
catch-up, the history panel scrolled far back), so the backends move them, a thousand at a time,
into one row each of ``ops_packs`` holding this encoding:

- one version byte, then zlib (level 9) of a msgpack array of columns;
- user ids and replica ids once per pack, entries and op ids refer to them by index;
- numbers that grow together (counters, positions, times) as differences from the entry before,
  so a run of typing becomes the same few small numbers over and over, which zlib then folds;
- each entry's ops in a binary form (kind, replica, counter, ``after`` relative to the counter,
  text or length); the kind, length and preview of the history summary are derived from the ops
  and stored only where they differ.

Decoding gives back every column exactly, the JSON payload byte for byte (an entry whose stored
payload is not the canonical JSON of its ops is kept as it was), so history, restore and catch-up
by ``seq`` read the same entries whether they are packed or not. Packs are aligned: pack *k* holds
seqs ``k * PACK_ROWS + 1`` to ``(k + 1) * PACK_ROWS``, and everything below a document's newest
pack is packed. This module does no I/O; the backends move the rows.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import msgspec

from docstream.crdt.ops import Delete, Insert, Op, op_decoder
from docstream.errors import StateFormatError
from docstream.storage.records import EditRun, LogEntry

#: Log entries per pack.
PACK_ROWS = 1000
#: The first byte of a pack.
PACK_VERSION = 1
#: The first byte of a stored ops payload (as :mod:`docstream.collab.loader` writes it).
PAYLOAD_VERSION = 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_encoder = msgspec.json.Encoder()


class Row(NamedTuple):
    """One log entry as a backend stores it (``created_at`` aware)."""

    seq: int
    user_id: str
    replica: str
    counter_lo: int | None
    counter_hi: int | None
    payload: bytes
    kind: str
    position: int
    length: int
    preview: str
    created_at: datetime


#: The columns of ops_log in the order of :class:`Row` (both backends select them this way).
ROW_COLUMNS = ", ".join(Row._fields)


class _Columns(msgspec.Struct, array_like=True):
    first_seq: int
    users: list[str]
    replicas: list[str]
    user: list[int]
    replica: list[int]
    #: Differences from the entry before (``None`` stays ``None`` and leaves the base as it was).
    counter_lo: list[int | None]
    counter_hi: list[int | None]
    position: list[int]
    created_us: list[int]
    #: Ops per entry; -1: the payload is in ``raw`` as stored.
    nops: list[int]
    #: Per op: 0 kind ins, replica, counter - previous counter, after's replica (-1: none),
    #: after's counter - counter; 1 kind del, replica, counter - previous counter, length.
    ops: list[int]
    #: Code points of each insert's text, and the texts one after another.
    text_lengths: list[int]
    texts: str
    raw: list[bytes]
    #: Entries whose summary is not the one derived from their ops: index, kind, length, preview.
    summaries: list[tuple[int, str, int, str]]


def derived_summary(ops: Sequence[Op]) -> tuple[str, int, str]:
    """Kind, length and preview of a message, as the Room summarises it for the history."""
    inserted = "".join(op.text for op in ops if isinstance(op, Insert))
    deleted = sum(op.length for op in ops if isinstance(op, Delete))
    kind = "insert" if not deleted else "delete" if not inserted else "edit"
    return kind, len(inserted) or deleted, inserted[:100]


def _split(char_id: str) -> tuple[str, int] | None:
    replica, sep, counter = char_id.rpartition(":")
    if not sep or not counter.isdigit() or str(int(counter)) != counter:
        return None
    return replica, int(counter)


def _ops_of(payload: bytes) -> list[Op] | None:
    """The ops of a payload if it is exactly their canonical encoding, else None."""
    if payload[:1] != bytes([PAYLOAD_VERSION]):
        return None
    try:
        ops = op_decoder.decode(payload[1:])
    except msgspec.DecodeError:
        return None
    if not ops or bytes([PAYLOAD_VERSION]) + _encoder.encode(ops) != payload:
        return None
    return ops


def _delta(values: Iterable[int | None]) -> list[int | None]:
    out: list[int | None] = []
    base = 0
    for v in values:
        if v is None:
            out.append(None)
        else:
            out.append(v - base)
            base = v
    return out


def _undelta(values: Iterable[int | None]) -> list[int | None]:
    out: list[int | None] = []
    base = 0
    for v in values:
        if v is None:
            out.append(None)
        else:
            base += v
            out.append(base)
    return out


def encode_pack(rows: Sequence[Row]) -> bytes:
    """Pack consecutive log entries (seqs without gaps, oldest first)."""
    if not rows:
        raise ValueError("a pack needs at least one entry")
    users: dict[str, int] = {}
    replicas: dict[str, int] = {}

    def rep(name: str) -> int:
        return replicas.setdefault(name, len(replicas))

    cols = _Columns(
        first_seq=rows[0].seq,
        users=[],
        replicas=[],
        user=[],
        replica=[],
        counter_lo=_delta(r.counter_lo for r in rows),
        counter_hi=_delta(r.counter_hi for r in rows),
        position=[],
        created_us=[],
        nops=[],
        ops=[],
        text_lengths=[],
        texts="",
        raw=[],
        summaries=[],
    )
    texts: list[str] = []
    prev_position = prev_us = prev_counter = 0
    for index, row in enumerate(rows):
        if row.seq != rows[0].seq + index:
            raise ValueError("the entries of a pack must have consecutive seqs")
        cols.user.append(users.setdefault(row.user_id, len(users)))
        cols.replica.append(rep(row.replica))
        cols.position.append(row.position - prev_position)
        prev_position = row.position
        delta = row.created_at - _EPOCH
        us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        cols.created_us.append(us - prev_us)
        prev_us = us
        ops = _ops_of(row.payload)
        encoded: list[int] = []
        if ops is not None:
            for op in ops:
                at = _split(op.id)
                if at is None:
                    ops = None
                    break
                counter = at[1]
                if isinstance(op, Insert):
                    after = _split(op.after) if op.after is not None else None
                    if op.after is not None and after is None:
                        ops = None
                        break
                    encoded += [0, rep(at[0]), counter - prev_counter]
                    encoded += [-1, 0] if after is None else [rep(after[0]), after[1] - counter]
                    texts.append(op.text)
                    cols.text_lengths.append(len(op.text))
                else:
                    encoded += [1, rep(at[0]), counter - prev_counter, op.length]
                prev_counter = counter
        if ops is None:
            cols.nops.append(-1)
            cols.raw.append(row.payload)
            cols.summaries.append((index, row.kind, row.length, row.preview))
            continue
        cols.nops.append(len(ops))
        cols.ops += encoded
        if derived_summary(ops) != (row.kind, row.length, row.preview):
            cols.summaries.append((index, row.kind, row.length, row.preview))
    cols.users = list(users)
    cols.replicas = list(replicas)
    cols.texts = "".join(texts)
    return bytes([PACK_VERSION]) + zlib.compress(msgspec.msgpack.encode(cols), 9)


def encode_checked(rows: Sequence[Row]) -> bytes:
    """:func:`encode_pack`, refused (``ValueError``) unless decoding gives back exactly ``rows``:
    the rows are deleted once packed, so a pack that would not give them back must never be
    written."""
    blob = encode_pack(rows)
    if decode_pack(blob) != list(rows):
        raise ValueError("the pack does not give back the entries it holds")
    return blob


def decode_pack(blob: bytes) -> list[Row]:
    """The entries of a pack, exactly as they were packed; StateFormatError if it is damaged."""
    if blob[:1] != bytes([PACK_VERSION]):
        raise StateFormatError(f"log pack version {blob[:1]!r} is not supported")
    try:
        cols = msgspec.msgpack.decode(zlib.decompress(blob[1:]), type=_Columns)
    except (zlib.error, msgspec.DecodeError) as exc:
        raise StateFormatError(f"a log pack is damaged: {exc}") from exc
    n = len(cols.nops)
    lows, highs = _undelta(cols.counter_lo), _undelta(cols.counter_hi)
    summaries = {s[0]: s[1:] for s in cols.summaries}
    rows: list[Row] = []
    raw = iter(cols.raw)
    ops_at = text_at = chars_at = 0
    position = us = counter = 0
    reps = cols.replicas
    try:
        for index in range(n):
            position += cols.position[index]
            us += cols.created_us[index]
            count = cols.nops[index]
            if count < 0:
                payload = next(raw)
                kind, length, preview = summaries[index]
            else:
                ops: list[Op] = []
                for _ in range(count):
                    code, r, dc = cols.ops[ops_at : ops_at + 3]
                    counter += dc
                    if code == 0:
                        ar, ac = cols.ops[ops_at + 3 : ops_at + 5]
                        size = cols.text_lengths[text_at]
                        text = cols.texts[chars_at : chars_at + size]
                        text_at += 1
                        chars_at += size
                        after = None if ar < 0 else f"{reps[ar]}:{counter + ac}"
                        ops.append(Insert(f"{reps[r]}:{counter}", after, text))
                        ops_at += 5
                    else:
                        ops.append(Delete(f"{reps[r]}:{counter}", cols.ops[ops_at + 3]))
                        ops_at += 4
                payload = bytes([PAYLOAD_VERSION]) + _encoder.encode(ops)
                kind, length, preview = summaries.get(index) or derived_summary(ops)
            rows.append(
                Row(
                    seq=cols.first_seq + index,
                    user_id=cols.users[cols.user[index]],
                    replica=reps[cols.replica[index]],
                    counter_lo=lows[index],
                    counter_hi=highs[index],
                    payload=payload,
                    kind=kind,
                    position=position,
                    length=length,
                    preview=preview,
                    created_at=_EPOCH + timedelta(microseconds=us),
                )
            )
    except (IndexError, KeyError, ValueError, StopIteration) as exc:
        raise StateFormatError(f"a log pack is damaged: {exc!r}") from exc
    return rows


def pack_authors(rows: Iterable[Row]) -> list[tuple[str, str]]:
    """The distinct (replica, user id) pairs of some entries, in first-seen order."""
    return list(dict.fromkeys((r.replica, r.user_id) for r in rows))


def sum_runs(
    rows: Iterable[tuple[int, str, str, int, datetime]], gap: float, names: dict[str, str]
) -> list[EditRun]:
    """Entries (seq, user id, kind, length, time; oldest first) summed up into runs of one user
    with less than ``gap`` seconds between neighbours, newest run first, as the backends' own
    queries sum them where every entry is a row: for a range that reaches into packs."""
    runs: list[EditRun] = []
    prev_at = _EPOCH
    for seq, user, kind, length, at in rows:
        ins, dels = (0, length) if kind == "delete" else (length, 0)
        last = runs[-1] if runs else None
        if last is not None and user == last.user_id and (at - prev_at).total_seconds() < gap:
            runs[-1] = msgspec.structs.replace(
                last,
                last_seq=seq,
                ended_at=at,
                inserted=last.inserted + ins,
                deleted=last.deleted + dels,
                edits=last.edits + 1,
            )
        else:
            runs.append(EditRun(user, seq, seq, at, at, ins, dels, 1, names.get(user, "")))
        prev_at = at
    return runs[::-1]


def log_entries(doc_id: str, rows: Iterable[Row], names: dict[str, str]) -> list[LogEntry]:
    """Entries as the store's readers return them (``names``: user id -> display name)."""
    return [
        LogEntry(
            doc_id=doc_id,
            seq=r.seq,
            user_id=r.user_id,
            replica=r.replica,
            payload=r.payload,
            kind=r.kind,
            position=r.position,
            length=r.length,
            preview=r.preview,
            created_at=r.created_at,
            user_name=names.get(r.user_id) or "",
        )
        for r in rows
    ]
