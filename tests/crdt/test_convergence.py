"""Property: any delivery order, duplicates and state round-trips converge (2-5 replicas)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docstream.crdt import Document, Op
from docstream.errors import UnknownIdError
from tests.crdt.reference import RefDoc

NAMES = ["replica-A", "replica-B", "replica-C", "replica-D", "replica-E"]
TEXT = st.text(st.sampled_from("xyz\u00e9\u6587\U0001f389 "), min_size=1, max_size=5)

step = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 4), st.floats(0, 1), TEXT, st.integers(0, 3)),
    st.tuples(st.just("deliver"), st.integers(0, 4), st.integers(0, 10**6)),
    st.tuples(st.just("roundtrip"), st.integers(0, 4)),
)


def deliver(doc: Document, ops: list[Op]) -> bool:
    """Apply one message; False if it must wait for ops it names (it may be partly applied)."""
    try:
        doc.apply(ops)
    except UnknownIdError:
        return False
    return True


def flush(docs: list[Document], messages: list[tuple[int, list[Op]]], rnd: random.Random) -> None:
    """Deliver every message to every replica, in a random order, retrying until all are in."""
    for i, doc in enumerate(docs):
        pending = [ops for sender, ops in messages if sender != i]
        rnd.shuffle(pending)
        while pending:
            waiting = [ops for ops in pending if not deliver(doc, ops)]
            assert len(waiting) < len(pending), "no progress: a message names unknown ids"
            pending = waiting


@pytest.fixture(params=["real", "tiny"])
def limits(request: pytest.FixtureRequest) -> str:
    if request.param == "tiny":
        request.getfixturevalue("tiny_limits")
    return str(request.param)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(2, 5),
    steps=st.lists(step, max_size=60),
    rnd=st.randoms(use_true_random=False),
)
def test_replicas_converge_whatever_the_delivery(
    limits: str, n: int, steps: list, rnd: random.Random
) -> None:
    docs = [Document(NAMES[i]) for i in range(n)]
    messages: list[tuple[int, list[Op]]] = []
    for s in steps:
        who = s[1] % n
        doc = docs[who]
        if s[0] == "edit":
            _, _, where, text, dels = s
            index = round(where * len(doc))
            ops = doc.delete(index, min(dels, len(doc) - index)) if dels else []
            ops += doc.insert(index, text) if dels != 3 else []
            if ops:
                messages.append((who, ops))
        elif s[0] == "deliver" and messages:
            sender, ops = messages[s[2] % len(messages)]
            if sender != who:
                deliver(doc, ops)  # may be early (retried by the flush) or a duplicate
        elif s[0] == "roundtrip":
            docs[who] = Document.decode_state(doc.encode_state(), replica=NAMES[who])
            assert docs[who].text == doc.text
            assert docs[who].max_counter == doc.max_counter
    flush(docs, messages, rnd)
    ref = RefDoc("replica-R")
    for _, ops in messages:  # creation order is a causal order
        ref.apply(ops)
    states = {d.encode_state() for d in docs}
    assert {d.text for d in docs} == {ref.text}
    assert len(states) == 1
    again = Document.decode_state(states.pop(), replica="replica-Z")
    assert again.text == ref.text
    # Everything delivered twice more changes nothing.
    for doc in docs:
        for _, ops in messages:
            doc.apply(ops)
        assert doc.text == ref.text
