"""The typeahead snapshot: a trie's words in LRU order, written atomically.

Format (version 1), integers big-endian::

    magic b"DSTA-SNP" (8 bytes) | version u16 | payload length u64 | CRC-32 of payload u32 | payload

The payload is the msgpack array ``[wal_seq, [[word, frequency], ...]]`` (:class:`SnapshotPayload`),
items least recently used first, so :meth:`Trie.from_items` rebuilds the same recency order.
``wal_seq`` is the last WAL record the snapshot includes.

Atomicity: the bytes go to ``<name>.tmp`` in the same directory, which is fsynced, renamed over the
snapshot and followed by an fsync of the directory. A reader therefore sees the old snapshot or the
new one, never a mix; a damaged snapshot is reported, not silently replaced by an empty trie.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import msgspec

from docstream.errors import PersistenceError, UnsupportedFormatError
from docstream.typeahead.fileio import open_private, sync_directory, sync_file

SNAPSHOT_MAGIC = b"DSTA-SNP"
SNAPSHOT_VERSION = 1
_PREFIX = struct.Struct(">8sH")
_REST = struct.Struct(">QI")


class SnapshotPayload(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A trie's content and the last WAL sequence number it includes."""

    wal_seq: int
    items: list[tuple[str, int]]


def temp_path(path: Path) -> Path:
    """Where a snapshot is written before it is renamed over ``path``."""
    return path.with_name(path.name + ".tmp")


def write_snapshot(path: Path, wal_seq: int, items: list[tuple[str, int]]) -> int:
    """Atomically replace the snapshot at ``path``; return its size in bytes.

    Raises:
        PersistenceError: any step failed (the previous snapshot, if any, is left in place).
    """
    payload = msgspec.msgpack.encode(SnapshotPayload(wal_seq, items))
    header = _PREFIX.pack(SNAPSHOT_MAGIC, SNAPSHOT_VERSION) + _REST.pack(
        len(payload), zlib.crc32(payload)
    )
    tmp = temp_path(path)
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            for chunk in (header, payload):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
            sync_file(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        sync_directory(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PersistenceError(f"cannot write the typeahead snapshot {path}: {exc}") from exc
    return len(header) + len(payload)


def read_snapshot(path: Path) -> SnapshotPayload | None:
    """The snapshot at ``path``, or None if there is none.

    Raises:
        UnsupportedFormatError: a version this build does not read.
        PersistenceError: unreadable, not a snapshot, truncated, or failing its checksum.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PersistenceError(f"cannot read the typeahead snapshot {path}: {exc}") from exc
    if len(data) < _PREFIX.size or data[:8] != SNAPSHOT_MAGIC:
        raise PersistenceError(f"{path} is not a DocStream typeahead snapshot")
    _, version = _PREFIX.unpack_from(data)
    if version != SNAPSHOT_VERSION:
        raise UnsupportedFormatError(
            f"{path} is typeahead snapshot version {version}; "
            f"this build reads version {SNAPSHOT_VERSION}"
        )
    header_size = _PREFIX.size + _REST.size
    if len(data) < header_size:
        raise PersistenceError(f"the typeahead snapshot {path} is truncated")
    length, crc = _REST.unpack_from(data, _PREFIX.size)
    payload = data[header_size:]
    if len(payload) != length:
        raise PersistenceError(
            f"the typeahead snapshot {path} holds {len(payload)} payload bytes, expected {length}"
        )
    if zlib.crc32(payload) != crc:
        raise PersistenceError(f"the typeahead snapshot {path} fails its checksum")
    try:
        return msgspec.msgpack.decode(payload, type=SnapshotPayload)
    except msgspec.DecodeError as exc:
        raise PersistenceError(f"the typeahead snapshot {path} cannot be decoded: {exc}") from exc
