"""Crash recovery as a property: whatever the writes, snapshots and crash point, a recovered store
holds what a pure in-memory trie given the same writes holds, in the same LRU order."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from docstream.typeahead import DurableTrie, Op, Trie
from docstream.typeahead import snapshot as snapshot_module
from docstream.typeahead import wal as wal_module
from tests.typeahead.conftest import FakeClock

word_text = st.text(alphabet="abAB ßé東🎉", min_size=1, max_size=5).filter(
    lambda w: not w.isspace()
)
mutation = st.tuples(st.sampled_from([Op.INSERT, Op.SELECT, Op.REMOVE]), word_text)
step = st.one_of(
    st.tuples(st.just("write"), mutation),
    st.tuples(st.just("batch"), st.lists(mutation, min_size=1, max_size=4)),
    st.tuples(st.just("tick"), st.floats(0, 100)),
)


@contextmanager
def page_cache_only() -> Iterator[None]:
    """Skip the fsyncs: a crash simulated in-process loses nothing the page cache holds."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (wal_module, snapshot_module):
            patch.setattr(module, "sync_file", lambda fd: None)
            patch.setattr(module, "sync_directory", lambda path: None)
        yield


def apply_to(trie: Trie, op: Op, word: str) -> None:
    if op is Op.INSERT:
        trie.insert(word)
    elif op is Op.SELECT:
        trie.select(word)
    else:
        trie.remove(word)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the dropped store's file is never closed
@settings(max_examples=200, deadline=None)
@given(
    max_words=st.integers(1, 6),
    snapshot_writes=st.integers(1, 6),
    steps=st.lists(step, max_size=30),
    tear=st.integers(0, 40),
)
def test_a_dropped_store_recovers_what_a_pure_trie_holds(
    max_words: int, snapshot_writes: int, steps: list[tuple[object, ...]], tear: int
) -> None:
    clock = FakeClock()
    reference = Trie(max_words)
    # The reference state after each logged record, and the WAL size around the last write.
    before_last_record: list[tuple[str, int]] | None = None
    last_write: tuple[int, int] | None = None
    with tempfile.TemporaryDirectory() as tmp, page_cache_only():
        directory = Path(tmp)
        store = DurableTrie.open(
            directory,
            max_words=max_words,
            snapshot_writes=snapshot_writes,
            snapshot_interval=60,
            clock=clock,
        )
        if tear:  # end on a single-record write, the one to tear
            steps = [*steps, ("write", (Op.SELECT, "last"))]
        for kind, arg in steps:
            if kind == "tick":
                clock.advance(float(arg))  # type: ignore[arg-type]
                store.maybe_snapshot()
                continue
            batch = [arg] if kind == "write" else list(arg)  # type: ignore[call-overload]
            size_before = store.stats().wal_bytes
            logged = [(op, w) for op, w in batch if not (kind == "write" and op is Op.REMOVE)]
            if kind == "write":
                op, word = batch[0]
                if op is Op.REMOVE:
                    store.remove(word)
                elif op is Op.SELECT:
                    store.select(word)
                else:
                    store.insert(word)
            else:
                store.apply(batch)
            for op, word in batch:
                if op is not Op.REMOVE or kind == "batch" or word in reference:
                    before_last_record = reference.items_lru()
                apply_to(reference, op, word)
            size_after = store.stats().wal_bytes
            single = kind == "write" and size_after > size_before and len(logged) <= 1
            last_write = (size_before, size_after) if single else None
        assert store.items_lru() == reference.items_lru()

        # Crash: drop the store without closing it, then maybe tear the last record.
        del store  # the last reference: CPython closes its WAL file (and lock) now
        expected = reference.items_lru()
        wal = directory / "trie.wal"
        torn = 0
        cut = start = 0
        if tear and last_write is not None and wal.stat().st_size == last_write[1]:
            start, end = last_write
            cut = max(start, end - tear)
            torn = end - cut
            with wal.open("r+b") as f:
                f.truncate(cut)
            assert before_last_record is not None
            expected = before_last_record

        event("torn last record" if torn else "clean log")
        recovered = DurableTrie.open(
            directory, max_words=max_words, snapshot_writes=snapshot_writes
        )
        try:
            assert recovered.items_lru() == expected
            if torn:
                # A whole record cut off is a clean end of log; part of one is a torn tail.
                assert recovered.recovery.bytes_dropped == (0 if cut == start else cut - start)
        finally:
            recovered.close()
