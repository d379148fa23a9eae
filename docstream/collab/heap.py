"""Large documents and CPython's cyclic garbage collector.

A decoded document of a million runs is about 1.1 million objects that the cyclic collector tracks
(runs, blocks, their lists). Left to it, they cost long pauses, each holding the GIL throughout,
so every socket of the worker waits (measured in a server, ``docs/benchmarks.md``):

* the first young collection after the build walks all of them (270-590 ms), the next one again
  (320-1,130 ms), and from then on every full collection does;
* a closed document is a web of cycles (each run points to its block, each block lists its runs),
  so only a collection frees it -- another such walk.

What this module does about it, for the documents :mod:`~docstream.collab.slices` builds:

1. **No collection during a build** (:meth:`Heap.building`): the collector is paused while a state
   is decoded in slices (pauses of concurrent builds nest). A collection in the middle could free
   nothing of the document and would walk it for nothing.
2. **Freeze a large result** (:meth:`Heap.settle`, :data:`FREEZE_BLOCKS` and more): ``gc.freeze()``
   moves every tracked object to the permanent generation, which no collection walks; it is O(1).
   Frozen objects are still freed by reference counting, which is how a Room frees its document:
   :func:`~docstream.collab.slices.release` breaks the cycles first
   (:meth:`~docstream.crdt.sequence.RunSequence.dispose_steps`), in slices.
3. **Bounded cost.** ``gc.freeze()`` cannot pick objects: whatever else is tracked and not frozen
   yet is frozen with the document. What of it is alive costs nothing (freed by reference counting
   when dropped, like the document); what is, or later becomes, *cyclic garbage* stays in memory
   until a thaw: the cyclic garbage of the rest of the heap at that moment, plus what the other
   sockets left during the build (the collector was paused). A thaw (:meth:`Heap.thaw`:
   ``gc.unfreeze(); gc.collect(); gc.freeze()``, one full collection of the heap, as the server
   does at startup, ``create_app(freeze_heap=True)``) frees it. It runs when the last frozen
   document is released after :data:`THAW_AFTER` or more freezes, so it never walks a large
   document. While large documents stay open, at most :data:`MAX_FREEZES` freezes happen between
   two thaws; beyond that, new large documents are left to the collector (its pauses come back,
   memory stays bounded) until the next thaw.

The collector is process-wide, so is this policy: one :data:`heap` per process.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Iterator

from docstream.crdt import Document

log = logging.getLogger(__name__)

#: Documents of at least this many blocks (32 runs each after a decode: ~33,000 runs, ~35,000
#: tracked objects, a young collection of 5-10 ms) are frozen once built.
FREEZE_BLOCKS = 1024
#: A thaw runs once the last frozen document is released, after at least this many freezes.
THAW_AFTER = 8
#: At most this many freezes between two thaws; later large documents are not frozen.
MAX_FREEZES = 32


class Heap:
    """The collector policy for large documents (see the module docstring)."""

    def __init__(self) -> None:
        self._builds = 0
        self._resume = False
        self._frozen: set[int] = set()  # id() of the frozen documents not released yet
        self._warned = False
        #: Freezes since the last thaw, and thaws so far.
        self.freezes = 0
        self.thaws = 0

    @contextlib.contextmanager
    def building(self) -> Iterator[None]:
        """Pause the cyclic collector while a document is built (nested builds share the pause;
        the collector is resumed as the first one found it)."""
        if not self._builds:
            self._resume = gc.isenabled()
            gc.disable()
        self._builds += 1
        try:
            yield
        finally:
            self._builds -= 1
            if not self._builds and self._resume:
                gc.enable()

    def settle(self, doc: Document) -> None:
        """``doc`` was just built: freeze it if it is large and the budget allows."""
        if doc.block_count < FREEZE_BLOCKS:
            return
        if self.freezes >= MAX_FREEZES:
            if not self._warned:
                self._warned = True
                log.warning(
                    "%d large documents frozen since the last thaw, some still open: the next "
                    "ones are left to the garbage collector until they are all closed",
                    self.freezes,
                )
            return
        gc.freeze()
        self.freezes += 1
        self._frozen.add(id(doc))

    def forget(self, doc: Document) -> None:
        """``doc`` was released (its content freed); thaw if it was the last frozen one and
        enough freezes happened."""
        self._frozen.discard(id(doc))
        if not self._frozen and not self._builds and self.freezes >= THAW_AFTER:
            self.thaw()

    def thaw(self) -> None:
        """Collect what the freezes pinned: one full collection of the whole heap, after which
        the survivors are frozen again."""
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        log.info(
            "garbage collector: thawed after %d freezes of large documents; a full collection "
            "found %d unreachable objects in %.0f ms",
            self.freezes,
            found,
            (time.perf_counter() - started) * 1000,
        )
        self.freezes = 0
        self._warned = False
        self.thaws += 1


#: The process's policy.
heap = Heap()
