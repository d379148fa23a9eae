"""Resumable jobs: the long operations on a whole document as step functions.

Decoding, encoding, extracting the text of and releasing a document of a million runs each take
from tens of milliseconds to seconds of pure Python. A server must keep answering its other sockets
meanwhile, and a worker thread does not help: pure Python holds the GIL, so the event loop gets it
back only every switch interval and every await of every other client waits.

So these jobs are written once, as *step functions*: generators that ``yield`` (nothing) after a
bounded piece of work -- a few hundred runs, well under a millisecond -- and ``return`` their
result. Whoever drives them decides what happens between two steps: the server runs other sockets'
work (``docstream.collab.slices`` yields to the event loop whenever a slice has run ~2 ms), and
:func:`finish` runs every step at once, which is what the synchronous API (``decode_state``,
``encode_state``, ``dispose``) does at no measurable cost: one generator resume per step.

The CRDT stays pure: no clock, no asyncio, no threads. Between two steps of a job the document it
reads must not change (the server's Room guarantees it: only its worker touches its document, and
the worker awaits the job).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")

#: A job that yields ``None`` between its steps and returns a ``T``.
Steps = Generator[None, None, T]


def finish(steps: Steps[T]) -> T:
    """Run ``steps`` to its end, without pausing; its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
