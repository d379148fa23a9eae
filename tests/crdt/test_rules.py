"""RGA integration rules and local-edit intention, as sentences."""

from __future__ import annotations

import itertools

import pytest

from docstream.crdt import MAX_INSERT_LENGTH, Change, CharId, Delete, Document, Insert, Op
from docstream.errors import UnknownIdError

A, B, C = "replica-A", "replica-B", "replica-C"


def test_concurrent_siblings_are_ordered_by_id_descending() -> None:
    ops = [
        Insert(f"{A}:5", None, "a"),
        Insert(f"{B}:5", None, "b"),  # same counter: the larger replica string goes first
        Insert(f"{C}:7", None, "c"),  # larger counter goes first
    ]
    for order in itertools.permutations(ops):
        doc = Document("replica-X")
        doc.apply(list(order))
        assert doc.text == "cba"


def test_counters_compare_as_integers_not_strings() -> None:
    doc = Document("replica-X")
    doc.apply([Insert(f"{A}:9", None, "9"), Insert(f"{A}:10", None, "T")])
    assert doc.text == "T9"  # (10, A) > (9, A), although "A:10" < "A:9" as strings


def test_nested_descendants_stay_under_their_ancestor() -> None:
    # P=A:1 has children A:3 ("x", typed later) and B:2 ("y"); B:2 has a child B:4.
    ops = [
        Insert(f"{A}:1", None, "P"),
        Insert(f"{B}:2", f"{A}:1", "y"),
        Insert(f"{A}:3", f"{A}:1", "x"),
        Insert(f"{B}:4", f"{B}:2", "z"),
        Insert(f"{C}:5", f"{A}:3", "w"),
    ]
    expected = "PxwyzX"[:5]
    for order in itertools.permutations(ops[1:]):
        doc = Document("replica-X")
        doc.apply([ops[0]])
        pending = list(order)
        while pending:  # parents first
            op = next(o for o in pending if o.after is None or doc.has(CharId.parse(o.after)))
            doc.apply([op])
            pending.remove(op)
        assert doc.text == expected


def test_a_descendant_of_a_larger_sibling_is_skipped_with_it() -> None:
    doc = Document("replica-X")
    doc.apply([Insert(f"{A}:1", None, "P"), Insert(f"{A}:5", f"{A}:1", "big")])
    # B:4 goes after P; sibling A:5 is greater and is skipped with its descendants A:6, A:7.
    doc.apply([Insert(f"{B}:4", f"{A}:1", "!")])
    assert doc.text == "Pbig!"
    # C:6 after the "b" (A:5): the next element A:6 is smaller, so the run is split.
    doc.apply([Insert(f"{C}:6", f"{A}:5", "-")])
    assert doc.text == "Pb-ig!"
    # B:8 after the "b": greater than C:6 and A:6, so it goes first.
    doc.apply([Insert(f"{B}:8", f"{A}:5", "+")])
    assert doc.text == "Pb+-ig!"


def test_a_new_child_in_the_middle_of_a_run_skips_larger_children() -> None:
    doc = Document("replica-X")
    doc.apply([Insert(f"{A}:1", None, "abc")])
    doc.apply([Insert(f"{B}:9", f"{A}:1", "X")])  # after "a": before "bc" (A:2 < B:9)
    assert doc.text == "aXbc"
    doc.apply([Insert(f"{C}:5", f"{A}:1", "Y")])
    assert doc.text == "aXYbc"  # C:5 < B:9: after X; C:5 > A:2: before "bc"


def deliver_all(doc: Document, messages: list[list[Op]]) -> None:
    """Apply messages in the given order; one naming unknown ids waits for the others."""
    pending = list(messages)
    while pending:
        waiting = []
        for ops in pending:
            try:
                doc.apply(ops)
            except UnknownIdError:
                waiting.append(ops)
        assert len(waiting) < len(pending)
        pending = waiting


def test_seed_case_converges_in_every_delivery_order() -> None:
    """A types "Hello World"; B inserts " Beautiful" after "Hello"; C appends "!"."""
    a = Document(A)
    base = a.insert(0, "Hello World")
    b, c = Document(B), Document(C)
    b.apply(base)
    c.apply(base)
    beautiful = b.insert(5, " Beautiful")
    bang = c.insert(11, "!")
    a_more = a.insert(11, "?")  # A concurrently types at the end too
    own = {A: [base, a_more], B: [base, beautiful], C: [base, bang]}
    messages = [base, a_more, beautiful, bang]
    results = set()
    for order in itertools.permutations(messages):
        for name in (A, B, C, "replica-fresh"):
            doc = Document(name)
            deliver_all(doc, own.get(name, []))  # what this replica made or had seen
            deliver_all(doc, list(order))
            results.add((doc.text, doc.encode_state()))
    assert len(results) == 1
    ((text, _),) = results
    # "!" (replica-C:12) and "?" (replica-A:12) are siblings after "d": the larger id goes first.
    assert text == "Hello Beautiful World!?"


def test_a_local_insert_appears_at_its_index() -> None:
    doc = Document(A)
    doc.insert(0, "hello")
    for index, piece in [(0, ">"), (6, "<"), (3, "mid"), (len("hel") + 1, "\u00e9\U0001f600")]:
        before = doc.text
        doc.insert(index, piece)
        assert doc.text == before[:index] + piece + before[index:]


