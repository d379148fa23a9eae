"""Run the language-neutral vectors of tests/vectors against the Python engine."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from docstream.crdt import Change, Document, Op, op_decoder
from docstream.errors import DocStreamError, StateFormatError

VECTORS = Path(__file__).parent.parent / "vectors"


def load(name: str) -> Any:
    body = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert body["format"] == "docstream-crdt-vectors" and body["version"] == 1
    return body["cases"]


def ops_of(raw: list[dict[str, Any]]) -> list[Op]:
    ops = op_decoder.decode(json.dumps(raw).encode())
    assert msgspec.to_builtins(ops) == raw  # the vectors hold exactly the wire form
    return ops


def named(cases: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c["name"] for c in cases])


@named(load("integration.json"))
def test_integration_vector(case: dict[str, Any]) -> None:
    docs = {r: Document(r) for r in case["replicas"]}
    for step in case["schedule"]:
        doc = docs[step["replica"]]
        message = case["messages"][step["message"]]
        ops = ops_of(message["ops"])
        if step.get("local"):
            assert message["from"] == step["replica"]
            doc.apply(ops)
        else:
            changes = doc.apply_and_diff(ops)
            assert [[c.index, c.deleted, c.inserted] for c in changes] == step["changes"]
        assert doc.text == step["text"]
    for doc in docs.values():
        assert doc.text == case["expected"]["text"]
        assert base64.b64encode(doc.encode_state()).decode() == case["expected"]["state"]


@named(load("local_edits.json"))
def test_local_edit_vector(case: dict[str, Any]) -> None:
    doc = Document(case["replica"])
    doc.apply(ops_of(case["start"]))
    for step in case["edits"]:
        ops = doc.insert(*step["insert"]) if "insert" in step else doc.delete(*step["delete"])
        assert msgspec.to_builtins(ops) == step["ops"]
        assert doc.max_counter == step["max_counter"]
        if "text" in step:
            assert doc.text == step["text"]


@named(load("state.json")["encode"])
def test_state_vector(case: dict[str, Any]) -> None:
    doc = Document("vector-replica")
    doc.apply(ops_of(case["ops"]))
    blob = doc.encode_state()
    assert base64.b64encode(blob).decode() == case["state"]
    assert blob.hex(" ") == case["state_hex"]
    again = Document.decode_state(base64.b64decode(case["state"]), replica="vector-other")
    assert again.text == case["text"] == doc.text
    assert again.max_counter == case["max_counter"]
    assert again.encode_state() == blob


@named(load("state.json")["refuse"])
def test_refused_state_vector(case: dict[str, Any]) -> None:
    with pytest.raises(StateFormatError):
        Document.decode_state(base64.b64decode(case["state"]), replica="vector-other")


@named(load("errors.json"))
def test_error_vector(case: dict[str, Any]) -> None:
    doc = Document("vector-replica")
    doc.apply(ops_of(case["start"]))
    ops = ops_of(case["apply"])
    if case["error"] is None:
        doc.apply(ops)
    else:
        with pytest.raises(DocStreamError) as info:
            doc.apply(ops)
        assert info.value.code == case["error"]
        assert info.value.detail.startswith(f"op {case['op_index']}: ")
    assert doc.text == case["text"]


def test_vectors_cover_what_the_brief_asks_for() -> None:
    names = " ".join(c["name"] for c in load("integration.json"))
    for topic in ("seed", "siblings", "tombstones", "unicode", "emoji", "lamport", "duplicate"):
        assert topic in names
    assert len(load("local_edits.json")) >= 8
    assert Change(0, 0, "") == Change(0, 0, "")
