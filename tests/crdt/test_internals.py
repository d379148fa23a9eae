"""Storage internals: the run index, block and run limits, the cursor, adversarial costs."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from docstream.crdt import Change, CharId, Delete, Document, Insert
from docstream.crdt.runindex import RunIndex

A, B, C = "replica-A", "replica-B", "replica-C"


@dataclass
class R:
    counter: int
    length: int
    text: str | None = "x"


def test_the_run_index_finds_adds_removes_and_rekeys(monkeypatch: pytest.MonkeyPatch) -> None:
    from docstream.crdt import runindex

    monkeypatch.setattr(runindex, "_CHUNK", 2)
    index: RunIndex[R] = RunIndex("replica-A")
    assert index.find(5) is None
    assert not index.touches(0, 100)
    runs = [R(c, 2, None if c == 20 else "xx") for c in (10, 0, 20, 4, 30, 14, 40)]
    for run in runs:
        index.add(run)
    assert len(index.keys) > 1  # chunks were split
    assert [k for chunk in index.keys for k in chunk] == [0, 4, 10, 14, 20, 30, 40]
    assert sum(index.vis) == 6
    assert index.find(11) is runs[0]
    assert index.find(12) is None  # a gap
    assert index.find(-1) is None
    index.remove(runs[1])  # key 0, first of its chunk
    index.remove(runs[3])  # key 4: the chunk empties and goes away
    assert [k for chunk in index.keys for k in chunk] == [10, 14, 20, 30, 40]
    assert sum(index.vis) == 4
    runs[5].counter = 13
    index.rekey(14, runs[5])
    runs[0].counter = 9
    index.rekey(10, runs[0])
    assert index.find(9) is runs[0] and index.find(13) is runs[5]
    assert index.mins[0] == 9
    assert index.visible_in(9, 41) == [runs[0], runs[5], runs[4], runs[6]]
    assert index.visible_in(13, 14) == [runs[5]]
    runs[4].text = None
    index.hide(runs[4])
    assert index.visible_in(20, 32) == []
    single: RunIndex[R] = RunIndex("replica-C")
    alone = R(10, 2)
    single.add(alone)
    alone.counter = 9
    single.rekey(10, alone)  # the newest key, alone in its chunk
    assert single.mins == [9] and single.find(9) is alone
    loaded: RunIndex[R] = RunIndex("replica-B")
    loaded.bulk_load([R(1, 3), R(4, 1, None), R(7, 2)])
    assert loaded.end == 9 and loaded.find(8) is not None and loaded.find(5) is None
    assert loaded.known == [1, 5, 7, 9]
    assert loaded.covers(1, 5) and not loaded.covers(1, 6) and not loaded.covers(5, 6)
    assert loaded.touches(4, 8) and loaded.touches(6, 8) and not loaded.touches(5, 7)


def test_known_ids_merge_into_intervals() -> None:
    index: RunIndex[R] = RunIndex("replica-A")
    for lo, hi in [(10, 20), (20, 25), (40, 50), (0, 5), (30, 35), (25, 30), (5, 10), (60, 61)]:
        index.learn(lo, hi)
    assert index.known == [0, 35, 40, 50, 60, 61]
    assert index.end == 61
    index.learn(35, 40)
    assert index.known == [0, 50, 60, 61]
    index.learn(55, 58)
    assert index.known == [0, 50, 55, 58, 60, 61]
    assert index.covers(0, 50) and index.covers(55, 58) and not index.covers(49, 51)


def test_typing_across_block_boundaries_extends_runs(tiny_limits: None) -> None:
    doc = Document(A)
    remote = Document(B)
    for i in range(40):  # many runs: "ab" typed at scattered places
        remote.apply(doc.insert((i * 7) % (len(doc) + 1), "ab"))
    middle = len(doc) // 2
    for k in range(20):  # then keep typing in the middle, char by char
        ops = doc.insert(middle + k, "x")
        changes = remote.apply_and_diff(ops)
        assert changes == [Change(middle + k, 0, "x")]
    assert remote.text == doc.text
    assert remote.encode_state() == doc.encode_state()


def test_local_typing_at_a_block_end_before_a_visible_run_extends(tiny_limits: None) -> None:
    doc = Document(A)
    doc.insert(0, "0123456789abcdef")
    other = Document(B)
    other.apply([Insert(f"{A}:1", None, "0123456789abcdef")])
    for i in range(1, 9):  # cut into many runs by remote inserts
        doc.apply(other.insert(i * 2, "|"))
    for i in range(len(doc)):
        doc.insert(i, "")
        assert doc.index_of(doc.id_at(i)) == i
    text = doc.text
    for at in range(len(text) + 1):
        fresh = Document.decode_state(doc.encode_state(), replica=C)
        fresh.insert(at, "x")
        fresh.insert(at + 1, "y")  # the fast path, whatever block the run ends in
        assert fresh.text == text[:at] + "xy" + text[at:]


def test_a_local_insert_right_after_a_remote_insert_at_the_end(tiny_limits: None) -> None:
    doc = Document(A)
    doc.insert(0, "abc")
    assert doc.apply_and_diff([Insert(f"{B}:9", f"{A}:3", "XY")]) == [Change(3, 0, "XY")]
    assert doc.insert(5, "!") == [Insert(f"{A}:11", f"{B}:10", "!")]
    assert doc.text == "abcXY!"


def test_apply_and_diff_of_remote_typing_extends_in_place() -> None:
    a, b = Document(A), Document(B)
    changes = []
    for i, ch in enumerate("hello"):
        changes += b.apply_and_diff(a.insert(i, ch))
    assert changes == [Change(i, 0, ch) for i, ch in enumerate("hello")]
    assert list(b.runs()) == [(A, 1, 5, "hello")]


def test_read_api_details() -> None:
    doc = Document(A)
    assert doc.replica == A
    assert repr(doc) == "Document(replica='replica-A', len=0, max_counter=0)"
    with pytest.raises(Exception, match="not an op"):
        doc.apply_and_diff([object()])  # type: ignore[list-item]
    with pytest.raises(Exception, match="expected a string"):
        doc.apply([Delete(123, 1)])  # type: ignore[arg-type]


def test_runs_are_capped_and_split_blocks_keep_working() -> None:
    doc = Document(A)
    doc.insert(0, "x" * 5000)
    assert max(len(b.runs) for b in doc._blocks) <= 64
    assert max(r.length for b in doc._blocks for r in b.runs) <= 1024
    assert list(doc.runs()) == [(A, 1, 5000, "x" * 5000)]


def test_stored_runs_and_blocks_count_tombstones_and_cuts(tiny_limits: None) -> None:
    doc = Document(A)
    assert (doc.stored_runs(), doc.block_count) == (0, 1)
    doc.insert(0, "abcdef")
    for index in (4, 2, 0):  # every other character deleted: six runs, three of them tombstones
        doc.delete(index, 1)
    assert doc.text == "bdf"
    assert doc.stored_runs() == sum(len(b.runs) for b in doc._blocks) == 6
    assert doc.block_count == len(doc._blocks) > 1  # tiny blocks: the runs were spread out


def elapsed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_an_adversarial_run_cut_into_single_chars_stays_cheap() -> None:
    """A 65k-char run, every other char deleted by its own op, then lookups into it.

    Each op must cost O(log n + block) -- a per-op Python loop over the document would take
    minutes here; the bounds below are ~20x what a loaded 2-core box needs.
    """
    doc = Document("replica-S")
    doc.apply([Insert(f"{A}:1", None, "x" * 65536)])
    cut = elapsed(lambda: [doc.apply([Delete(f"{A}:{c}", 1)]) for c in range(2, 65537, 2)])
    assert len(doc) == 32768
    lookups = elapsed(lambda: [doc.index_of(CharId(c, A)) for c in range(1, 65537, 13)])
    inserts = elapsed(
        lambda: [
            doc.apply([Insert(f"{B}:{100000 + i}", f"{A}:{(i * 7919) % 65536 + 1}", "y")])
            for i in range(5000)
        ]
    )
    assert doc.index_of(CharId(65536, A)) == len(doc)
    assert cut < 10 and lookups < 5 and inserts < 5, (cut, lookups, inserts)


def test_a_child_with_a_small_id_skips_many_larger_siblings_at_c_speed() -> None:
    doc = Document("replica-S")
    doc.apply([Insert(f"{A}:1", None, "P")])
    for i in range(20000):
        doc.apply([Insert(f"{B}:{1000 + i}", f"{A}:1", "c")])
    took = elapsed(lambda: [doc.apply([Insert(f"{C}:{2 + i}", f"{A}:1", "!")]) for i in range(200)])
    assert doc.text == "P" + "c" * 20000 + "!" * 200
    assert took < 5, took


def test_the_cursor_survives_its_run_being_merged_away() -> None:
    doc = Document(A)
    doc.insert(0, "abc")
    doc.delete(0, 2)  # runs: [a b deleted] ["c"]
    assert doc.id_at(0) == CharId(3, A)  # parks the cursor on "c", the last run
    doc.apply([Delete(f"{A}:3", 1)])  # "c" merges into the tombstone run before it
    assert list(doc.runs()) == [(A, 1, 3, None)]
    assert doc.insert(0, "x") == [Insert(f"{A}:4", f"{A}:3", "x")]
    assert doc.text == "x"


def test_local_deletes_of_every_range_across_small_blocks(tiny_limits: None) -> None:
    def build() -> Document:
        doc = Document(A)
        for i, ch in enumerate("abcdefghijklm"):
            doc.insert((i * 7) % (len(doc) + 1), ch * 3)  # scattered: many short runs
        return doc

    base = build()
    text = base.text
    assert max(len(b.runs) for b in base._blocks) == 4  # a full block: deletes make it grow
    for start in range(len(text)):
        for length in range(1, len(text) - start + 1):
            doc = build()
            ops = doc.delete(start, length)
            assert doc.text == text[:start] + text[start + length :]
            other = build()
            other.apply(ops)
            assert other.encode_state() == doc.encode_state()


def test_index_of_a_char_before_the_cursor_block() -> None:
    doc = Document(A)
    for _ in range(300):
        doc.insert(0, "x")  # 300 runs: several blocks
    assert doc.id_at(299) == CharId(1, A)  # parks the cursor in the last block
    assert doc.index_of(CharId(300, A)) == 0
    assert doc.index_of(CharId(150, A)) == 150


def test_re_deleting_a_fragmented_range_costs_no_walk_over_its_tombstones() -> None:
    """65k ids of A, each separated by a char of B, all deleted: A's range is 65k tombstone runs
    that cannot merge. Deleting the whole range again, or re-sending the original insert, must
    not walk them one by one (that would be ~50 ms per op, here 2,000 ops)."""
    doc = Document("replica-S")
    doc.apply([Insert(f"{A}:1", None, "a" * 20000)])
    for c in range(1, 20001):
        doc.apply([Insert(f"{B}:{100000 + c}", f"{A}:{c}", "b")])
    doc.apply([Delete(f"{A}:1", 20000)])
    assert doc.text == "b" * 20000
    again = elapsed(lambda: [doc.apply([Delete(f"{A}:1", 20000)]) for _ in range(1000)])
    resend = elapsed(
        lambda: [doc.apply([Insert(f"{A}:1", None, "?" * 20000)]) for _ in range(1000)]
    )
    assert doc.text == "b" * 20000
    assert again < 5 and resend < 5, (again, resend)


def test_far_jumps_of_the_cursor_land_on_the_right_char() -> None:
    doc = Document(A)
    for i in range(3000):
        doc.insert(0 if i % 2 else len(doc), "ab"[i % 2])  # runs at both ends: many blocks
    text = doc.text
    assert len(doc._blocks) > 40
    for index in (len(doc) - 1, 0, len(doc) // 2, 5, len(doc) - 3, len(doc) // 3):
        cid = doc.id_at(index)
        assert doc.index_of(cid) == index
        assert text[index] == ("a" if cid.counter % 2 else "b")
    doc.insert(0, "<")
    doc.insert(len(doc), ">")
    doc.insert(1, "[")
    assert doc.text == "<[" + text + ">"
