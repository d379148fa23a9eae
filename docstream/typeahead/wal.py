"""The typeahead write-ahead log: one file of checksummed mutation records, appended and fsynced.

Format (version 1), all integers big-endian::

    header   magic b"DSTA-WAL" (8 bytes) | version u16
    record*  payload length u32 | CRC-32 of (length bytes + payload) u32 | payload

A payload is the msgpack array ``[seq, op, word]`` (:class:`WalRecord`). ``seq`` numbers every
mutation of a store from 1 and never restarts; a snapshot records the last ``seq`` it includes, so
replay skips what the snapshot already holds (see :mod:`docstream.typeahead.durable`).

Durability: :meth:`WriteAheadLog.append` returns once its records are written and ``fdatasync``-ed;
a batch is one write and one sync, so a crash during the call leaves a prefix of the batch.

Recovery: :meth:`WriteAheadLog.open` reads records in order and stops at the first one that is
incomplete (a torn write) or fails its checksum; it truncates the file there and reports what it
dropped. A record whose checksum is right but whose payload this build cannot decode is not a torn
write: it raises :class:`~docstream.errors.UnsupportedFormatError` and leaves the file alone.
"""

from __future__ import annotations

import enum
import io
import logging
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import msgspec

from docstream.errors import PersistenceError, TooLargeError, UnsupportedFormatError
from docstream.typeahead.fileio import (
    lock_exclusively,
    open_private,
    sync_directory,
    sync_file,
)

logger = logging.getLogger(__name__)

WAL_MAGIC = b"DSTA-WAL"
WAL_VERSION = 1
_HEADER = struct.Struct(">8sH")
_HEADER_BYTES = _HEADER.pack(WAL_MAGIC, WAL_VERSION)
_RECORD = struct.Struct(">II")
#: A payload above this size is refused on write and read back as corruption.
MAX_PAYLOAD = 1 << 20


class Op(enum.IntEnum):
    """A logged mutation of a :class:`~docstream.typeahead.trie.Trie`."""

    INSERT = 1
    SELECT = 2
    REMOVE = 3


