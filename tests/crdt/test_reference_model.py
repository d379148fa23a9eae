"""The engine against the naive reference (tests/crdt/reference.py), edit by edit.

Small internal limits (runs, blocks) are patched in for some runs so that splits of runs and blocks,
the block-skipping scan and run chunking all happen in short examples.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docstream.crdt import CharId, Document, Op
from tests.crdt.reference import RefDoc

ALPHABET = st.sampled_from("ab\u00e9\u4e2d\U0001f600")


@pytest.fixture(params=["real", "tiny"])
def limits(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "tiny":
        request.getfixturevalue("tiny_limits")
    yield request.param


edits = st.lists(
    st.tuples(
        st.sampled_from(["ins", "ins", "del", "type", "bksp"]),
        st.floats(0, 1),
        st.text(ALPHABET, min_size=1, max_size=6),
        st.integers(1, 5),
    ),
    max_size=40,
)


def run_edits(doc: Document, ref: RefDoc, script: list[tuple[str, float, str, int]]) -> list[Op]:
    """Make the edits on both; check they agree after each; return the ops, in order."""
    log: list[Op] = []
    pos = 0
    for kind, where, text, n in script:
        size = len(ref.text)
        if kind == "type":
            pos = min(pos, size)
            ops = doc.insert(pos, text)
            assert ops == ref.insert(pos, text)
            pos += len(text)
        elif kind == "bksp":
            pos = min(pos, size)
            k = min(n, pos)
            ops = doc.delete(pos - k, k)
            assert ops == ref.delete(pos - k, k)
            pos -= k
        elif kind == "ins":
            pos = round(where * size)
            ops = doc.insert(pos, text)
            assert ops == ref.insert(pos, text)
            pos += len(text)
        else:
            pos = round(where * size)
            k = min(n, size - pos)
            ops = doc.delete(pos, k)
            assert ops == ref.delete(pos, k)
        log.extend(ops)
        assert doc.text == ref.text
        assert len(doc) == len(ref.text)
        assert doc.max_counter == ref.max_counter
    return log


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=edits)
def test_local_edits_emit_the_reference_ops_and_text(limits: str, script: list) -> None:
    doc, ref = Document("replica-A"), RefDoc("replica-A")
    run_edits(doc, ref, script)
    for i in range(len(doc)):
        cid = doc.id_at(i)
        assert cid == ref.id_at(i)
        assert doc.index_of(cid) == i
    for (c, r), element in ref.elements.items():
        assert doc.has(CharId(c, r))
        assert doc.index_of(CharId(c, r)) == ref.index_of(CharId(c, r))
        del element


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    script_a=edits,
    script_b=edits,
    script_c=edits,
    interleave=st.randoms(use_true_random=False),
)
def test_concurrent_replicas_match_the_tree_order(
    limits: str, script_a: list, script_b: list, script_c: list, interleave
) -> None:
    """Three replicas edit concurrently from a common base; everyone applies everything."""
    base = Document("replica-0")
    base_ops = base.insert(0, "base text")
    docs = {name: Document(name) for name in ("replica-A", "replica-B", "replica-C")}
    refs = {name: RefDoc(name) for name in docs}
    for name in docs:
        docs[name].apply(base_ops)
        refs[name].apply(base_ops)
    logs = {
        name: run_edits(docs[name], refs[name], script)
        for name, script in zip(docs, (script_a, script_b, script_c), strict=True)
    }
    final_ref = RefDoc("replica-R")
    final_ref.apply(base_ops)
    for name in logs:
        final_ref.apply(logs[name])
    expected = final_ref.text
    states = set()
    for name, doc in docs.items():
        others = [n for n in logs if n != name]
        interleave.shuffle(others)
        for other in others:
            doc.apply(logs[other])
        assert doc.text == expected
        states.add(doc.encode_state())
    assert len(states) == 1
