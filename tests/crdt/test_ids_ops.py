"""CharId ordering and wire form; ops encode to exactly the JSON of docs/protocol.md §6."""

from __future__ import annotations

import msgspec
import pytest

from docstream.crdt import MAX_COUNTER, Change, CharId, Delete, Insert, op_decoder
from docstream.crdt.ids import check_replica
from docstream.errors import InvalidInputError


def test_char_ids_order_by_counter_then_replica() -> None:
    assert CharId(9, "replica-Z") < CharId(10, "replica-A")
    assert CharId(10, "replica-A") < CharId(10, "replica-B")
    assert sorted([CharId(10, "u-000000"), CharId(9, "u-000000")])[0].counter == 9


def test_char_ids_print_and_parse_the_wire_form() -> None:
    cid = CharId(41, "Ab3xQ9kZ")
    assert str(cid) == "Ab3xQ9kZ:41"
    assert CharId.parse("Ab3xQ9kZ:41") == cid
    assert CharId.parse("under_score-dash:0") == CharId(0, "under_score-dash")
    assert CharId.parse(f"Ab3xQ9kZ:{MAX_COUNTER}").counter == MAX_COUNTER


@pytest.mark.parametrize(
    "wire",
    [
        "Ab3xQ9kZ",
        "Ab3xQ9kZ:",
        ":1",
        "Ab3x:1",
        "Ab3xQ9kZ:x",
        "Ab3xQ9kZ:-3",
        "Ab3xQ9kZ:007",
        "Ab3xQ9kZ:1:2",
        "Ab3xQ9kZ: 1",
        "Ab3xQ9kZ:\u00b2",
        f"Ab3xQ9kZ:{MAX_COUNTER + 1}",
        "Ab3xQ9kZ:12345678901234567890",
        "A" * 65 + ":1",
        "Ab3x.Q9kZ:1",
    ],
)
def test_malformed_wire_ids_are_invalid_input(wire: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid char id"):
        CharId.parse(wire)


def test_only_strings_parse_as_ids() -> None:
    with pytest.raises(InvalidInputError, match="expected a string"):
        CharId.parse(41)  # type: ignore[arg-type]


def test_a_colon_in_the_replica_part_is_refused_with_the_last_colon_as_separator() -> None:
    with pytest.raises(InvalidInputError, match="replica part"):
        CharId.parse("Ab3x:Q9kZ:1")


def test_check_replica_returns_valid_ids() -> None:
    assert check_replica("Ab3xQ9kZ") == "Ab3xQ9kZ"
    with pytest.raises(InvalidInputError):
        check_replica("Ab3xQ9k")


def test_ops_encode_to_the_protocol_json() -> None:
    ops = [
        Insert("Ab3xQ9kZ:41", "Zz81mmQa:40", "hello"),
        Delete("Ab3xQ9kZ:41", 3),
        Insert("Ab3xQ9kZ:1", None, "\u00e9"),
    ]
    assert msgspec.json.encode(ops) == (
        b'[{"kind":"ins","id":"Ab3xQ9kZ:41","after":"Zz81mmQa:40","text":"hello"},'
        b'{"kind":"del","id":"Ab3xQ9kZ:41","len":3},'
        b'{"kind":"ins","id":"Ab3xQ9kZ:1","after":null,"text":"\xc3\xa9"}]'
    )
    assert op_decoder.decode(msgspec.json.encode(ops)) == ops


def test_the_op_decoder_reads_the_protocol_examples() -> None:
    raw = (
        b'[{"kind": "ins", "id": "Ab3xQ9kZ:41", "after": "Zz81mmQa:40", "text": "hello"},'
        b' {"kind": "del", "id": "Ab3xQ9kZ:41", "len": 3}]'
    )
    assert op_decoder.decode(raw) == [
        Insert("Ab3xQ9kZ:41", "Zz81mmQa:40", "hello"),
        Delete("Ab3xQ9kZ:41", 3),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b'[{"kind":"upd","id":"a:1"}]',
        b'[{"kind":"ins","id":"a:1","text":"x"}]',
        b'[{"kind":"del","id":"a:1","length":3}]',
        b'{"kind":"del","id":"a:1","len":3}',
    ],
)
def test_the_op_decoder_refuses_other_shapes(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        op_decoder.decode(raw)


def test_ops_and_changes_are_immutable_values() -> None:
    op = Insert("Ab3xQ9kZ:41", None, "x")
    with pytest.raises(AttributeError):
        op.text = "y"  # type: ignore[misc]
    assert Change(1, 2, "x") == Change(index=1, deleted=2, inserted="x")
    assert hash(Delete("Ab3xQ9kZ:41", 3)) == hash(Delete("Ab3xQ9kZ:41", 3))
