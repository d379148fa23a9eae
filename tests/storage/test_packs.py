"""The pack encoding gives back every entry exactly, whatever it holds, and refuses a damaged
pack instead of answering with different entries."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docstream.collab.loader import encode_payload
from docstream.crdt import Delete, Document, Insert
from docstream.errors import StateFormatError
from docstream.storage.packs import PACK_ROWS, Row, decode_pack, encode_pack

T0 = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def _row(seq: int, payload: bytes, **kw: object) -> Row:
    fields: dict[str, object] = {
        "seq": seq,
        "user_id": "u1",
        "replica": "replica01",
        "counter_lo": None,
        "counter_hi": None,
        "payload": payload,
        "kind": "insert",
        "position": 0,
        "length": 0,
        "preview": "",
        "created_at": T0 + timedelta(microseconds=seq * 1234),
    }
    fields.update(kw)
    return Row(**fields)  # type: ignore[arg-type]


def test_typing_round_trips_and_packs_small() -> None:
    doc = Document("replica01")
    rows = []
    for seq in range(1, PACK_ROWS + 1):
        ops = doc.insert(len(doc) - (seq % 3 == 0), "x") if seq % 9 else doc.delete(0, 1)
        summary = ("insert", 1, "x") if seq % 9 else ("delete", 1, "")
        hi = int(ops[0].id.rpartition(":")[2]) if isinstance(ops[0], Insert) else None
        rows.append(
            _row(
                seq,
                encode_payload(ops),
                counter_lo=hi,
                counter_hi=hi,
                kind=summary[0],
                length=summary[1],
                preview=summary[2],
                position=seq // 2,
            )
        )
    blob = encode_pack(rows)
    assert decode_pack(blob) == rows
    # A thousand entries of typing: a few bytes each, against about 90 for the payloads alone.
    assert len(blob) < 8 * PACK_ROWS < sum(len(r.payload) for r in rows)


def test_what_is_not_canonical_is_kept_as_it_was() -> None:
    ins = Insert("replica01:7", "replica02:3", "é\x00😀")
    rows = [
        _row(5, b"\x01[ ]", kind="edit", length=9, preview="odd"),  # not msgspec's JSON
        _row(6, b"\x02anything"),  # a payload version this module does not know
        _row(7, encode_payload([ins]), kind="edit", length=3, preview="\ufffd"),  # PG preview
        _row(8, encode_payload([Insert("replica01:007", None, "a")])),  # a counter with zeros
        _row(9, encode_payload([Delete("replica02:1", 4), ins]), kind="edit", length=3),
        _row(10, encode_payload([ins]), user_id="guest-x", replica="replica03"),
        _row(11, encode_payload([ins]), created_at=datetime(1999, 1, 1, tzinfo=UTC)),
    ]
    assert decode_pack(encode_pack(rows)) == rows


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["insert", "delete", "edit"]),
            st.integers(0, 10**9),
            st.text(max_size=5),
            st.one_of(st.none(), st.integers(0, 2**40)),
            st.integers(0, 10**7),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_any_entries_round_trip(entries: list[tuple[str, int, str, int | None, int, bool]]) -> None:
    rows = []
    for seq, (kind, position, text, counter, micros, canonical) in enumerate(entries, 100):
        ops = [Insert(f"replica01:{counter or 1}", None, text or "z")]
        payload = encode_payload(ops) if canonical else b"\x01" + text.encode()
        rows.append(
            _row(
                seq,
                payload,
                kind=kind,
                position=position,
                counter_hi=counter,
                preview=text,
                length=len(text),
                created_at=T0 - timedelta(microseconds=micros),
            )
        )
    assert decode_pack(encode_pack(rows)) == rows


def test_a_damaged_pack_is_refused() -> None:
    rows = [_row(1, encode_payload([Insert("replica01:1", None, "a")]))]
    blob = encode_pack(rows)
    with pytest.raises(StateFormatError):
        decode_pack(blob[:-3])
    with pytest.raises(StateFormatError):
        decode_pack(b"\x09" + blob[1:])
    # Well-formed compression around columns that do not add up.
    with pytest.raises(StateFormatError):
        decode_pack(b"\x01" + zlib.compress(b"\x93\x01\x02\x03"))


def test_entries_must_follow_each_other() -> None:
    payload = encode_payload([Insert("replica01:1", None, "a")])
    with pytest.raises(ValueError, match="consecutive"):
        encode_pack([_row(1, payload), _row(3, payload)])
