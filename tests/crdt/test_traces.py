"""Replay every sequential editing trace of shared/traces (see its README) through the engine."""

from __future__ import annotations

import gzip
import json

import pytest

from docstream.crdt import Document, Op
from testkit.traces import TRACES_DIR, names

TRACES = TRACES_DIR
NAMES = names()


def test_all_eight_sequential_traces_are_present() -> None:
    assert len(NAMES) == 8, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_a_trace_replays_locally_and_remotely_to_its_end_content(name: str) -> None:
    with gzip.open(TRACES / f"{name}.json.gz") as f:
        trace = json.load(f)
    # Keep only flat tuples: a million live JSON containers would make every GC pass crawl.
    patches = [tuple(p) for txn in trace["txns"] for p in txn["patches"]]
    end_content = trace["endContent"]
    del trace
    local = Document("trace-author")
    messages: list[list[Op]] = []
    for pos, deleted, inserted in patches:
        if deleted:
            messages.append(local.delete(pos, deleted))
        if inserted:
            messages.append(local.insert(pos, inserted))
    assert local.text == end_content
    remote = Document("trace-reader")
    for ops in messages:
        remote.apply(ops)
    assert remote.text == end_content
    blob = local.encode_state()
    assert remote.encode_state() == blob
    again = Document.decode_state(blob, replica="trace-reader")
    assert again.text == end_content
    # The decoded document keeps integrating: re-sending everything is a no-op.
    for ops in messages[-200:]:
        again.apply(ops)
    assert again.encode_state() == blob
