from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from docstream.errors import InvalidInputError, PersistenceError, TooLargeError
from docstream.typeahead import DurableTrie, Op, Suggestion, Trie
from docstream.typeahead import durable as durable_module
from docstream.typeahead import wal as wal_module
from tests.typeahead.conftest import FakeClock, crash_image

HEADER = 10  # magic + version


def open_store(directory: Path, clock: FakeClock | None = None, **kwargs: object) -> DurableTrie:
    options: dict[str, object] = {
        "max_words": 100,
        "snapshot_writes": 1000,
        "snapshot_interval": 1e6,
    }
    options.update(kwargs)
    if clock is not None:
        options["clock"] = clock
    return DurableTrie.open(directory, **options)  # type: ignore[arg-type]


def wal_size(directory: Path, name: str = "trie") -> int:
    return (directory / f"{name}.wal").stat().st_size


def test_writes_survive_a_restart(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        for word in ["apple", "app", "apricot", "banana"]:
            store.insert(word)
        store.select("apricot")
        store.select("apricot")
        store.select("Apple")
    with open_store(tmp_path) as store:
        assert store.suggest("ap", 10) == [
            Suggestion("apricot", 3),
            Suggestion("Apple", 2),
            Suggestion("app", 1),
        ]
        assert store.items_lru() == [("app", 1), ("banana", 1), ("apricot", 3), ("Apple", 2)]


def test_writes_survive_a_crash_without_close(tmp_path: Path) -> None:
    store = open_store(tmp_path / "live")
    store.insert("apple")
    store.select("banana")
    assert store.remove("apple")
    store.select("cherry")
    expected = store.items_lru()
    image = crash_image(tmp_path / "live", tmp_path / "crashed")
    with open_store(image) as recovered:
        assert recovered.items_lru() == expected
        assert recovered.recovery.records_replayed == 4
        assert recovered.recovery.bytes_dropped == 0
        assert recovered.recovery.problem is None
    store.close()


def test_a_snapshot_is_taken_when_the_write_threshold_is_reached(tmp_path: Path) -> None:
    store = open_store(tmp_path, snapshot_writes=3)
    store.insert("a")
    store.insert("b")
    assert not (tmp_path / "trie.snapshot").exists()
    assert store.stats().pending_writes == 2
    store.insert("c")
    assert (tmp_path / "trie.snapshot").exists()
    assert wal_size(tmp_path) == HEADER
    assert store.stats().pending_writes == 0
    assert store.stats().snapshots_taken == 1
    store.insert("d")
    store.close(snapshot=False)
    with open_store(tmp_path) as reopened:
        assert reopened.recovery.snapshot_words == 3
        assert reopened.recovery.snapshot_seq == 3
        assert reopened.recovery.records_replayed == 1
        assert reopened.items_lru() == [("a", 1), ("b", 1), ("c", 1), ("d", 1)]


def test_a_snapshot_is_taken_on_the_next_write_after_the_interval(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = open_store(tmp_path, clock, snapshot_writes=100, snapshot_interval=300)
    store.insert("a")
    clock.advance(299)
    store.insert("b")
    assert not (tmp_path / "trie.snapshot").exists()
    clock.advance(2)
    store.insert("c")
    assert (tmp_path / "trie.snapshot").exists()
    assert wal_size(tmp_path) == HEADER
    store.close()


def test_maybe_snapshot_honours_the_interval_without_writes(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = open_store(tmp_path, clock, snapshot_writes=100, snapshot_interval=120)
    clock.advance(500)
    assert not store.maybe_snapshot()  # nothing pending: nothing to do
    store.select("alice")
    clock.advance(119)
    assert not store.maybe_snapshot()
    clock.advance(1)
    assert store.maybe_snapshot()
    assert wal_size(tmp_path) == HEADER
    clock.advance(1000)
    assert not store.maybe_snapshot()
    store.close()


def test_close_snapshots_pending_writes_unless_told_not_to(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a")
    store.insert("apple")
    store.close()
    assert wal_size(tmp_path / "a") == HEADER
    store = open_store(tmp_path / "b")
    store.insert("apple")
    store.close(snapshot=False)
    assert wal_size(tmp_path / "b") > HEADER
    assert not (tmp_path / "b" / "trie.snapshot").exists()
    for directory in ("a", "b"):
        with open_store(tmp_path / directory) as reopened:
            assert reopened.items_lru() == [("apple", 1)]


def test_a_closed_store_refuses_writes_but_answers_reads(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.insert("apple")
    store.close()
    store.close()  # idempotent
    with pytest.raises(PersistenceError):
        store.insert("banana")
    with pytest.raises(PersistenceError):
        store.snapshot()
    assert not store.maybe_snapshot()
    assert store.suggest("a", 5) == [Suggestion("apple", 1)]
    assert store.closed


def test_a_store_cannot_be_opened_twice(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with pytest.raises(PersistenceError, match="in use"):
        open_store(tmp_path)
    store.close()
    open_store(tmp_path).close()


def test_stores_with_different_names_share_a_directory(tmp_path: Path) -> None:
    with open_store(tmp_path, name="doc-1") as one, open_store(tmp_path, name="doc-2") as two:
        one.insert("alice")
        two.insert("bob")
    with open_store(tmp_path, name="doc-1") as one:
        assert one.items_lru() == [("alice", 1)]


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "dot.dot", "x" * 129, "naïve"])
def test_store_names_that_could_escape_the_directory_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInputError):
        open_store(tmp_path, name=name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options", [{"snapshot_writes": 0}, {"snapshot_interval": 0}, {"max_words": 0}]
)
def test_bad_thresholds_are_refused(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        open_store(tmp_path, **options)


def test_an_invalid_word_writes_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.insert("apple")
    before = wal_size(tmp_path)
    with pytest.raises(InvalidInputError):
        store.insert("   ")
    with pytest.raises(InvalidInputError):
        store.apply([(Op.INSERT, "kiwi"), (Op.SELECT, "")])
    with pytest.raises(InvalidInputError):
        store.apply([("explode", "kiwi")])  # type: ignore[list-item]
    with pytest.raises(TooLargeError):
        store.insert("x" * (wal_module.MAX_PAYLOAD + 1))
    assert wal_size(tmp_path) == before
    assert store.items_lru() == [("apple", 1)]
    assert store.stats().last_seq == 1
    store.close()


def test_removing_an_absent_word_logs_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    before = wal_size(tmp_path)
    assert not store.remove("ghost")
    assert wal_size(tmp_path) == before
    store.insert("ghost")
    assert store.remove("GHOST")
    store.close(snapshot=False)
    with open_store(tmp_path) as reopened:
        assert len(reopened) == 0
        assert reopened.recovery.records_replayed == 2


def test_a_batch_is_one_append_and_survives_a_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path, max_words=3)
    store.apply(
        [(Op.INSERT, "a"), (Op.SELECT, "b"), (Op.SELECT, "b"), (Op.INSERT, "c"), (Op.INSERT, "d")]
    )
    assert store.items_lru() == [("b", 2), ("c", 1), ("d", 1)]  # "a" was evicted
    store.close(snapshot=False)
    with open_store(tmp_path, max_words=3) as reopened:
        assert reopened.items_lru() == [("b", 2), ("c", 1), ("d", 1)]
        assert reopened.stats().last_seq == 5


def test_recovery_keeps_lru_order_and_evictions(tmp_path: Path) -> None:
    reference = Trie(4)
    store = open_store(tmp_path, max_words=4, snapshot_writes=7)
    for i in range(40):
        word = f"w{i % 9}"
        if i % 3:
            store.insert(word)
            reference.insert(word)
        else:
            store.select(word)
            reference.select(word)
    image = crash_image(tmp_path, tmp_path.parent / f"{tmp_path.name}-crash")
    store.close()
    with open_store(image, max_words=4) as recovered:
        assert recovered.items_lru() == reference.items_lru()
    # And a further eviction picks the same victim.
    with open_store(tmp_path, max_words=4) as reopened:
        reopened.insert("new")
        reference.insert("new")
        assert reopened.items_lru() == reference.items_lru()


def test_a_failed_append_leaves_the_trie_and_the_log_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    store.insert("apple")
    before = wal_size(tmp_path)
    real_sync = wal_module.sync_file
    failures = [OSError(28, "No space left on device")]

    def sync_failing_once(fd: int) -> None:
        if failures:
            raise failures.pop()
        real_sync(fd)

    monkeypatch.setattr(wal_module, "sync_file", sync_failing_once)
    with pytest.raises(PersistenceError, match="No space left"):
        store.insert("banana")
    assert "banana" not in store
    assert store.stats().last_seq == 1
    assert wal_size(tmp_path) == before  # the unsynced record was cut off again
    store.insert("cherry")
    store.close(snapshot=False)
    with open_store(tmp_path) as reopened:
        assert reopened.items_lru() == [("apple", 1), ("cherry", 1)]
        assert reopened.recovery.problem is None


def test_a_log_that_cannot_undo_a_failed_append_refuses_writes_until_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    store.insert("apple")

    def failing_sync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wal_module, "sync_file", failing_sync)
    with pytest.raises(PersistenceError, match="Input/output error"):
        store.insert("banana")
    monkeypatch.undo()
    with pytest.raises(PersistenceError, match="unusable"):
        store.insert("cherry")
    assert store.items_lru() == [("apple", 1)]
    store.close(snapshot=False)
    with open_store(tmp_path) as reopened:
        # Whatever reached the disk of the failed append is at most a valid record or a torn one.
        assert reopened.items_lru()[0] == ("apple", 1)
        reopened.insert("cherry")


def test_a_failed_snapshot_is_logged_and_counted_and_the_wal_keeps_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(tmp_path, snapshot_writes=2)

    def failing_snapshot(path: Path, wal_seq: int, items: list[tuple[str, int]]) -> int:
        raise PersistenceError(f"cannot write the typeahead snapshot {path}: disk full")

    monkeypatch.setattr(durable_module, "write_snapshot", failing_snapshot)
    with caplog.at_level(logging.ERROR, logger="docstream.typeahead.durable"):
        store.insert("a")
        store.insert("b")  # the snapshot fails: logged, not raised
        store.insert("c")  # no retry before the threshold comes round again
        store.insert("d")
    assert store.stats().snapshot_failures == 2
    assert "snapshot" in caplog.text
    assert store.stats().pending_writes == 4
    with pytest.raises(PersistenceError):
        store.snapshot()
    monkeypatch.undo()
    image = crash_image(tmp_path, tmp_path.parent / f"{tmp_path.name}-crash")
    with open_store(image) as recovered:
        assert recovered.items_lru() == [("a", 1), ("b", 1), ("c", 1), ("d", 1)]
    store.insert("e")
    assert store.stats().pending_writes == 5  # the failed snapshot() restarted the count
    store.insert("f")  # the threshold is reached again and the snapshot now succeeds
    assert store.stats().pending_writes == 0
    store.close()


def test_a_crash_between_the_snapshot_rename_and_the_wal_truncation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live"
    store = open_store(live, max_words=3, snapshot_writes=5)
    for word in ["a", "b", "c", "d"]:
        store.select(word)
    images: list[Path] = []
    real_reset = wal_module.WriteAheadLog.reset

    def crash_then_reset(self: wal_module.WriteAheadLog) -> None:
        if self.path.parent == live and not images:
            images.append(crash_image(live, tmp_path / "crash"))
        real_reset(self)

    monkeypatch.setattr(wal_module.WriteAheadLog, "reset", crash_then_reset)
    store.select("b")  # fifth write: snapshot, then (crash image), then truncation
    expected = store.items_lru()
    assert expected == [("c", 1), ("d", 1), ("b", 2)]
    (image,) = images
    assert (image / "trie.wal").stat().st_size > HEADER  # the WAL still holds all five records
    with open_store(image, max_words=3) as recovered:
        # Replaying the five records over the snapshot would give b a frequency of 3.
        assert recovered.items_lru() == expected
        assert recovered.recovery.records_skipped == 5
        assert recovered.recovery.records_replayed == 0
        recovered.select("a")
    with open_store(image, max_words=3) as again:
        assert again.items_lru() == [("d", 1), ("b", 2), ("a", 1)]
        assert again.stats().last_seq == 6
    store.close()


def test_a_leftover_temporary_snapshot_is_discarded(tmp_path: Path) -> None:
    with open_store(tmp_path, snapshot_writes=1) as store:
        store.insert("apple")
    (tmp_path / "trie.snapshot.tmp").write_bytes(b"half a snapshot")
    with open_store(tmp_path) as reopened:
        assert reopened.items_lru() == [("apple", 1)]
    assert not (tmp_path / "trie.snapshot.tmp").exists()


def test_a_missing_stretch_of_the_log_is_refused(tmp_path: Path) -> None:
    from docstream.typeahead.snapshot import write_snapshot
    from docstream.typeahead.wal import WalRecord, encode_records

    with open_store(tmp_path):
        pass
    write_snapshot(tmp_path / "trie.snapshot", 10, [("apple", 1)])
    with (tmp_path / "trie.wal").open("ab") as f:
        f.write(encode_records([WalRecord(12, Op.INSERT, "banana")]))
    with pytest.raises(PersistenceError, match="missing"):
        open_store(tmp_path)
    # The refused open released its lock.
    (tmp_path / "trie.snapshot").unlink()
    with pytest.raises(PersistenceError, match="missing"):
        open_store(tmp_path)


def test_stats_count_what_happened(tmp_path: Path) -> None:
    store = open_store(tmp_path, snapshot_writes=2)
    store.insert("a")
    assert store.stats().last_seq == 1
    assert store.stats().wal_bytes > HEADER
    store.insert("b")
    stats = store.stats()
    assert (stats.words, stats.last_seq, stats.pending_writes, stats.wal_bytes) == (2, 2, 0, HEADER)
    assert (stats.snapshots_taken, stats.snapshot_failures) == (1, 0)
    assert store.max_words == 100
    store.close()


def test_readers_in_other_threads_see_consistent_answers_while_a_writer_writes(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path, max_words=50, snapshot_writes=40)
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                for prefix in ("w", "w1", "w2", "word 3"):
                    results = store.suggest(prefix, 10)
                    assert all(s.word.startswith(prefix) for s in results)
                    frequencies = [s.frequency for s in results]
                    assert frequencies == sorted(frequencies, reverse=True)
                store.fuzzy_suggest("wrod 1", 10)
                time.sleep(0.0002)  # leave the writer some of the GIL
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    reference = Trie(50)
    try:
        for i in range(200):
            word = f"word {i % 70}"
            if i % 4 == 0:
                store.select(word)
                reference.select(word)
            elif i % 11 == 0:
                store.remove(word)
                reference.remove(word)
            else:
                store.insert(word)
                reference.insert(word)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert store.items_lru() == reference.items_lru()
    store.close()
    with open_store(tmp_path, max_words=50) as reopened:
        assert reopened.items_lru() == reference.items_lru()
