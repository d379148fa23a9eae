"""Every validation rule of Document.apply, CharId.parse and Document(replica)."""

from __future__ import annotations

import pytest

from docstream.crdt import MAX_COUNTER, CharId, Delete, Document, Insert
from docstream.errors import (
    CrdtError,
    DuplicateIdError,
    InvalidInputError,
    UnknownIdError,
)

A, B = "replica-A", "replica-B"


@pytest.fixture
def doc() -> Document:
    d = Document(B)
    d.apply([Insert(f"{A}:1", None, "hello"), Insert(f"{A}:10", f"{A}:5", "world")])
    return d


def test_an_unknown_parent_is_an_unknown_id(doc: Document) -> None:
    with pytest.raises(UnknownIdError, match="unknown parent"):
        doc.apply([Insert(f"{A}:20", f"{A}:7", "x")])  # A:7 falls in a gap of A's ids
    with pytest.raises(UnknownIdError) as info:
        doc.apply([Insert(f"{A}:20", "replica-Q:1", "x")])
    assert info.value.code == "unknown_id"


def test_deleting_an_unknown_id_is_an_unknown_id(doc: Document) -> None:
    with pytest.raises(UnknownIdError):
        doc.apply([Delete("replica-Q:1", 1)])
    with pytest.raises(UnknownIdError):
        doc.apply([Delete(f"{A}:7", 1)])
    with pytest.raises(UnknownIdError):
        doc.apply([Delete(f"{A}:0", 1)])


@pytest.mark.parametrize("length", [0, -1])
def test_a_delete_of_less_than_one_char_is_an_unknown_id(doc: Document, length: int) -> None:
    with pytest.raises(UnknownIdError, match="at least 1"):
        doc.apply([Delete(f"{A}:1", length)])


@pytest.mark.parametrize(
    ("start", "length"),
    [(1, 6), (4, 3), (12, 4), (15, 1), (5, 6)],
    ids=["past-first-run", "into-gap", "past-end", "after-end", "across-gap"],
)
def test_a_delete_running_past_the_known_ids_is_an_unknown_id(
    doc: Document, start: int, length: int
) -> None:
    before = doc.encode_state()
    with pytest.raises(UnknownIdError, match="does not know"):
        doc.apply([Delete(f"{A}:{start}", length)])
    assert doc.encode_state() == before  # nothing was deleted


def test_a_delete_across_split_runs_of_known_ids_is_fine(doc: Document) -> None:
    doc.apply([Insert(f"{B}:20", f"{A}:2", "XY")])  # splits "hello" between e and l
    doc.apply([Delete(f"{A}:1", 5)])
    assert doc.text == "XYworld"
    doc.apply([Delete(f"{A}:1", 5)])  # deleting tombstones again is a no-op
    assert doc.text == "XYworld"


def test_an_empty_insert_is_refused(doc: Document) -> None:
    with pytest.raises(CrdtError, match="empty text"):
        doc.apply([Insert(f"{A}:30", None, "")])


def test_a_counter_not_above_its_parents_is_a_lamport_violation(doc: Document) -> None:
    for counter in (5, 3):
        with pytest.raises(CrdtError, match="Lamport") as info:
            doc.apply([Insert(f"{B}:{counter}", f"{A}:5", "x")])
        assert type(info.value) is CrdtError
    doc.apply([Insert(f"{B}:6", f"{A}:5", "x")])  # one more is fine
    doc.apply([Insert(f"{B}:0", None, "0")])  # the document start has no counter


def test_resending_an_insert_is_a_no_op(doc: Document) -> None:
    before = doc.encode_state()
    doc.apply([Insert(f"{A}:1", None, "hello"), Insert(f"{A}:10", f"{A}:5", "world")])
    doc.apply([Insert(f"{A}:2", f"{A}:1", "ell")])  # a part of a run, same content
    assert doc.encode_state() == before
    assert doc.max_counter == 14


def test_resending_an_insert_over_tombstones_is_a_no_op(doc: Document) -> None:
    doc.apply([Delete(f"{A}:2", 3)])  # "ell" deleted, its content dropped
    before = doc.encode_state()
    doc.apply([Insert(f"{A}:1", None, "hello")])
    doc.apply([Insert(f"{A}:1", None, "h???o")])  # tombstoned chars cannot be compared
    assert doc.encode_state() == before
    assert doc.text == "howorld"


def test_reusing_ids_for_other_text_is_a_duplicate_conflict(doc: Document) -> None:
    with pytest.raises(DuplicateIdError, match="other text") as info:
        doc.apply([Insert(f"{A}:1", None, "HELLO")])
    assert info.value.code == "duplicate_id_conflict"
    doc.apply([Insert(f"{B}:20", f"{A}:2", "XY")])  # split A's run
    with pytest.raises(DuplicateIdError):
        doc.apply([Insert(f"{A}:1", None, "helLo")])


