"""A :class:`Trie` that survives restarts and crashes: a WAL of mutations plus periodic snapshots.

Files, under one directory: ``<name>.wal`` (:mod:`docstream.typeahead.wal`) and
``<name>.snapshot`` (:mod:`docstream.typeahead.snapshot`); ``<name>.snapshot.tmp`` exists only
while a snapshot is being written.

Write path: validate, append the records to the WAL and sync them, then apply them to the trie.
A mutation that returns is durable; one that raises changed nothing. After a write, a snapshot is
taken when ``snapshot_writes`` records have been logged since the last one, or when the oldest
record the snapshot lacks is ``snapshot_interval`` seconds old (so an isolated write after a quiet
hour does not cost a snapshot by itself; call :meth:`DurableTrie.maybe_snapshot` from a timer to
honour the interval when no write follows). A snapshot holds the WAL sequence number it includes,
and then the WAL is truncated. A failed snapshot is retried after the same thresholds again.

Recovery (:meth:`DurableTrie.open`): read the snapshot, then replay the WAL records numbered after
it, in order, with the same ``max_words``. A crash between writing a snapshot and truncating the WAL
leaves records the snapshot already includes; they are recognised by number and skipped, so replay
is idempotent. Replay stops at the first torn or corrupt record; it and everything after it are
cut off, logged as a warning and reported (:class:`RecoveryReport`). The result has the
frequencies, spellings and recency order the trie had after the last durable write.

Threads: any number of threads may read and write. Writers are serialized by a lock held across the
WAL sync and any snapshot; readers wait only for the in-memory apply (microseconds per record, so a
bulk :meth:`~DurableTrie.apply` holds them for its whole batch), never for the disk.
The I/O is synchronous, so async callers run writes, :meth:`~DurableTrie.open` and
:meth:`~DurableTrie.close` in a worker thread (``asyncio.to_thread``); reads are cheap enough for
the event loop.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

import msgspec

from docstream.errors import InvalidInputError, PersistenceError
from docstream.typeahead.fileio import PRIVATE_DIR
from docstream.typeahead.snapshot import read_snapshot, temp_path, write_snapshot
from docstream.typeahead.trie import Suggestion, Trie, check_word
from docstream.typeahead.wal import Op, WalRecord, WriteAheadLog

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


class Mutation(NamedTuple):
    """One write for :meth:`DurableTrie.apply`."""

    op: Op
    word: str


class RecoveryReport(msgspec.Struct, frozen=True):
    """What :meth:`DurableTrie.open` rebuilt the trie from."""

    #: The last WAL sequence number included in the snapshot (0: no snapshot).
    snapshot_seq: int
    snapshot_words: int
    #: WAL records applied on top of the snapshot.
    records_replayed: int
    #: WAL records the snapshot already included (a crash before the WAL was truncated).
    records_skipped: int
    #: Bytes cut from the end of the WAL, and why (None when the log was clean).
    bytes_dropped: int
    problem: str | None
    #: The sequence number of the last mutation recovered.
    last_seq: int


class DurableTrieStats(msgspec.Struct, frozen=True):
    """Counters for health checks and metrics."""

    words: int
    last_seq: int
    pending_writes: int
    wal_bytes: int
    snapshots_taken: int
    snapshot_failures: int


def apply_record(trie: Trie, op: Op, word: str) -> object:
    """Apply one logged mutation to ``trie``; returns what the trie method returns."""
    if op is Op.INSERT:
        trie.insert(word)
        return None
    if op is Op.SELECT:
        return trie.select(word)
    return trie.remove(word)


class DurableTrie:
    """A thread-safe :class:`Trie` persisted under a directory. Create it with :meth:`open`."""

    def __init__(
        self,
        *,
        trie: Trie,
        wal: WriteAheadLog,
        snapshot_path: Path,
        recovery: RecoveryReport,
        snapshot_writes: int,
        snapshot_interval: float,
        clock: Callable[[], float],
    ) -> None:
        self._trie = trie
        self._wal = wal
        self._snapshot_path = snapshot_path
        self.recovery = recovery
        self._snapshot_writes = snapshot_writes
        self._snapshot_interval = snapshot_interval
        self._clock = clock
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._seq = recovery.last_seq
        # Records in the WAL that the snapshot does not include.
        self._pending = recovery.records_replayed
        # Writes since the last snapshot attempt, and when the interval started counting: at the
        # first write the snapshot lacks, or at a failed attempt (which backs off the same way).
        self._since_attempt = recovery.records_replayed
        self._interval_start = clock()
        self._snapshots_taken = 0
        self._snapshot_failures = 0
        self._closed = False

    @classmethod
    def open(
        cls,
        directory: Path | str,
        *,
        max_words: int,
        name: str = "trie",
        snapshot_writes: int = 100,
        snapshot_interval: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> DurableTrie:
        """Open the store ``name`` under ``directory`` (created if missing) and recover it.

        Args:
            directory: where the files live; several stores may share it under distinct names.
            max_words: the trie's bound; recovery replays evictions with it, so keep it stable.
            name: the file stem: 1 to 128 ASCII letters, digits, ``_`` or ``-``.
            snapshot_writes: snapshot after this many logged writes (titles 100, mentions 20).
            snapshot_interval: ... or once the oldest unsnapshotted write is this many seconds
                old (titles 300, mentions 120).
            clock: seconds from an arbitrary origin; tests pass a fake one.

        Raises:
            InvalidInputError: a bad ``name``, ``max_words`` or threshold.
            PersistenceError: the files cannot be used, are locked by another open store, or are
                damaged beyond a torn WAL tail (see :attr:`recovery` for what a clean open dropped).
            UnsupportedFormatError: a file version this build does not read.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidInputError(f"invalid typeahead store name {name!r}")
        if not isinstance(snapshot_writes, int) or snapshot_writes < 1:
            raise InvalidInputError(f"snapshot_writes must be at least 1, not {snapshot_writes!r}")
        if not snapshot_interval > 0:
            raise InvalidInputError(
                f"snapshot_interval must be positive, not {snapshot_interval!r}"
            )
        Trie(max_words)  # validates max_words before any file is touched
        directory = Path(directory)
        try:
            directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        except OSError as exc:
            raise PersistenceError(
                f"cannot create the typeahead directory {directory}: {exc}"
            ) from exc
        wal, scan = WriteAheadLog.open(directory / f"{name}.wal")
        snapshot_path = directory / f"{name}.snapshot"
        try:
            try:
                temp_path(snapshot_path).unlink(missing_ok=True)  # an interrupted snapshot
            except OSError as exc:
                raise PersistenceError(f"cannot remove {temp_path(snapshot_path)}: {exc}") from exc
            snapshot = read_snapshot(snapshot_path)
            snapshot_seq = snapshot.wal_seq if snapshot is not None else 0
            try:
                trie = Trie.from_items(max_words, snapshot.items if snapshot is not None else ())
            except InvalidInputError as exc:
                raise PersistenceError(f"{snapshot_path} holds {exc.detail}") from exc
            replayed, skipped, last_seq = _replay(trie, scan.records, snapshot_seq, wal.path)
        except BaseException:
            wal.close()
            raise
        recovery = RecoveryReport(
            snapshot_seq=snapshot_seq,
            snapshot_words=len(snapshot.items) if snapshot is not None else 0,
            records_replayed=replayed,
            records_skipped=skipped,
            bytes_dropped=scan.dropped_bytes,
            problem=scan.problem,
            last_seq=last_seq,
        )
        return cls(
            trie=trie,
            wal=wal,
            snapshot_path=snapshot_path,
            recovery=recovery,
            snapshot_writes=snapshot_writes,
            snapshot_interval=snapshot_interval,
            clock=clock,
        )

    # --- writes ------------------------------------------------------------------------------

    def insert(self, word: str) -> None:
        """Durably :meth:`Trie.insert` ``word``.

        Raises:
            InvalidInputError: see :func:`~docstream.typeahead.trie.check_word`.
            PersistenceError: the WAL could not be written (the trie is unchanged).
        """
        self._commit([Mutation(Op.INSERT, word)])

    def select(self, word: str) -> int:
        """Durably :meth:`Trie.select` ``word``; return its new frequency. Raises like insert."""
        result = self._commit([Mutation(Op.SELECT, word)])[0]
        assert isinstance(result, int)
        return result

    def remove(self, word: str) -> bool:
        """Durably :meth:`Trie.remove` ``word``; returns whether it was stored (absent: nothing is
        logged). Raises PersistenceError as :meth:`insert`."""
        with self._write_lock:
            if word not in self._trie:
                return False
            return bool(self._commit_locked([Mutation(Op.REMOVE, word)])[0])

    def apply(self, mutations: Iterable[Mutation | tuple[Op, str]]) -> None:
        """Durably apply many mutations with one WAL write and one sync (e.g. a bulk load).

        All are validated first; after a crash during the call, a prefix of them may survive.

        Raises:
            InvalidInputError: an invalid op or word (nothing is written).
            PersistenceError: the WAL could not be written (the trie is unchanged).
        """
        batch = []
        for op, word in mutations:
            try:
                batch.append(Mutation(Op(op), word))
            except ValueError:
                raise InvalidInputError(f"unknown typeahead op {op!r}") from None
        if batch:
            self._commit(batch)

    def snapshot(self) -> None:
        """Take a snapshot now and truncate the WAL.

        Raises:
            PersistenceError: the snapshot could not be written or the WAL truncated.
        """
        with self._write_lock:
            self._check_open()
            self._snapshot_locked()

    def maybe_snapshot(self) -> bool:
        """Take a snapshot if one is due (see the module docstring); return whether one was taken.

        A failure is logged and counted, not raised, and retried after the same threshold again.
        """
        with self._write_lock:
            return not self._closed and self._maybe_snapshot_locked()

    def close(self, *, snapshot: bool = True) -> None:
        """Release the files; with ``snapshot`` (default), first snapshot any pending writes.

        Closing without a snapshot is always safe (the WAL holds every write); the snapshot only
        makes the next :meth:`open` faster. Reads keep working after close; writes raise.
        Idempotent.

        Raises:
            PersistenceError: the final snapshot failed (the files are released all the same).
        """
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                if snapshot and self._pending:
                    self._snapshot_locked()
            finally:
                self._wal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- reads -------------------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        """See :meth:`Trie.suggest`."""
        with self._read_lock:
            return self._trie.suggest(prefix, limit)

    def fuzzy_suggest(self, query: str, limit: int) -> list[Suggestion]:
        """See :meth:`Trie.fuzzy_suggest`."""
        with self._read_lock:
            return self._trie.fuzzy_suggest(query, limit)

    def frequency(self, word: str) -> int:
        """See :meth:`Trie.frequency`."""
        with self._read_lock:
            return self._trie.frequency(word)

    def get(self, word: str) -> Suggestion | None:
        """See :meth:`Trie.get`."""
        with self._read_lock:
            return self._trie.get(word)

    def items_lru(self) -> list[tuple[str, int]]:
        """See :meth:`Trie.items_lru`."""
        with self._read_lock:
            return self._trie.items_lru()

    def __len__(self) -> int:
        return len(self._trie)

    def __contains__(self, word: object) -> bool:
        with self._read_lock:
            return word in self._trie

    @property
    def max_words(self) -> int:
        return self._trie.max_words

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> DurableTrieStats:
        """Current counters."""
        return DurableTrieStats(
            words=len(self._trie),
            last_seq=self._seq,
            pending_writes=self._pending,
            wal_bytes=self._wal.size,
            snapshots_taken=self._snapshots_taken,
            snapshot_failures=self._snapshot_failures,
        )

    # --- internals ---------------------------------------------------------------------------

    def _commit(self, batch: list[Mutation]) -> list[object]:
        with self._write_lock:
            return self._commit_locked(batch)

    def _commit_locked(self, batch: list[Mutation]) -> list[object]:
        self._check_open()
        for mutation in batch:
            check_word(mutation.word)
        records = [
            WalRecord(self._seq + i, op, word) for i, (op, word) in enumerate(batch, start=1)
        ]
        self._wal.append(records)
        if not self._pending:
            self._interval_start = self._clock()
        self._seq += len(records)
        with self._read_lock:
            results = [apply_record(self._trie, r.op, r.word) for r in records]
        self._pending += len(records)
        self._since_attempt += len(records)
        self._maybe_snapshot_locked()
        return results

    def _maybe_snapshot_locked(self) -> bool:
        due = self._since_attempt >= self._snapshot_writes or (
            self._pending > 0 and self._clock() - self._interval_start >= self._snapshot_interval
        )
        if not due:
            return False
        try:
            self._snapshot_locked()
        except PersistenceError:
            self._snapshot_failures += 1
            logger.exception(
                "typeahead snapshot %s failed; the WAL keeps every write", self._snapshot_path
            )
            return False
        return True

    def _snapshot_locked(self) -> None:
        # We hold the write lock, so the trie cannot change while we read it; readers only read.
        self._since_attempt = 0
        self._interval_start = self._clock()
        write_snapshot(self._snapshot_path, self._seq, self._trie.items_lru())
        self._pending = 0
        self._snapshots_taken += 1
        # A crash here leaves WAL records the snapshot includes; recovery skips them by number.
        self._wal.reset()

    def _check_open(self) -> None:
        if self._closed:
            raise PersistenceError(f"the typeahead store {self._snapshot_path.stem} is closed")


def _replay(
    trie: Trie, records: list[WalRecord], snapshot_seq: int, path: Path
) -> tuple[int, int, int]:
    """Apply the records after ``snapshot_seq``; return (replayed, skipped, last seq)."""
    replayed = skipped = 0
    expected = snapshot_seq + 1
    previous: int | None = None
    for record in records:
        if previous is not None and record.seq != previous + 1:
            raise PersistenceError(f"{path}: record {record.seq} follows record {previous}")
        previous = record.seq
        if record.seq <= snapshot_seq:
            skipped += 1
            continue
        if record.seq != expected:
            raise PersistenceError(
                f"{path} starts at record {record.seq} but the snapshot ends at {snapshot_seq}: "
                "records are missing"
            )
        try:
            apply_record(trie, record.op, record.word)
        except InvalidInputError as exc:
            raise PersistenceError(f"{path}: record {record.seq}: {exc.detail}") from exc
        expected += 1
        replayed += 1
    return replayed, skipped, expected - 1
