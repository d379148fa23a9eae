"""The compact, versioned state encoding (``docs/state-format.md`` is the normative description).

A state is the document's element sequence -- tombstones included, their text dropped -- written
as maximal runs of adjacent elements with consecutive counters of one replica and one deleted
flag. Parents are not stored: integration needs only the sequence and the ids.

Layout of version 1 (all integers unsigned LEB128 varints, minimal length, at most 2**53 - 1)::

    0x01                                   version
    R, then R x (byte length, ASCII name)   replica table, in order of first use
    T, then T bytes                         UTF-8 of the visible text, in sequence order
    N, then N x run                         the sequence
        head = (length - 1) << 3 | deleted << 2 | has_counter << 1 | has_replica
        [replica index]   if has_replica (else: the previous run's replica)
        [counter]         if has_counter (else: the end of the previous run of that replica, or 0)

The decoder refuses anything else with :class:`~docstream.errors.StateFormatError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from docstream.crdt.ids import MAX_COUNTER, REPLICA_RE
from docstream.crdt.steps import Steps, finish
from docstream.errors import StateFormatError

#: The version byte this module writes and the only one it reads.
STATE_VERSION = 1

_Run = tuple[str, int, int, "str | None"]

#: Runs encoded per step of :func:`encode_runs_steps` (about 0.3 ms).
ENCODE_STEP = 256
#: Runs decoded per step of :func:`decode_runs_steps` (about 0.3 ms).
DECODE_STEP = 512


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


#: Longest run one head can describe (``(length - 1) << 3`` must stay at most ``2**53 - 1``).
MAX_RUN_LENGTH = 2**50


def _bounded(runs: Iterable[_Run]) -> Iterable[_Run]:
    """``runs``, with any run longer than :data:`MAX_RUN_LENGTH` written as several."""
    for run in runs:
        replica, counter, length, text = run
        while length > MAX_RUN_LENGTH:
            yield replica, counter, MAX_RUN_LENGTH, None if text is None else text[:MAX_RUN_LENGTH]
            counter += MAX_RUN_LENGTH
            length -= MAX_RUN_LENGTH
            text = None if text is None else text[MAX_RUN_LENGTH:]
        yield replica, counter, length, text


def encode_runs(runs: Iterable[_Run]) -> bytes:
    """Encode maximal runs ``(replica, counter, length, text or None)`` in sequence order."""
    return finish(encode_runs_steps(runs))


def encode_runs_steps(runs: Iterable[_Run]) -> Steps[bytes]:
    """:func:`encode_runs` as a step function (:mod:`~docstream.crdt.steps`): a step per
    :data:`ENCODE_STEP` runs."""
    table: dict[str, int] = {}
    body = bytearray()
    text_bytes = bytearray()
    texts: list[str] = []
    last_end: dict[str, int] = {}
    prev_replica = ""
    count = 0
    pending = iter(_bounded(runs))
    while True:
        before = count
        for replica, counter, length, text in islice(pending, ENCODE_STEP):
            count += 1
            head = (length - 1) << 3
            if text is None:
                head |= 4
            else:
                texts.append(text)
            expected = last_end.get(replica, 0)
            if counter != expected:
                head |= 2
            if replica != prev_replica:
                head |= 1
            _put_varint(body, head)
            if replica != prev_replica:
                index = table.get(replica)
                if index is None:
                    index = table[replica] = len(table)
                _put_varint(body, index)
                prev_replica = replica
            if counter != expected:
                _put_varint(body, counter)
            last_end[replica] = counter + length
        # The text is joined as it comes: half a million pieces at the end take ~10 ms.
        text_bytes += "".join(texts).encode("utf-8")
        texts.clear()
        if count - before < ENCODE_STEP:
            break
        yield
    out = bytearray([STATE_VERSION])
    _put_varint(out, len(table))
    for name in table:
        raw = name.encode("ascii")
        _put_varint(out, len(raw))
        out += raw
    _put_varint(out, len(text_bytes))
    out += text_bytes
    _put_varint(out, count)
    out += body
    return bytes(out)


def _varint(data: bytes, pos: int, what: str) -> tuple[int, int]:
    """Read the varint at ``pos``; return it and the position after it."""
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise StateFormatError(f"state truncated while reading {what}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 49:
            raise StateFormatError(f"varint too long in {what}")
    if byte == 0 and shift:
        raise StateFormatError(f"non-minimal varint in {what}")
    if value > MAX_COUNTER:
        raise StateFormatError(f"{what} out of range")
    return value, pos


def decode_runs(blob: bytes, max_length: int = MAX_RUN_LENGTH) -> list[_Run]:
    """Decode a state blob into runs ``(replica, counter, length, text or None)``.

    Runs longer than ``max_length`` come out as several runs of at most ``max_length`` (the
    document keeps runs short). Checks everything about the layout; the caller checks that no
    id appears twice (it sorts the runs of each replica anyway).

    Raises:
        StateFormatError: unknown version, truncated or malformed input, or a text section that
            does not match the runs.
    """
    return finish(decode_runs_steps(blob, max_length))


def decode_runs_steps(blob: bytes, max_length: int = MAX_RUN_LENGTH) -> Steps[list[_Run]]:
    """:func:`decode_runs` as a step function (:mod:`~docstream.crdt.steps`): a step per
    :data:`DECODE_STEP` runs. Refuses what :func:`decode_runs` refuses, with the same errors."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise StateFormatError(f"state must be bytes, not {type(blob).__name__}")
    data = bytes(blob)
    if not data:
        raise StateFormatError("empty state")
    if data[0] != STATE_VERSION:
        raise StateFormatError(
            f"unknown state version {data[0]} (this build reads {STATE_VERSION})"
        )
    size = len(data)
    r_count, pos = _varint(data, 1, "replica count")
    names: list[str] = []
    listed: set[str] = set()
    for _ in range(r_count):
        length, pos = _varint(data, pos, "replica name length")
        raw = data[pos : pos + length]
        pos += length
        name = raw.decode("latin-1")
        if REPLICA_RE.fullmatch(name) is None:
            raise StateFormatError(f"invalid replica id {name!r} in state")
        if name in listed:
            raise StateFormatError(f"replica {name!r} listed twice in state")
        names.append(name)
        listed.add(name)
    t_size, pos = _varint(data, pos, "text length")
    if pos + t_size > size:
        raise StateFormatError("state truncated while reading text")
    try:
        text = data[pos : pos + t_size].decode("utf-8")
    except UnicodeDecodeError:
        raise StateFormatError("state text is not valid UTF-8") from None
    pos += t_size
    count, pos = _varint(data, pos, "run count")
    if count > size:
        raise StateFormatError("run count larger than the state")
    runs: list[_Run] = []
    append = runs.append
    last_end = [0] * len(names)
    replica = -1
    name = ""
    at = 0
    for first in range(0, count, DECODE_STEP):
        if first:
            yield
        for _ in range(min(DECODE_STEP, count - first)):
            if pos < size and data[pos] < 0x80:
                head = data[pos]
                pos += 1
            else:
                head, pos = _varint(data, pos, "run head")
            if head & 1:
                replica, pos = _varint(data, pos, "replica index")
                if replica >= len(names):
                    raise StateFormatError("replica index out of range in state")
                name = names[replica]
            elif replica < 0:
                raise StateFormatError("the first run of a state must name its replica")
            if head & 2:
                # Inline the common 1- to 3-byte forms (minimal: a last byte of 0 is left to
                # _varint).
                low = data[pos] if pos < size else 0x80
                if low < 0x80:
                    counter = low
                    pos += 1
                else:
                    mid = data[pos + 1] if pos + 1 < size else 0
                    if 0 < mid < 0x80:
                        counter = (low & 0x7F) | mid << 7
                        pos += 2
                    elif mid >= 0x80 and pos + 2 < size and 0 < data[pos + 2] < 0x80:
                        counter = (low & 0x7F) | (mid & 0x7F) << 7 | data[pos + 2] << 14
                        pos += 3
                    else:
                        counter, pos = _varint(data, pos, "counter")
            else:
                counter = last_end[replica]
            length = (head >> 3) + 1
            end = counter + length
            if end > _ID_LIMIT:
                raise StateFormatError("counter out of range in state")
            last_end[replica] = end
            if length > max_length:
                for i in range(0, length, max_length):
                    piece = min(max_length, length - i)
                    append((name, counter + i, piece, None if head & 4 else text[at : at + piece]))
                    if not head & 4:
                        at += piece
            elif head & 4:
                append((name, counter, length, None))
            else:
                append((name, counter, length, text[at : at + length]))
                at += length
    if pos != size:
        raise StateFormatError(f"{size - pos} unexpected trailing bytes in state")
    if at != len(text):
        raise StateFormatError(f"state text has {len(text)} code points but its runs use {at}")
    return runs


_ID_LIMIT = MAX_COUNTER + 1