@pytest.mark.parametrize(
    ("start", "text"),
    [(4, "lo!"), (0, "xh"), (6, "abcde"), (3, "llo" + "x" * 10)],
    ids=["runs-past-the-end", "starts-before", "covers-a-later-run", "covers-a-gap"],
)
def test_partly_overlapping_known_ids_is_a_duplicate_conflict(
    doc: Document, start: int, text: str
) -> None:
    before = doc.encode_state()
    with pytest.raises(DuplicateIdError, match="partly"):
        doc.apply([Insert(f"{A}:{start}", None, text)])
    assert doc.encode_state() == before


def test_new_ids_in_a_gap_of_a_replica_are_fine(doc: Document) -> None:
    doc.apply([Insert(f"{A}:6", f"{A}:5", "-")])  # a sibling of "world" (A:10), smaller
    assert doc.text == "helloworld-"
    assert doc.has(CharId(6, A))


@pytest.mark.parametrize(
    "wire",
    [
        "nocolon",
        "short:1",
        "replica-A:",
        "replica-A:-1",
        "replica-A:+1",
        "replica-A:01",
        "replica-A:1.0",
        "replica-A: 1",
        "replica-A:\u0661",
        "bad replica:1",
        "replica-A:1e3",
        f"replica-A:{MAX_COUNTER + 1}",
        "replica-A:99999999999999999999",
    ],
)
def test_malformed_ids_in_ops_are_refused(doc: Document, wire: str) -> None:
    with pytest.raises(CrdtError) as info:
        doc.apply([Insert(wire, None, "x")])
    assert info.value.code == "bad_message"
    with pytest.raises(CrdtError):
        doc.apply([Insert(f"{A}:30", wire, "x")])
    with pytest.raises(CrdtError):
        doc.apply([Delete(wire, 1)])


def test_ops_of_the_wrong_type_are_refused(doc: Document) -> None:
    with pytest.raises(CrdtError, match="not an op"):
        doc.apply(["ins"])  # type: ignore[list-item]
    with pytest.raises(CrdtError, match="string"):
        doc.apply([Insert(123, None, "x")])  # type: ignore[arg-type]
    with pytest.raises(CrdtError, match="text must be a string"):
        doc.apply([Insert(f"{A}:30", None, b"x")])  # type: ignore[arg-type]
    with pytest.raises(CrdtError, match="integer"):
        doc.apply([Delete(f"{A}:1", True)])
    with pytest.raises(CrdtError, match="integer"):
        doc.apply([Delete(f"{A}:1", 1.0)])  # type: ignore[arg-type]


def test_text_with_unpaired_surrogates_is_refused(doc: Document) -> None:
    with pytest.raises(CrdtError, match="surrogates"):
        doc.apply([Insert(f"{A}:30", None, "a\ud800")])
    with pytest.raises(InvalidInputError, match="surrogates"):
        doc.insert(0, "\udfff")
    doc.apply([Insert(f"{A}:30", None, "\u00e9\U0001f600")])


def test_counters_may_not_pass_max_counter(doc: Document) -> None:
    with pytest.raises(CrdtError, match="counters would pass"):
        doc.apply([Insert(f"{A}:{MAX_COUNTER}", None, "xy")])
    doc.apply([Insert(f"{A}:{MAX_COUNTER}", None, "x")])
    assert doc.max_counter == MAX_COUNTER
    with pytest.raises(CrdtError, match="Lamport counter would pass"):
        doc.insert(0, "y")


def test_a_refused_op_leaves_the_earlier_ops_applied_and_names_its_index(doc: Document) -> None:
    ops = [
        Insert(f"{B}:20", None, ">"),
        Delete(f"{A}:1", 1),
        Insert(f"{B}:21", "replica-Q:1", "?"),
        Insert(f"{B}:22", None, "never"),
    ]
    with pytest.raises(UnknownIdError) as info:
        doc.apply(ops)
    assert info.value.detail.startswith("op 2: ")
    assert doc.text == ">elloworld"
    assert not doc.has(CharId(22, B))
    with pytest.raises(CrdtError) as info2:
        doc.apply_and_diff([Insert(f"{B}:23", None, "x"), Insert("bad", None, "x")])
    assert info2.value.detail.startswith("op 1: ")
    assert doc.text.startswith("x>")


@pytest.mark.parametrize("replica", ["short", "x" * 65, "with space", "ümlaut-1", "", 12345678])
def test_a_document_needs_a_valid_replica_id(replica: object) -> None:
    with pytest.raises(InvalidInputError, match="replica"):
        Document(replica)  # type: ignore[arg-type]


def test_local_edits_out_of_range_raise_index_error(doc: Document) -> None:
    for bad in (-1, len(doc) + 1):
        with pytest.raises(IndexError):
            doc.insert(bad, "x")
    for index, length in ((-1, 1), (0, -1), (len(doc), 1), (3, len(doc))):
        with pytest.raises(IndexError):
            doc.delete(index, length)


def test_index_of_an_unknown_id_is_an_unknown_id(doc: Document) -> None:
    with pytest.raises(UnknownIdError):
        doc.index_of(CharId(7, A))
    with pytest.raises(UnknownIdError):
        doc.index_of(CharId(1, "replica-Q"))
