"""Step functions: decode, encode, text and dispose in bounded steps give exactly what the
synchronous calls give, refuse the same inputs, and free a document without the collector."""

from __future__ import annotations

import base64
import gc
import random
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docstream.crdt import CharId, Delete, Document, Insert, encoding, runindex, sequence
from docstream.crdt.sequence import Run
from docstream.crdt.steps import Steps, finish
from docstream.errors import DocStreamError, InvalidInputError, StateFormatError, UnknownIdError
from tests.crdt.test_vectors import load, named

T = TypeVar("T")
NAMES = ["replica-A", "replica-B", "replica-C"]


@pytest.fixture
def tiny_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step after every run or two: every step boundary and the sorted-in-pieces path of a
    decode happen in small documents."""
    monkeypatch.setattr(encoding, "ENCODE_STEP", 2)
    monkeypatch.setattr(encoding, "DECODE_STEP", 2)
    monkeypatch.setattr(runindex, "LOAD_STEP", 1)
    monkeypatch.setattr(sequence, "LOAD_STEP", 2)
    monkeypatch.setattr(sequence, "TEXT_STEP", 1)
    monkeypatch.setattr(sequence, "DISPOSE_STEP", 1)
    monkeypatch.setattr(sequence, "SORT_STEP", 3)
    monkeypatch.setattr(sequence, "MERGE_STEP", 2)


def stepped(steps: Steps[T]) -> tuple[T, int]:
    """The job's result and how many times it paused."""
    count = 0
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result, count
        count += 1


def edited(seed: int, edits: int = 120) -> Document:
    """Three replicas typing and deleting at random places (so a replica's runs are not in
    counter order), every message delivered at once; replica A's copy."""
    rnd = random.Random(seed)
    docs = [Document(name) for name in NAMES]
    for _ in range(edits):
        doc = rnd.choice(docs)
        if len(doc) > 2 and rnd.random() < 0.3:
            at = rnd.randrange(len(doc))
            ops = doc.delete(at, min(rnd.randint(1, 4), len(doc) - at))
        else:
            ops = doc.insert(rnd.randint(0, len(doc)), rnd.choice(["a", "bc", "d\u00e9f", "xxxxx"]))
        for other in docs:
            if other is not doc:
                other.apply(ops)
    return docs[0]


def layout(doc: Document) -> Any:
    """Everything a decode builds: blocks, their summaries, the id indexes, the clock."""
    reps = {
        name: (rep.keys, [[r.counter for r in vals] for vals in rep.vals], rep.mins, rep.vis)
        for name, rep in doc._reps.items()
    }
    known = {name: (rep.known, rep.end) for name, rep in doc._reps.items()}
    blocks = [[(r.replica, r.counter, r.length, r.text) for r in b.runs] for b in doc._blocks]
    return blocks, doc._bvis, doc._bmin, reps, known, doc.max_counter, len(doc)


def assert_same_jobs(doc: Document) -> None:
    blob = doc.encode_state()
    encoded, _ = stepped(doc.encode_state_steps())
    assert encoded == blob
    text, _ = stepped(doc.text_steps())
    assert text == doc.text
    decoded, _ = stepped(Document.decode_state_steps(blob, "replica-Z"))
    again = Document.decode_state(blob, "replica-Z")
    assert layout(decoded) == layout(again)
    assert decoded.encode_state() == blob and decoded.text == doc.text
    # Both take the same ops the same way afterwards.
    # (The insert first: random edits may have left the document empty.)
    insert = [Insert("replica-Z:100000", None, "!")]
    decoded.apply(insert)
    again.apply(insert)
    delete = [Delete(str(decoded.id_at(0)), 1)]
    decoded.apply(delete)
    again.apply(delete)
    assert decoded.encode_state() == again.encode_state()


@pytest.mark.parametrize("seed", range(6))
def test_step_functions_give_what_the_synchronous_calls_give(seed: int) -> None:
    assert_same_jobs(edited(seed))


@pytest.mark.parametrize("seed", range(6))
def test_step_functions_agree_in_small_steps_too(seed: int, tiny_steps: None) -> None:
    assert_same_jobs(edited(seed))


@pytest.mark.parametrize("seed", range(3))
def test_step_functions_agree_with_tiny_blocks_runs_and_chunks(
    seed: int, tiny_steps: None, tiny_limits: None
) -> None:
    assert_same_jobs(edited(seed, edits=60))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 80))
def test_step_functions_agree_on_random_documents(seed: int, edits: int) -> None:
    assert_same_jobs(edited(seed, edits))


@named(load("state.json")["encode"])
def test_state_vectors_decode_and_encode_in_steps(case: dict[str, Any], tiny_steps: None) -> None:
    blob = base64.b64decode(case["state"])
    doc, _ = stepped(Document.decode_state_steps(blob, replica="vector-other"))
    assert doc.text == case["text"] and doc.max_counter == case["max_counter"]
    assert stepped(doc.encode_state_steps())[0] == blob
    assert stepped(doc.text_steps())[0] == case["text"]


