"""encode_state / decode_state: round trips, determinism and refusal of bad blobs."""

from __future__ import annotations

import base64
import contextlib
import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docstream.crdt import MAX_COUNTER, Delete, Document, Insert
from docstream.crdt.encoding import STATE_VERSION, decode_runs, encode_runs
from docstream.errors import InvalidInputError, StateFormatError

A, B = "replica-A", "replica-B"


def sample() -> Document:
    doc = Document(A)
    doc.insert(0, "h\u00e9llo \u4e16\u754c \U0001f600!")
    doc.apply([Insert(f"{B}:300", f"{A}:3", "XYZ")])
    doc.delete(1, 2)
    doc.insert(len(doc), "tail")
    return doc


def test_an_empty_document_encodes_to_four_bytes() -> None:
    blob = Document(A).encode_state()
    assert blob == bytes([STATE_VERSION, 0, 0, 0])
    again = Document.decode_state(blob, replica=B)
    assert again.text == "" and len(again) == 0 and again.max_counter == 0
    assert again.insert(0, "x") == [Insert(f"{B}:1", None, "x")]


def test_a_state_round_trip_keeps_text_tombstones_ids_and_clock() -> None:
    doc = sample()
    blob = doc.encode_state()
    again = Document.decode_state(blob, replica="replica-C")
    assert again.text == doc.text
    assert again.max_counter == doc.max_counter == 306
    assert again.encode_state() == blob
    assert list(again.runs()) == list(doc.runs())
    # Tombstones are still known ids, and both documents take later ops alike.
    later = [Insert("replica-C:400", f"{A}:2", "!"), Delete(f"{B}:300", 3)]
    doc.apply(later)
    again.apply(later)
    assert again.text == doc.text


def test_the_same_document_built_differently_encodes_to_the_same_bytes() -> None:
    typed = Document(A)
    for i, ch in enumerate("abcdef"):
        typed.insert(i, ch)
    pasted = Document(B)
    pasted.apply([Insert(f"{A}:1", None, "abcdef")])
    assert typed.encode_state() == pasted.encode_state()


def test_long_runs_survive_a_round_trip() -> None:
    doc = Document(A)
    doc.insert(0, "x" * 5000)
    doc.delete(10, 3000)
    again = Document.decode_state(doc.encode_state(), replica=B)
    assert again.text == doc.text
    again.apply([Insert(f"{B}:6000", f"{A}:2500", "!")])
    assert again.index_of(again.id_at(0)) == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_decoding_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    """decode_state pauses the cyclic collector while it builds the document (a collection then
    can free nothing it built) and puts it back as it was, after a refused blob too."""
    big = Document(A)
    big.insert(0, "x" * 2000)
    for i in range(1000):
        big.delete(i, 1)  # 2,000 runs, alternately visible and deleted
    blob, expected = big.encode_state(), big.text
    seen: list[str] = []

    def note(phase: str, info: dict[str, int]) -> None:
        seen.append(phase)

    was, threshold = gc.isenabled(), gc.get_threshold()
    (gc.enable if enabled else gc.disable)()
    gc.callbacks.append(note)
    try:
        gc.set_threshold(1)  # without the pause, every allocation would start a collection
        seen.clear()
        doc = Document.decode_state(blob, replica=B)
        starts = seen.count("start")
        assert starts <= 1 and gc.isenabled() is enabled  # (2,233 starts without the pause)
        with pytest.raises(StateFormatError):
            Document.decode_state(blob + b"\x00", replica=B)
        assert gc.isenabled() is enabled
        assert doc.text == expected
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(note)
        (gc.enable if was else gc.disable)()


def test_the_replica_passed_to_decode_is_validated() -> None:
    with pytest.raises(InvalidInputError):
        Document.decode_state(Document(A).encode_state(), replica="bad")


def test_encode_runs_cuts_runs_longer_than_the_head_field() -> None:
    huge = 2**51
    blob = encode_runs([(A, 1, huge, None)])
    assert decode_runs(blob) == [(A, 1, 2**50, None), (A, 1 + 2**50, 2**50, None)]


