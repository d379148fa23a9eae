"""The on-disk formats: torn and corrupt WAL tails, unknown versions, damaged snapshots."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import msgspec
import pytest

from docstream.errors import PersistenceError, UnsupportedFormatError
from docstream.typeahead import DurableTrie, Op
from docstream.typeahead.snapshot import SNAPSHOT_MAGIC, read_snapshot, write_snapshot
from docstream.typeahead.wal import WAL_MAGIC, WalRecord, WriteAheadLog, encode_records

HEADER = 10


def open_store(directory: Path) -> DurableTrie:
    return DurableTrie.open(directory, max_words=100, snapshot_writes=1000, snapshot_interval=1e6)


def record_offsets(
    directory: Path, words: list[str]
) -> tuple[list[int], list[list[tuple[str, int]]]]:
    """Write ``words`` one record each; return each record's start offset and the state after it."""
    offsets, states = [], []
    with open_store(directory) as store:
        for word in words:
            offsets.append(store.stats().wal_bytes)
            store.select(word)
            states.append(store.items_lru())
        offsets.append(store.stats().wal_bytes)
        store.close(snapshot=False)
    return offsets, states


def test_a_record_torn_at_every_byte_recovers_the_state_before_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    words = ["apple", "banana", "Çava", "東京"]
    source = tmp_path / "source"
    offsets, states = record_offsets(source, words)
    data = (source / "trie.wal").read_bytes()
    last_start, end = offsets[-2], offsets[-1]
    assert end == len(data)
    for cut in range(last_start, end):
        directory = tmp_path / f"cut-{cut}"
        directory.mkdir()
        (directory / "trie.wal").write_bytes(data[:cut])
        with caplog.at_level(logging.WARNING), open_store(directory) as store:
            assert store.items_lru() == states[-2], cut
            assert store.recovery.records_replayed == len(words) - 1
            assert store.recovery.bytes_dropped == cut - last_start
            if cut > last_start:
                assert store.recovery.problem is not None
                assert "incomplete record" in store.recovery.problem
            else:
                assert store.recovery.problem is None
            # The tail is gone from the file, and the log goes on from there.
            assert (directory / "trie.wal").stat().st_size == last_start
            store.select("cherry")
            store.close(snapshot=False)
        with open_store(directory) as again:
            assert again.items_lru() == [*states[-2], ("cherry", 1)]
            assert again.recovery.problem is None
    assert "dropped" in caplog.text


def test_a_corrupt_checksum_in_the_middle_stops_replay_there(tmp_path: Path) -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    offsets, states = record_offsets(tmp_path, words)
    wal = tmp_path / "trie.wal"
    data = bytearray(wal.read_bytes())
    data[offsets[2] + 9] ^= 0xFF  # a payload byte of the third record
    wal.write_bytes(bytes(data))
    with open_store(tmp_path) as store:
        assert store.items_lru() == states[1]
        assert store.recovery.records_replayed == 2
        assert store.recovery.bytes_dropped == len(data) - offsets[2]
        assert store.recovery.problem == f"checksum mismatch in the record at byte {offsets[2]}"
        assert store.stats().last_seq == 2
        store.select("zeta")  # numbering continues after the last good record
    with open_store(tmp_path) as store:
        assert store.items_lru() == [*states[1], ("zeta", 1)]


def test_a_corrupt_length_field_is_a_torn_tail_not_a_huge_allocation(tmp_path: Path) -> None:
    offsets, states = record_offsets(tmp_path, ["alpha", "beta"])
    wal = tmp_path / "trie.wal"
    data = bytearray(wal.read_bytes())
    data[offsets[1] : offsets[1] + 4] = struct.pack(">I", 0xFFFFFFF0)
    wal.write_bytes(bytes(data))
    with open_store(tmp_path) as store:
        assert store.items_lru() == states[0]
        assert store.recovery.bytes_dropped == len(data) - offsets[1]


def test_a_zero_filled_tail_is_dropped(tmp_path: Path) -> None:
    offsets, states = record_offsets(tmp_path, ["alpha", "beta"])
    with (tmp_path / "trie.wal").open("ab") as f:
        f.write(b"\0" * 64)  # some file systems show zeros where a crash cut an extension
    with open_store(tmp_path) as store:
        assert store.items_lru() == states[1]
        assert store.recovery.bytes_dropped == 64
        assert store.recovery.problem == f"checksum mismatch in the record at byte {offsets[2]}"


@pytest.mark.parametrize("cut", range(1, HEADER))
def test_a_header_torn_at_creation_is_rewritten(tmp_path: Path, cut: int) -> None:
    header = struct.pack(">8sH", WAL_MAGIC, 1)
    (tmp_path / "trie.wal").write_bytes(header[:cut])
    with open_store(tmp_path) as store:
        assert len(store) == 0
        assert store.recovery.bytes_dropped == cut
        store.insert("apple")
        store.close(snapshot=False)
    with open_store(tmp_path) as store:
        assert store.items_lru() == [("apple", 1)]