class WalRecord(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One logged mutation; ``seq`` is its position in the store's history (from 1)."""

    seq: int
    op: Op
    word: str


class WalScan(msgspec.Struct, frozen=True):
    """What :meth:`WriteAheadLog.open` found: the good records and what it cut off."""

    records: list[WalRecord]
    #: Bytes removed from the end of the file (a torn or corrupt tail, or a torn header).
    dropped_bytes: int = 0
    #: Why bytes were dropped, with the offset of the first bad byte; None when nothing was.
    problem: str | None = None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(WalRecord)


def encode_records(records: Sequence[WalRecord]) -> bytes:
    """The on-disk bytes of ``records``.

    Raises:
        TooLargeError: a record above :data:`MAX_PAYLOAD`.
    """
    parts: list[bytes] = []
    for record in records:
        payload = _encoder.encode(record)
        if len(payload) > MAX_PAYLOAD:
            raise TooLargeError(f"a typeahead word above {MAX_PAYLOAD} bytes cannot be logged")
        length = len(payload).to_bytes(4, "big")
        crc = zlib.crc32(payload, zlib.crc32(length))
        parts.append(length + crc.to_bytes(4, "big") + payload)
    return b"".join(parts)


def scan_records(data: bytes, path: Path) -> tuple[list[WalRecord], int, str | None]:
    """Decode the records after the header; return them, the valid length and any problem."""
    records: list[WalRecord] = []
    offset = _HEADER.size
    end = len(data)
    problem = None
    while offset < end:
        if end - offset < _RECORD.size:
            problem = f"incomplete record header at byte {offset}"
            break
        length, crc = _RECORD.unpack_from(data, offset)
        start = offset + _RECORD.size
        if length > MAX_PAYLOAD or start + length > end:
            problem = f"incomplete record at byte {offset} ({length} bytes announced)"
            break
        payload = data[start : start + length]
        if zlib.crc32(payload, zlib.crc32(data[offset : offset + 4])) != crc:
            problem = f"checksum mismatch in the record at byte {offset}"
            break
        try:
            records.append(_decoder.decode(payload))
        except msgspec.DecodeError as exc:
            raise UnsupportedFormatError(
                f"{path}: the record at byte {offset} has a valid checksum but cannot be read "
                f"({exc}); was it written by a newer DocStream?"
            ) from exc
        offset = start + length
    return records, offset, problem


class WriteAheadLog:
    """An open, exclusively locked WAL file. Not thread-safe: one writer, serialized by the caller.

    Use :meth:`open`; close with :meth:`close` (the lock is released when the file closes).
    """

    def __init__(self, path: Path, file: io.FileIO, size: int) -> None:
        self.path = path
        self._file = file
        self._size = size
        self._broken: str | None = None

    @classmethod
    def open(cls, path: Path) -> tuple[WriteAheadLog, WalScan]:
        """Open (creating if needed) and lock the WAL at ``path``, recovering a torn tail.

        Raises:
            PersistenceError: the file cannot be opened, is locked by another store, or is not
                a WAL.
            UnsupportedFormatError: the file's version, or a checksummed record, is unknown.
        """
        existed = path.exists()
        try:
            file = io.FileIO(path, "a+", opener=open_private)
        except OSError as exc:
            raise PersistenceError(f"cannot open the typeahead WAL {path}: {exc}") from exc
        try:
            if not lock_exclusively(file.fileno()):
                raise PersistenceError(f"the typeahead WAL {path} is in use by another store")
            file.seek(0)
            data = file.readall()
            if len(data) < _HEADER.size:
                scan = cls._start_fresh(file, path, data, existed)
            else:
                scan = cls._recover(file, path, data)
        except OSError as exc:
            file.close()
            raise PersistenceError(f"cannot recover the typeahead WAL {path}: {exc}") from exc
        except BaseException:
            file.close()
            raise
        return cls(path, file, os.fstat(file.fileno()).st_size), scan

    @staticmethod
    def _start_fresh(file: io.FileIO, path: Path, data: bytes, existed: bool) -> WalScan:
        """Write the header into an empty file or over a header torn at creation."""
        if not _HEADER_BYTES.startswith(data):
            raise PersistenceError(f"{path} is not a DocStream typeahead WAL")
        file.truncate(0)
        file.write(_HEADER_BYTES)
        sync_file(file.fileno())
        if not existed:
            sync_directory(path.parent)
        if data:
            problem = "incomplete file header"
            logger.warning("typeahead WAL %s: %s; dropped %d bytes", path, problem, len(data))
            return WalScan([], len(data), problem)
        return WalScan([])

    @staticmethod
    def _recover(file: io.FileIO, path: Path, data: bytes) -> WalScan:
        magic, version = _HEADER.unpack_from(data)
        if magic != WAL_MAGIC:
            raise PersistenceError(f"{path} is not a DocStream typeahead WAL")
        if version != WAL_VERSION:
            raise UnsupportedFormatError(
                f"{path} is typeahead WAL version {version}; this build reads version {WAL_VERSION}"
            )
        records, valid, problem = scan_records(data, path)
        dropped = len(data) - valid
        if dropped:
            file.truncate(valid)
            sync_file(file.fileno())
            logger.warning(
                "typeahead WAL %s: %s; kept %d records, dropped %d bytes",
                path,
                problem,
                len(records),
                dropped,
            )
        return WalScan(records, dropped, problem)

    @property
    def size(self) -> int:
        """The file's length in bytes, header included."""
        return self._size

    def append(self, records: Sequence[WalRecord]) -> None:
        """Append ``records`` in one write and sync them.

        On failure the file is cut back to its previous length, so the log stays a clean sequence
        of records; if even that fails, the log refuses further appends until it is reopened.

        Raises:
            TooLargeError: a record above :data:`MAX_PAYLOAD` (nothing is written).
            PersistenceError: the write or the sync failed, or the log is closed or broken.
        """
        data = encode_records(records)
        self._check_usable()
        fd = self._file.fileno()
        try:
            view = memoryview(data)
            while view:
                written = self._file.write(view)
                if written is None:  # pragma: no cover - only for non-blocking files
                    raise OSError("the write would block")
                view = view[written:]
            sync_file(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, self._size)
                sync_file(fd)
            except OSError as undo_exc:
                self._broken = f"a failed append could not be undone ({undo_exc})"
            raise PersistenceError(
                f"cannot append to the typeahead WAL {self.path}: {exc}"
            ) from exc
        self._size += len(data)

    def reset(self) -> None:
        """Drop every record (after a snapshot made them redundant), keeping the header.

        Raises:
            PersistenceError: the truncation or its sync failed, or the log is closed or broken.
        """
        self._check_usable()
        fd = self._file.fileno()
        try:
            os.ftruncate(fd, _HEADER.size)
            sync_file(fd)
        except OSError as exc:
            try:
                self._size = os.fstat(fd).st_size
            except OSError:
                self._broken = "its length is unknown after a failed truncation"
            raise PersistenceError(f"cannot truncate the typeahead WAL {self.path}: {exc}") from exc
        self._size = _HEADER.size

    def close(self) -> None:
        """Close the file and release the lock; idempotent."""
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def _check_usable(self) -> None:
        if self._file.closed:
            raise PersistenceError(f"the typeahead WAL {self.path} is closed")
        if self._broken is not None:
            raise PersistenceError(f"the typeahead WAL {self.path} is unusable: {self._broken}")