def test_a_local_delete_removes_exactly_the_range() -> None:
    doc = Document(A)
    doc.insert(0, "0123456789")
    doc.delete(2, 3)
    assert doc.text == "0156789"
    doc.delete(0, len(doc))
    assert doc.text == ""
    assert doc.delete(0, 0) == []
    assert doc.insert(0, "") == []


def test_inserting_after_deleted_text_goes_after_the_tombstones() -> None:
    doc = Document(A)
    doc.insert(0, "abc")
    doc.delete(2, 1)  # "c" is a tombstone A:3
    assert doc.insert(2, "d") == [Insert(f"{A}:4", f"{A}:3", "d")]
    doc.delete(0, 3)
    assert doc.insert(0, "x") == [Insert(f"{A}:5", f"{A}:4", "x")]


def test_one_delete_per_run_of_consecutive_ids() -> None:
    doc = Document(A)
    doc.apply([Insert(f"{A}:1", None, "abcdef"), Insert(f"{B}:10", f"{A}:3", "XY")])
    assert doc.text == "abcXYdef"
    assert doc.delete(1, 6) == [
        Delete(f"{A}:2", 2),
        Delete(f"{B}:10", 2),
        Delete(f"{A}:4", 2),
    ]
    assert doc.text == "af"


def test_deleted_ids_around_an_old_tombstone_of_another_replica_are_one_op() -> None:
    doc = Document(A)
    doc.apply([Insert(f"{A}:1", None, "abcdef"), Insert(f"{B}:10", f"{A}:3", "XY")])
    doc.apply([Delete(f"{B}:10", 2)])
    assert doc.delete(0, 6) == [Delete(f"{A}:1", 6)]


def test_local_counters_follow_the_lamport_clock() -> None:
    doc = Document(A)
    assert doc.max_counter == 0
    assert doc.insert(0, "ab") == [Insert(f"{A}:1", None, "ab")]
    doc.apply([Insert(f"{B}:41", f"{A}:2", "z")])
    assert doc.max_counter == 41
    assert doc.insert(3, "c") == [Insert(f"{A}:42", f"{B}:41", "c")]
    assert doc.max_counter == 42


def test_long_local_inserts_are_chained_ops_within_the_wire_limit() -> None:
    doc = Document(A)
    text = "x" * (2 * MAX_INSERT_LENGTH + 5)
    ops = doc.insert(0, text)
    assert [len(op.text) for op in ops] == [MAX_INSERT_LENGTH, MAX_INSERT_LENGTH, 5]
    assert ops[0] == Insert(f"{A}:1", None, "x" * MAX_INSERT_LENGTH)
    assert ops[1].after == f"{A}:{MAX_INSERT_LENGTH}"
    assert ops[1].id == f"{A}:{MAX_INSERT_LENGTH + 1}"
    assert ops[2].after == f"{A}:{2 * MAX_INSERT_LENGTH}"
    other = Document(B)
    other.apply(ops)
    assert other.text == text
    # A long insert into a run that could be extended is chained too.
    more = doc.insert(len(doc), "y" * (MAX_INSERT_LENGTH + 1))
    assert len(more) == 2 and more[0].after == f"{A}:{len(text)}"
    other.apply(more)
    assert other.text == doc.text


def test_id_at_and_index_of_agree_and_tombstones_index_where_they_would_be() -> None:
    doc = Document(A)
    doc.insert(0, "abcdef")
    cid = doc.id_at(3)
    assert cid == CharId(4, A)
    assert doc.index_of(cid) == 3
    doc.delete(2, 2)  # "c" and "d" become tombstones
    assert doc.has(cid)
    assert doc.index_of(cid) == 2
    assert doc.index_of(CharId(6, A)) == 3
    with pytest.raises(IndexError):
        doc.id_at(4)
    with pytest.raises(IndexError):
        doc.id_at(-1)
    assert not doc.has(CharId(99, A))
    assert not doc.has(CharId(1, B))


def test_apply_and_diff_reports_changes_relative_to_the_previous_one() -> None:
    a = Document(A)
    ops = a.insert(0, "hello world")
    b = Document(B)
    assert b.apply_and_diff(ops) == [Change(0, 0, "hello world")]
    more = a.insert(5, ",") + a.delete(0, 1) + a.insert(0, "H") + a.insert(len(a), "!")
    text = b.text
    changes = b.apply_and_diff(more)
    for ch in changes:
        text = text[: ch.index] + ch.inserted + text[ch.index + ch.deleted :]
    assert text == a.text == b.text == "Hello, world!"
    assert changes[0] == Change(5, 0, ",")


def test_a_delete_spanning_split_runs_gives_one_change_per_visible_piece() -> None:
    b = Document(B)
    b.apply([Insert(f"{A}:1", None, "abcdef"), Insert(f"{B}:20", f"{A}:3", "XY")])  # abcXYdef
    changes = b.apply_and_diff([Delete(f"{A}:2", 4)])  # b c | d e, around XY
    assert b.text == "aXYf"
    assert changes == [Change(1, 2, ""), Change(3, 2, "")]
    # Pieces that end up adjacent are merged into one change.
    b.apply([Delete(f"{B}:20", 2)])
    c = Document(C)
    c.apply([Insert(f"{A}:1", None, "abcdef"), Insert(f"{B}:20", f"{A}:3", "XY")])
    c.apply([Delete(f"{B}:20", 2)])
    assert c.apply_and_diff([Delete(f"{A}:2", 4)]) == [Change(1, 4, "")]
    # Deleting tombstones again reports nothing.
    assert c.apply_and_diff([Delete(f"{A}:2", 4)]) == []