def test_an_empty_wal_file_is_a_fresh_log(tmp_path: Path) -> None:
    (tmp_path / "trie.wal").write_bytes(b"")
    with open_store(tmp_path) as store:
        assert store.recovery.bytes_dropped == 0
        assert store.recovery.problem is None


def test_a_file_that_is_not_a_wal_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "trie.wal").write_bytes(b"SQLite format 3\0 and more")
    with pytest.raises(PersistenceError, match="not a DocStream typeahead WAL"):
        open_store(tmp_path)
    assert (tmp_path / "trie.wal").read_bytes() == b"SQLite format 3\0 and more"


def test_an_unknown_wal_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "trie.wal").write_bytes(struct.pack(">8sH", WAL_MAGIC, 2) + b"future records")
    with pytest.raises(UnsupportedFormatError, match="version 2; this build reads version 1"):
        open_store(tmp_path)


def test_a_checksummed_record_this_build_cannot_read_is_refused_not_truncated(
    tmp_path: Path,
) -> None:
    record_offsets(tmp_path, ["alpha"])
    payload = msgspec.msgpack.encode([2, 9, "alpha"])  # op 9 does not exist
    length = len(payload).to_bytes(4, "big")
    alien = length + zlib.crc32(payload, zlib.crc32(length)).to_bytes(4, "big") + payload
    with (tmp_path / "trie.wal").open("ab") as f:
        f.write(alien)
    before = (tmp_path / "trie.wal").read_bytes()
    with pytest.raises(UnsupportedFormatError, match="valid checksum"):
        open_store(tmp_path)
    assert (tmp_path / "trie.wal").read_bytes() == before


def test_records_out_of_order_are_refused(tmp_path: Path) -> None:
    with open_store(tmp_path):
        pass
    with (tmp_path / "trie.wal").open("ab") as f:
        f.write(encode_records([WalRecord(1, Op.INSERT, "a"), WalRecord(3, Op.INSERT, "b")]))
    with pytest.raises(PersistenceError, match="record 3 follows record 1"):
        open_store(tmp_path)


def test_the_wal_log_reopens_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "x.wal"
    log, scan = WriteAheadLog.open(path)
    assert scan.records == [] and log.size == HEADER
    log.append([WalRecord(1, Op.INSERT, "a"), WalRecord(2, Op.REMOVE, "a")])
    log.close()
    assert log.closed
    with pytest.raises(PersistenceError, match="closed"):
        log.append([WalRecord(3, Op.INSERT, "b")])
    log, scan = WriteAheadLog.open(path)
    assert scan.records == [WalRecord(1, Op.INSERT, "a"), WalRecord(2, Op.REMOVE, "a")]
    log.reset()
    assert log.size == HEADER == path.stat().st_size
    log.close()


def test_the_snapshot_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "s.snapshot"
    assert read_snapshot(path) is None
    items = [("Straße", 3), ("東京", 1), ("🎉", 2)]
    write_snapshot(path, 42, items)
    snapshot = read_snapshot(path)
    assert snapshot is not None
    assert (snapshot.wal_seq, snapshot.items) == (42, items)
    assert not (tmp_path / "s.snapshot.tmp").exists()


def test_an_unknown_snapshot_version_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.insert("apple")
    snapshot = tmp_path / "trie.snapshot"
    data = bytearray(snapshot.read_bytes())
    data[8:10] = (7).to_bytes(2, "big")
    snapshot.write_bytes(bytes(data))
    with pytest.raises(UnsupportedFormatError) as caught:
        open_store(tmp_path)
    assert "snapshot version 7; this build reads version 1" in caught.value.detail
    assert caught.value.code == "unsupported_format"


@pytest.mark.parametrize(
    "damage",
    ["flip a payload byte", "truncate", "append a byte", "wrong magic", "too short", "bad payload"],
)
def test_a_damaged_snapshot_is_refused_not_replaced_by_an_empty_trie(
    tmp_path: Path, damage: str
) -> None:
    with open_store(tmp_path) as store:
        store.insert("apple")
        store.insert("banana")
    snapshot = tmp_path / "trie.snapshot"
    data = bytearray(snapshot.read_bytes())
    if damage == "flip a payload byte":
        data[-3] ^= 0x01
    elif damage == "truncate":
        del data[-5:]
    elif damage == "append a byte":
        data.append(0)
    elif damage == "wrong magic":
        data[0:8] = b"NOTASNAP"
    elif damage == "too short":
        del data[12:]
    else:
        payload = msgspec.msgpack.encode(["not a number", []])
        data = bytearray(
            struct.pack(">8sHQI", SNAPSHOT_MAGIC, 1, len(payload), zlib.crc32(payload)) + payload
        )
    snapshot.write_bytes(bytes(data))
    with pytest.raises(PersistenceError):
        open_store(tmp_path)


def test_a_snapshot_with_an_invalid_word_is_refused(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "trie.snapshot", 0, [("   ", 1)])
    with pytest.raises(PersistenceError, match="empty or whitespace"):
        open_store(tmp_path)
