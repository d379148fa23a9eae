"""Whole-document jobs -- decode, encode, text, release -- on the event loop, in slices.

A server worker is one event loop serving every socket of the process. Decoding the state of a
1,000,000-run document takes about 3 s of pure Python, encoding it 1.3 s, freeing it 0.1 s. Run
at once, they stall every other client that long. Run in a worker thread, they stall them almost as
much: pure Python holds the GIL, so the loop thread gets it back only at the interpreter's switch
interval (5 ms), and every await of every other client waits for it (measured: p99 +2.7 s for 20
typists while such a document opened; ``docs/benchmarks.md``).

So the CRDT writes these jobs as step functions (:mod:`docstream.crdt.steps`), and this module runs
them on the event loop itself: it takes steps until a slice of :data:`SLICE` seconds has run, then
yields to the loop (``await asyncio.sleep(0)``) so every ready socket is served, and goes on. The
job takes a little longer; everybody else waits at most about a slice per job in progress.

The document a job reads must not change until the job returns: a Room only runs these from its
worker, which awaits them, and nothing else mutates its document (``room.py``, invariant 1).

Small documents take the synchronous path (under about a millisecond: a slice would only add a
pass through the loop). Large decoded documents are kept out of the garbage collector's way
(:mod:`docstream.collab.heap`).
"""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

from docstream.collab.heap import heap
from docstream.crdt import Document
from docstream.crdt.steps import Steps

T = TypeVar("T")

#: Longest stretch (s) a job runs before it lets the event loop serve others.
SLICE = 0.002
#: States up to this size (bytes) are decoded at once (about 1 ms).
SLICED_STATE_BYTES = 2048
#: Documents of up to this many blocks (``BLOCK_MAX`` = 64 runs each; 32 after a decode) are
#: encoded, read and released at once.
SLICED_BLOCKS = 16


async def run_sliced(steps: Steps[T]) -> T:
    """Run ``steps`` to its end on the event loop, yielding to it after every :data:`SLICE`.

    Cancelling the caller closes the job (its ``finally`` blocks run) and propagates.
    """
    clock = time.perf_counter
    try:
        deadline = clock() + SLICE
        while True:
            try:
                next(steps)
            except StopIteration as done:
                result: T = done.value
                return result
            if clock() >= deadline:
                await asyncio.sleep(0)
                deadline = clock() + SLICE
    finally:
        steps.close()


async def decode(state: bytes, replica: str) -> Document:
    """:meth:`Document.decode_state`, in slices for a state above :data:`SLICED_STATE_BYTES`,
    with the collector paused while it builds; a large result is frozen (:mod:`heap
    <docstream.collab.heap>`): release it with :func:`release`.

    Raises:
        StateFormatError: as :meth:`Document.decode_state`.
    """
    if len(state) <= SLICED_STATE_BYTES:
        return Document.decode_state(state, replica)
    with heap.building():
        doc = await run_sliced(Document.decode_state_steps(state, replica))
        heap.settle(doc)
    return doc


async def encode(doc: Document) -> bytes:
    """:meth:`Document.encode_state`, in slices for a large document."""
    if doc.block_count <= SLICED_BLOCKS:
        return doc.encode_state()
    return await run_sliced(doc.encode_state_steps())


async def text(doc: Document) -> str:
    """:attr:`Document.text`, in slices for a large document."""
    if doc.block_count <= SLICED_BLOCKS:
        return doc.text
    return await run_sliced(doc.text_steps())


async def release(doc: Document) -> None:
    """Empty ``doc`` and free its memory by reference counting (no collection needed), in slices
    for a large document; the document must not be used afterwards."""
    if doc.block_count <= SLICED_BLOCKS:
        release_now(doc)
        return
    try:
        await run_sliced(doc.dispose_steps())
    finally:
        heap.forget(doc)


def release_now(doc: Document) -> None:
    """:func:`release` at once, whatever the size (for failure paths)."""
    try:
        doc.dispose()
    finally:
        heap.forget(doc)