GOOD = sample().encode_state()


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x02", bytes([0, 0, 0, 0]), b"\xff" + GOOD[1:]],
    ids=["empty", "version-2", "version-0", "version-255"],
)
def test_unknown_versions_are_refused(blob: bytes) -> None:
    with pytest.raises(StateFormatError):
        Document.decode_state(blob, replica=B)


@pytest.mark.parametrize("cut", range(1, len(GOOD)))
def test_every_truncation_is_refused(cut: int) -> None:
    with pytest.raises(StateFormatError):
        Document.decode_state(GOOD[:cut], replica=B)


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(StateFormatError, match="trailing"):
        Document.decode_state(GOOD + b"\x00", replica=B)


def v1(*parts: bytes) -> bytes:
    return bytes([STATE_VERSION]) + b"".join(parts)


def name(s: str) -> bytes:
    return bytes([len(s)]) + s.encode()


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (v1(b"\x01", name("bad"), b"\x00\x00"), "invalid replica"),
        (v1(b"\x01", b"\x08\xc3\xa9replica", b"\x00\x00"), "invalid replica"),
        (v1(b"\x02", name(A), name(A), b"\x00\x00"), "listed twice"),
        (v1(b"\x01", name(A), b"\x00", b"\x01", b"\x04"), "first run"),
        (v1(b"\x01", name(A), b"\x00", b"\x01", b"\x07\x01\x01"), "replica index"),
        (v1(b"\x01", name(A), b"\x01x", b"\x01", b"\x05\x00"), "code points"),
        (v1(b"\x01", name(A), b"\x01x", b"\x01", b"\x0b\x00\x01"), "code points"),
        (v1(b"\x01", name(A), b"\x02\xc3(", b"\x01", b"\x03\x00\x01"), "UTF-8"),
        (v1(b"\x01", name(A), b"\x03\xed\xa0\x80"), "UTF-8"),
        (v1(b"\x01", name(A), b"\x00", b"\x02", b"\x07\x00\x01", b"\x06\x01"), "twice"),
        (v1(b"\x80\x00"), "non-minimal"),
        (v1(b"\xff" * 9), "too long"),
        (v1(b"\x80\x80\x80\x80\x80\x80\x80\x10"), "out of range"),
        (v1(b"\x00\x00\xff\xff\x03"), "larger than the state"),
        (
            v1(b"\x01", name(A), b"\x00", b"\x01", b"\x0f\x00\xff\xff\xff\xff\xff\xff\xff\x0f"),
            "out of range",
        ),
        ("not bytes", "must be bytes"),
    ],
    ids=[
        "bad-name",
        "non-ascii-name",
        "duplicate-name",
        "no-first-replica",
        "bad-index",
        "text-too-long",
        "text-too-short",
        "bad-utf8",
        "surrogate",
        "overlapping-ids",
        "non-minimal-varint",
        "long-varint",
        "huge-varint",
        "huge-run-count",
        "counter-overflow",
        "not-bytes",
    ],
)
def test_malformed_states_are_refused(blob: bytes, message: str) -> None:
    with pytest.raises(StateFormatError, match=message):
        Document.decode_state(blob, replica=B)  # type: ignore[arg-type]


def test_bytearray_and_memoryview_blobs_are_accepted() -> None:
    assert Document.decode_state(bytearray(GOOD), replica=B).text == sample().text
    assert Document.decode_state(memoryview(GOOD), replica=B).text == sample().text  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_raise_state_format_error_or_decode(junk: bytes) -> None:
    for blob in (junk, bytes([STATE_VERSION]) + junk, GOOD[: len(GOOD) // 2] + junk):
        try:
            doc = Document.decode_state(blob, replica=B)
        except StateFormatError:
            continue
        assert doc.encode_state() is not None


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.integers(0, 255))
def test_flipped_bytes_raise_state_format_error_or_decode(at: int, value: int) -> None:
    blob = bytearray(GOOD)
    blob[at] = value
    with contextlib.suppress(StateFormatError):
        Document.decode_state(bytes(blob), replica=B)


def test_states_are_base64_friendly() -> None:
    text = base64.b64encode(GOOD).decode()
    assert Document.decode_state(base64.b64decode(text), replica=B).text == sample().text
    assert MAX_COUNTER == 2**53 - 1
