"""Whole-document jobs -- decode, encode, text, release -- on the event loop, in slices.

A server worker is one event loop serving every socket of the process. Decoding the state of a
1,000,000-run document takes about a second of pure Python, encoding it half a second. Run at once,
they stall every other client that long. Run in a worker thread, they stall them almost as much:
pure Python holds the GIL, so the loop thread gets it back only at the interpreter's switch interval
(5 ms), and every await of every other client waits for it (measured: p99 +2.7 s for 20 typists
while such a document opened; ``docs/benchmarks.md``).

So the CRDT writes these jobs as step functions (:mod:`docstream.crdt.steps`), and this module runs
them on the event loop itself, in turns (:func:`run_sliced`):

* a job takes steps for :data:`SLICE` (2 ms), then sleeps :data:`PAUSE` (1 ms): the loop first runs
  everything that is ready, then, with nothing left, waits for I/O with the GIL released, so the
  other threads (the SQLite writer, the HTTP server's I/O threads) run at once. Yielding without
  sleeping (``sleep(0)``) was not enough: an edit of another document takes several hops between
  the loop and those threads, and each waited for the next slice;
* while any job runs, the switch interval is :data:`SWITCH_INTERVAL` (0.1 ms instead of 5 ms), so a
  thread that wants the GIL in the middle of a slice waits that long at most: a commit takes the
  GIL several times, and at 5 ms each the commits of the other documents queued up behind a job.

A job so takes about 1.5 times as long; the others wait for it a few milliseconds at most
(measured: ``docs/benchmarks.md``, "large_document").

The document a job reads must not change until the job returns: a Room only runs these from its
worker, which awaits them, and nothing else mutates its document (``room/core.py``, invariant 1).

Small documents take the synchronous path (about a millisecond or less: turns would only add
latency). Large decoded documents are kept out of the garbage collector's way
(:mod:`docstream.collab.heap`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TypeVar

from docstream.collab.heap import heap
from docstream.crdt import Document
from docstream.crdt.steps import Steps

T = TypeVar("T")

#: Longest stretch (s) a job runs before it lets the event loop serve others ...
SLICE = 0.002
#: ... and how long it then sleeps (s), so the loop and the other threads catch up.
PAUSE = 0.001
#: The interpreter's switch interval (s) while a job runs (see :func:`_threads_served`).
SWITCH_INTERVAL = 0.0001
#: States up to this size (bytes) are decoded at once (about 1 ms).
SLICED_STATE_BYTES = 2048
#: Documents of up to this many blocks (``BLOCK_MAX`` = 64 runs each; 32 after a decode) are
#: encoded, read and released at once.
SLICED_BLOCKS = 16


async def run_sliced(steps: Steps[T]) -> T:
    """Run ``steps`` to its end on the event loop: :data:`SLICE` of steps, then :data:`PAUSE` of
    sleep, and again (see the module docstring).

    Cancelling the caller closes the job (its ``finally`` blocks run) and propagates.
    """
    clock = time.perf_counter
    with _threads_served():
        try:
            deadline = clock() + SLICE
            while True:
                try:
                    next(steps)
                except StopIteration as done:
                    result: T = done.value
                    return result
                if clock() >= deadline:
                    await asyncio.sleep(PAUSE)
                    deadline = clock() + SLICE
        finally:
            steps.close()


_running = 0
_interval = 0.0


@contextlib.contextmanager
def _threads_served() -> Iterator[None]:
    """While any job runs, other threads wait at most :data:`SWITCH_INTERVAL` for the GIL.

    The event loop's thread keeps the GIL while it runs a slice: a thread that wants it (the SQLite
    writer between two statements, the HTTP server's I/O threads handing over a frame) gets it only
    when the interpreter forces a switch, every ``sys.getswitchinterval()`` (5 ms by default). A
    commit takes the GIL several times, so during a long job each commit of every other document
    took milliseconds more and edits queued up behind one another. A shorter interval costs a few
    more switches, only while a job runs; the interval is restored when the last job ends.
    """
    global _running, _interval
    if not _running:
        _interval = sys.getswitchinterval()
        sys.setswitchinterval(min(_interval, SWITCH_INTERVAL))
    _running += 1
    try:
        yield
    finally:
        _running -= 1
        if not _running:
            sys.setswitchinterval(_interval)


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