def refusal(blob: bytes, job: Any) -> str:
    with pytest.raises(DocStreamError) as caught:
        job(blob)
    assert isinstance(caught.value, StateFormatError)
    return caught.value.detail


def bad_states() -> Iterator[bytes]:
    for case in load("state.json")["refuse"]:
        yield base64.b64decode(case["state"])
    good = edited(7, edits=30).encode_state()
    for cut in range(len(good)):
        yield good[:cut]
    yield good + b"\x00"
    yield bytes([1, 2, 9]) + b"replica-A" + b"\x09replica-A" + good[20:]


def test_the_steps_refuse_every_bad_state_as_the_synchronous_decode_does(tiny_steps: None) -> None:
    for blob in bad_states():
        expected = refusal(blob, lambda b: Document.decode_state(b, "replica-Z"))
        got = refusal(blob, lambda b: finish(Document.decode_state_steps(b, "replica-Z")))
        assert got == expected, blob


def test_overlapping_ids_are_refused_whether_or_not_pieces_need_merging(tiny_steps: None) -> None:
    # Runs of replica-A in sequence order: counters 0-1, 5, 1 (overlap), 9 -- pieces of three
    # runs are not in order, so they are merged, and the overlap is found.
    a = "replica-A"
    merged = encoding.encode_runs(
        [(a, 0, 2, "ab"), (a, 5, 1, "c"), (a, 1, 1, None), (a, 9, 1, "d")]
    )
    # In order across pieces, but the last id of one piece is the first of the next.
    ordered = encoding.encode_runs(
        [(a, 0, 1, None), (a, 1, 1, "x"), (a, 2, 1, None), (a, 2, 2, "xy")]
    )
    for blob in (merged, ordered):
        with pytest.raises(StateFormatError, match="twice"):
            finish(Document.decode_state_steps(blob, "replica-Z"))
        with pytest.raises(StateFormatError, match="twice"):
            Document.decode_state(blob, "replica-Z")


def test_a_bad_replica_is_refused_before_the_first_step() -> None:
    with pytest.raises(InvalidInputError):
        Document.decode_state_steps(Document("replica-A").encode_state(), "bad")


def large() -> Document:
    """About 9,000 runs: typed text, then every other character of its first part deleted."""
    doc = Document("replica-A")
    doc.insert(0, "abc" * 4500)
    for i in range(0, 9000, 2):
        doc.delete(i, 1)
    return doc


def test_a_large_document_takes_many_bounded_steps() -> None:
    doc = large()
    blob = doc.encode_state()
    assert stepped(doc.encode_state_steps()) == (blob, 8999 // encoding.ENCODE_STEP)
    decoded, pauses = stepped(Document.decode_state_steps(blob, "replica-Z"))
    assert pauses > 9000 // encoding.DECODE_STEP and decoded.encode_state() == blob
    text, pauses = stepped(decoded.text_steps())
    assert text == doc.text and pauses == -(-decoded.block_count // sequence.TEXT_STEP)
    _, pauses = stepped(decoded.dispose_steps())
    assert pauses > 9000 // sequence.DISPOSE_STEP


def test_the_step_functions_leave_the_collector_alone() -> None:
    blob = large().encode_state()
    seen = []
    steps = Document.decode_state_steps(blob, "replica-Z")
    was = gc.isenabled()
    gc.enable()
    try:
        for _ in steps:
            seen.append(gc.isenabled())
    finally:
        (gc.enable if was else gc.disable)()
    assert seen and all(seen)


def runs_alive() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Run)


@pytest.mark.parametrize("steps", [False, True])
def test_a_disposed_document_is_freed_by_reference_counting(steps: bool) -> None:
    blob = large().encode_state()
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # nothing may be freed by a collection from here on
    try:
        before = runs_alive()
        doc = Document.decode_state(blob, "replica-Z")
        assert runs_alive() - before >= 9000
        if steps:
            _, pauses = stepped(doc.dispose_steps())
            assert pauses
        else:
            doc.dispose()
        assert runs_alive() == before
    finally:
        if was:
            gc.enable()


def test_a_disposed_document_is_empty_and_behaves_as_new() -> None:
    doc = Document("replica-A")
    doc.insert(0, "hello")
    doc.apply([Insert("replica-B:10", "replica-A:5", "x")])  # remote typing: a fast-path tail
    doc.insert(len(doc), "!")
    steps = doc.dispose_steps()
    next(steps, None)
    assert doc.text == "" and len(doc) == 0  # empty from the first step on
    finish(steps)
    assert doc.encode_state() == Document("replica-A").encode_state()
    assert doc.max_counter == 0 and doc.stored_runs() == 0 and doc.block_count == 1
    assert not doc.has(CharId(1, "replica-A"))
    with pytest.raises(UnknownIdError):
        doc.apply([Insert("replica-B:11", "replica-B:10", "y")])  # the old tail is gone too
    doc.apply([Insert("replica-B:1", None, "ok")])
    assert doc.insert(2, "!") == [Insert("replica-A:3", "replica-B:2", "!")]
    assert doc.text == "ok!"
