"""The RGA sequence CRDT over Unicode code points (docs/protocol.md §6).

Longer than the house's ~400 lines on purpose: every local and remote edit runs through this
module, and keeping the integration, the op builders and their checks together lets them share
locals and inline steps instead of calling across modules on the per-op path.

Model
=====
Every element (one code point) has a unique id ``(counter, replica)`` and a parent: the element it
was inserted after, or the virtual root (document start). The document is the pre-order walk of
that tree with the children of a node ordered by id *descending*; deleted elements stay in the tree
as tombstones (their text is dropped) and still take part in ordering.

Invariants
----------
I1. Ids are unique; an element of an ``ins`` op with first id ``(c, r)`` and *k* > 0 has id
    ``(c + k, r)`` and parent ``(c + k - 1, r)``.
I2. Lamport: an element's counter is larger than its parent's (:meth:`Document.apply` refuses an
    ``ins`` whose first counter is not larger than its parent's; I1 gives the rest). By induction
    every descendant of ``X`` has a larger counter than ``X``.
I3. The stored sequence is exactly the tree's pre-order walk (children by id descending).

Why the linear skip rule is the tree order
------------------------------------------
To integrate ``X`` (id ``x``) under parent ``P`` we start right after ``P`` in the sequence and skip
every element whose id is greater than ``x``, then insert before the first smaller one (or at the
end). After ``P`` the sequence holds ``P``'s subtree -- its children in descending order, each
followed by its own subtree -- and then whatever follows that subtree.

* A child ``C > x`` of ``P`` is skipped, and so is all of its subtree: a descendant ``D`` of ``C``
  has ``D.counter > C.counter >= x.counter`` (I2), hence ``D > x``.
* The first child ``C < x`` stops the scan: ``X`` lands just before it, which is its place among
  ``P``'s children.
* If every child of ``P`` is greater, the scan reaches the first element ``Y`` after ``P``'s
  subtree. ``Y`` is the next sibling of ``P`` or of an ancestor ``A`` of ``P`` (children are in
  descending order, so ``Y < A``, hence ``Y.counter <= A.counter``). By I2
  ``x.counter > P.counter >= A.counter >= Y.counter``, so ``Y < x`` and the scan stops there: ``X``
  becomes the last child of ``P``. With the root as parent the scan simply runs from the start.

No id can equal ``x`` (duplicates are refused first), so "greater" and "smaller" cover every case.
The skip loop compares against tombstones too: they are ordinary tree nodes.

Runs
----
The sequence is stored as *runs*: maximal-ish stretches of adjacent elements with consecutive
counters of one replica and the same deleted state (I4: within a run the ids increase by one from
left to right). Runs carry no parent: integration needs only the sequence and the ids. Comparing a
run against ``x`` by its *first* id is correct when the scan arrives at the run's start: by I4 all
later elements of the run are larger, so if the first is greater the whole run is skipped, and if
it is smaller the scan stops before the run. When the parent is *inside* a run, the scan starts
at the element after it, inside the same run (an element in the middle of a typed run is a child
of the previous element): if that element is smaller than ``x`` the run is split and ``X`` goes
between, otherwise the rest of the run is skipped. Runs are split freely (partial deletes, inserts
into the middle) and extended in place when a replica keeps typing (the new element's id is the
run's next id and it lands right after the run). How runs are cut is invisible: the state
encoder writes maximal runs, so equal documents encode to equal bytes.

Modules
-------
:mod:`~docstream.crdt.sequence` stores the runs (blocks with visible counts for index <-> position,
per-block smallest ids so the skip loop jumps over whole blocks of larger ids at C speed, a cursor,
per-replica id indexes); :mod:`~docstream.crdt.local` turns index-based edits into ops; this module
validates and integrates ops by id.

Errors
------
:meth:`Document.apply` is atomic per op: each op is validated completely before it changes
anything. For a list whose op *i* is refused, ops ``0 .. i-1`` stay applied, op *i* and later ones
are not applied, and the raised :class:`~docstream.errors.CrdtError` (or subclass) names op *i*
(``detail`` starts with ``"op i: "``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from itertools import islice

from docstream.crdt.encoding import decode_runs_steps, encode_runs, encode_runs_steps
from docstream.crdt.ids import MAX_COUNTER, CharId, check_replica, parse_counter
from docstream.crdt.local import LocalEditing
from docstream.crdt.ops import Change, Delete, Insert, Op, check_text
from docstream.crdt.runindex import RunIndex
from docstream.crdt.sequence import BLOCK_MAX, RUN_MAX, Block, Run
from docstream.crdt.steps import Steps, finish
from docstream.errors import (
    CrdtError,
    DocStreamError,
    DuplicateIdError,
    InvalidInputError,
    UnknownIdError,
)


class Document(LocalEditing):
    """One replica of a collaborative text.

    Args:
        replica: this replica's id (``[A-Za-z0-9_-]{8,64}``); local edits get ids of this replica.

    Raises:
        InvalidInputError: if ``replica`` is not a valid replica id.
    """

    __slots__ = ("_next_wire", "_tail_c", "_tail_r", "_tail_wire")

    def __init__(self, replica: str) -> None:
        super().__init__(check_replica(replica))
        # The id of the last one-char insert applied (remote typing names it as the next parent).
        self._tail_wire = ""
        self._tail_r = ""
        self._tail_c = 0
        self._next_wire = ""  # f"{_tail_r}:{_tail_c + 1}", the id remote typing sends next

    # ------------------------------------------------------------------ read API

    @property
    def replica(self) -> str:
        """This replica's id."""
        return self._replica

    @property
    def max_counter(self) -> int:
        """The Lamport clock: the largest counter seen (0 for a new document)."""
        return self._max

    def has(self, char_id: CharId) -> bool:
        """Whether ``char_id`` (visible or deleted) is known."""
        rep = self._reps.get(char_id.replica)
        return rep is not None and rep.find(char_id.counter) is not None

    def id_at(self, index: int) -> CharId:
        """The id of the visible character at ``index``.

        Raises:
            IndexError: if ``index`` is not in ``0 .. len(self) - 1``.
        """
        if not 0 <= index < self._len:
            raise IndexError(f"index {index} out of range for length {self._len}")
        b, p, k = self._locate(index)
        run = self._blocks[b].runs[p]
        return CharId(run.counter + k, run.replica)

    def index_of(self, char_id: CharId) -> int:
        """The index of ``char_id``; for a tombstone, the number of visible chars before it.

        Raises:
            UnknownIdError: if ``char_id`` is not known.
        """
        run = self._find(char_id.replica, char_id.counter)
        if run is None:
            raise UnknownIdError(f"unknown char id {str(char_id)!r}")
        index = self._visible_before(run.block, self._pos(run))
        if run.text is not None:
            index += char_id.counter - run.counter
        return index

    def __repr__(self) -> str:
        return f"Document(replica={self._replica!r}, len={self._len}, max_counter={self._max})"

    # ------------------------------------------------------------------ ops

    def apply(self, ops: Iterable[Op]) -> None:
        """Integrate ops (local or remote) by id. Idempotent: re-applying an op changes nothing.

        An ``ins`` whose ids are all known with the same visible text is a no-op (a re-send);
        tombstoned chars match any text, as their content is gone. Parents are not stored, so a
        re-send is not checked for naming the same parent. Deleting tombstones again is a no-op.

        Atomic per op: for ops ``[o0, o1, o2, ...]`` where ``o2`` is refused, ``o0`` and ``o1``
        stay applied, ``o2`` and everything after it are not, and the error's ``detail`` starts
        with ``"op 2: "``.

        Raises:
            UnknownIdError: a parent or deleted id is unknown, or a ``del`` has ``len < 1``.
            DuplicateIdError: an ``ins`` re-uses known ids with different content, or overlaps
                known ids only partly.
            CrdtError: any other invalid op (empty text, Lamport violation, malformed id, ...).
        """
        i = 0
        try:
            for op in ops:
                if type(op) is Insert:
                    self._apply_insert(op, None)
                elif type(op) is Delete:
                    self._apply_delete(op, None)
                else:
                    raise CrdtError(f"not an op: {type(op).__name__}")
                i += 1
        except DocStreamError as exc:
            raise _at_op(exc, i) from None

    def apply_and_diff(self, ops: Iterable[Op]) -> list[Change]:
        """Like :meth:`apply`, and return the visible changes in order (see ``Change``).

        On an error the ops before the refused one stay applied (as with :meth:`apply`) but their
        changes are not returned: a UI should then rebuild its text from :attr:`text`.
        """
        changes: list[Change] = []
        i = 0
        try:
            for op in ops:
                if type(op) is Insert:
                    self._apply_insert(op, changes)
                elif type(op) is Delete:
                    self._apply_delete(op, changes)
                else:
                    raise CrdtError(f"not an op: {type(op).__name__}")
                i += 1
        except DocStreamError as exc:
            raise _at_op(exc, i) from None
        return changes

    def _parse(self, wire: object) -> tuple[str, int]:
        if type(wire) is not str:
            raise InvalidInputError(f"invalid char id {wire!r}: expected a string")
        replica, _, counter = wire.rpartition(":")
        if replica not in self._reps:
            CharId.parse(wire)  # raises with the precise reason
        if (
            counter.isdigit()
            and counter.isascii()
            and len(counter) < 16
            and (counter[0] != "0" or len(counter) == 1)
        ):
            return replica, int(counter)
        return replica, parse_counter(counter, wire)

    def _apply_insert(self, op: Insert, changes: list[Change] | None) -> None:
        text = op.text
        wire = op.id
        after = op.after
        reps = self._reps
        if wire == self._next_wire:
            # Remote typing: this is the id right after the last one-char insert.
            r = self._tail_r
            c = self._tail_c + 1
            rep: RunIndex[Run] | None = reps[r]
        else:
            # Parse the id inline for a known replica; anything unusual takes the careful parser.
            if type(wire) is str:
                r, _, cs = wire.rpartition(":")
                rep = reps.get(r)
            else:
                rep = None
            if (
                rep is not None
                and cs.isdigit()
                and cs.isascii()
                and len(cs) < 16
                and (cs[0] != "0" or len(cs) == 1)
            ):
                c = int(cs)
            else:
                r, c = self._parse(wire)
                rep = reps.get(r)
        if type(text) is not str:
            raise CrdtError(f"ins {wire!r}: text must be a string")
        n = len(text)
        if not n:
            raise CrdtError(f"ins {wire!r}: empty text")
        if c + n - 1 > MAX_COUNTER:
            raise CrdtError(f"ins {wire!r}: counters would pass {MAX_COUNTER}")
        parent: Run | None = None
        pc = -1
        if after is not None:
            if after == self._tail_wire:
                pr = self._tail_r
                pc = self._tail_c
            else:
                pr, pc = self._parse(after)
            parent = self._hit
            if not (0 <= pc - parent.counter < parent.length and parent.replica == pr):
                parent = self._find(pr, pc)
                if parent is None:
                    raise UnknownIdError(f"ins {wire!r}: unknown parent {after!r}")
            if c <= pc:
                raise CrdtError(
                    f"ins {wire!r}: counter {c} is not larger than its parent's ({after!r}); "
                    "Lamport clocks must increase"
                )
        if not text.isascii():
            check_text(text)
        if rep is not None and c < rep.end and self._known_insert(rep, c, text, wire):
            return
        if n == 1:
            self._tail_wire = wire
            self._tail_r = r
            self._tail_c = c
            self._next_wire = f"{r}:{c + 1}"
        blocks = self._blocks
        if parent is None:
            blk = blocks[0]
            q = 0
        else:
            blk = parent.block
            runs = blk.runs
            q = self._hitpos
            if q >= len(runs) or runs[q] is not parent:
                q = runs.index(parent)
            nc = pc + 1
            if nc - parent.counter < parent.length:
                if nc < c or (nc == c and parent.replica < r):
                    # The element after the parent, inside its run, is smaller: split, go between.
                    self._split(blk, q, nc - parent.counter)
                    self._insert_at(blk, q + 1, r, c, text, changes)
                    return
            elif (
                nc == c
                and parent.text is not None
                and parent.replica == r
                and parent.length + n <= RUN_MAX
            ):
                # The replica keeps typing after its own run; extend the run in place if the
                # next element is smaller than the new id (else the skip loop decides). This is
                # the only way a new element can continue a run: after skipping any element, the
                # run before the landing place ends with an element greater than the new one.
                q += 1
                if q < len(runs):
                    nxt = runs[q]
                    ok = nxt.counter < c or (nxt.counter == c and nxt.replica < r)
                else:
                    ok = blk.idx + 1 == len(blocks) or self._bmin[blk.idx + 1] < (c, r)
                    if ok and blk.idx + 1 < len(blocks):
                        nxt = blocks[blk.idx + 1].runs[0]
                        ok = nxt.counter < c or (nxt.counter == c and nxt.replica < r)
                if ok:
                    if changes is not None:
                        at = self._visible_before(blk, q - 1) + parent.length
                        _add_change(changes, at, 0, text)
                    parent.text += text
                    parent.length += n
                    if rep.end == c:  # type: ignore[union-attr]
                        rep.known[-1] = rep.end = c + n  # type: ignore[union-attr]
                    else:  # typing into a gap of the replica's ids (ops arrived out of order)
                        rep.learn(c, c + n)  # type: ignore[union-attr]
                    b = blk.idx
                    self._bvis[b] += n
                    self._len += n
                    if c + n - 1 > self._max:
                        self._max = c + n - 1
                    if b < self._cb:
                        self._cvb += n
                    elif b == self._cb and self._cp >= q:
                        self._cp = -1
                    self._hitpos = q - 1
                    return
                q -= 1
            q += 1
        # The skip loop: pass every run whose first id is greater than (c, r).
        runs = blk.runs
        while True:
            m = len(runs)
            while q < m:
                run = runs[q]
                rc = run.counter
                if rc < c or (rc == c and run.replica < r):
                    break
                q += 1
            if q < m:
                break
            nb = blk.idx + 1
            if nb == len(blocks):
                break
            bmin = self._bmin
            key = (c, r)
            if not bmin[nb] < key:
                # Jump, at C speed, over blocks whose smallest run start is still greater.
                found = next(filter(key.__gt__, islice(bmin, nb + 1, None)), None)
                if found is None:
                    blk = blocks[-1]
                    runs = blk.runs
                    q = len(runs)
                    break
                nb = bmin.index(found, nb + 1)
            blk = blocks[nb]
            runs = blk.runs
            q = 0
        if not q and blk.idx:
            blk = blocks[blk.idx - 1]
            runs = blk.runs
            q = len(runs)
        self._insert_at(blk, q, r, c, text, changes)

    def _insert_at(
        self, blk: Block, q: int, r: str, c: int, text: str, changes: list[Change] | None
    ) -> None:
        if changes is not None:
            _add_change(changes, self._visible_before(blk, q), 0, text)
        rep = self._reps.get(r)
        if rep is None:
            rep = self._reps[r] = RunIndex(r)
        self._put(blk, q, rep, c, text)

    def _known_insert(self, rep: RunIndex[Run], c: int, text: str, wire: str) -> bool:
        """True if ``[c, c+len(text))`` is known with the same content; raise on a conflict.

        Costs O(log n) plus the visible runs in the range (tombstones match any text).
        """
        end = c + len(text)
        if not rep.touches(c, end):
            return False
        if not rep.covers(c, end):
            raise DuplicateIdError(f"ins {wire!r}: overlaps known ids only partly")
        for run in rep.visible_in(c, end):
            lo = max(c, run.counter)
            hi = min(end, run.counter + run.length)
            if run.text[lo - run.counter : hi - run.counter] != text[lo - c : hi - c]:  # type: ignore[index]
                raise DuplicateIdError(f"ins {wire!r}: ids already used for other text")
        return True

    def _apply_delete(self, op: Delete, changes: list[Change] | None) -> None:
        n = op.length
        wire = op.id
        if wire == self._tail_wire:
            # Deleting the char just typed (a backspace after remote typing).
            r = self._tail_r
            c = self._tail_c
            rep: RunIndex[Run] | None = self._reps[r]
        else:
            if type(wire) is str:
                r, _, cs = wire.rpartition(":")
                rep = self._reps.get(r)
            else:
                rep = None
            if (
                rep is not None
                and cs.isdigit()
                and cs.isascii()
                and len(cs) < 16
                and (cs[0] != "0" or len(cs) == 1)
            ):
                c = int(cs)
            else:
                r, c = self._parse(wire)
                rep = self._reps.get(r)
        if type(n) is not int:
            raise CrdtError(f"del {wire!r}: len must be an integer")
        if n < 1:
            raise UnknownIdError(f"del {wire!r}: len must be at least 1, got {n}")
        end = c + n
        run = self._hit
        if not (0 <= c - run.counter < run.length and run.replica == r):
            found = None if rep is None else rep.find(c)
            if found is None:
                raise UnknownIdError(f"del {wire!r} len {n}: names ids this replica does not know")
            run = self._hit = found
        if end <= run.counter + run.length:
            # The common case: one stored run holds the whole range.
            if run.text is None:
                return
            blk = run.block
            runs = blk.runs
            p = self._hitpos
            if p >= len(runs) or runs[p] is not run:
                p = self._hitpos = runs.index(run)
            lo = c - run.counter
            if changes is not None:
                _add_change(changes, self._visible_before(blk, p) + lo, n, "")
            self._tombstone(blk, p, lo, lo + n)
            if len(runs) > BLOCK_MAX:
                self._split_block(blk)
            return
        if not rep.covers(c, end):  # type: ignore[union-attr]
            raise UnknownIdError(f"del {wire!r} len {n}: names ids this replica does not know")
        # Only the visible runs in the range need work: O(log n + chunks + visible runs).
        for run in rep.visible_in(c, end):  # type: ignore[union-attr]
            # Earlier runs of the loop only merge tombstones: this run is still visible.
            lo = c - run.counter
            if lo < 0:
                lo = 0
            hi = end - run.counter
            if hi > run.length:
                hi = run.length
            blk = run.block
            p = self._pos(run)
            if changes is not None:
                _add_change(changes, self._visible_before(blk, p) + lo, hi - lo, "")
            self._tombstone(blk, p, lo, hi)
            if len(blk.runs) > BLOCK_MAX:
                self._split_block(blk)

    # ------------------------------------------------------------------ state

    def encode_state(self) -> bytes:
        """The whole document (tombstones included, their text dropped) as bytes.

        The format is versioned and documented in ``docs/state-format.md``; equal documents
        give equal bytes.
        """
        return encode_runs(self.runs())

    def encode_state_steps(self) -> Steps[bytes]:
        """:meth:`encode_state` as a step function (:mod:`~docstream.crdt.steps`); the document
        must not change until it has returned."""
        return (yield from encode_runs_steps(self.runs()))

    @classmethod
    def decode_state(cls, blob: bytes, replica: str) -> Document:
        """A new document from :meth:`encode_state` bytes, editing as ``replica``.

        Raises:
            StateFormatError: the blob is truncated, malformed or of an unknown version.
            InvalidInputError: ``replica`` is not a valid replica id.
        """
        # Everything built here stays reachable, so a collection in the middle can free nothing
        # of it -- yet the ~50k new objects of a 100k-char document trip a full collection of the
        # whole heap (measured: 34-55 ms inside a server worker, more than the decode itself).
        # Pausing moves that work to the next ordinary collection, after the objects settled.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return finish(cls(replica)._fill(blob, sliced=False))
        finally:
            if was_enabled:
                gc.enable()

    @classmethod
    def decode_state_steps(cls, blob: bytes, replica: str) -> Steps[Document]:
        """:meth:`decode_state` as a step function (:mod:`~docstream.crdt.steps`): every step,
        sorting included, is bounded. It raises what :meth:`decode_state` raises (an invalid
        ``replica`` at once), but leaves the garbage collector alone: the driver decides (a
        collection in the middle of the build walks its objects for nothing)."""
        return cls(replica)._fill(blob, sliced=True)

    def _fill(self, blob: bytes, *, sliced: bool) -> Steps[Document]:
        """Fill this new document from a state (see :meth:`decode_state_steps`)."""
        runs = yield from decode_runs_steps(blob, RUN_MAX)
        yield from self._load_steps(runs, sliced=sliced)
        return self

    def dispose_steps(self) -> Steps[None]:
        """Empty this document (as new) and free what it held, in bounded steps: see
        :meth:`RunSequence.dispose_steps <docstream.crdt.sequence.RunSequence.dispose_steps>`."""
        self._tail_wire = self._tail_r = self._next_wire = self._own_wire = ""
        self._tail_c = 0
        self._own_c = -1
        yield from super().dispose_steps()


def _add_change(changes: list[Change], index: int, deleted: int, inserted: str) -> None:
    if changes:
        last = changes[-1]
        if not inserted and not last.inserted and last.index == index:
            changes[-1] = Change(index, last.deleted + deleted, "")
            return
    changes.append(Change(index, deleted, inserted))


def _at_op(exc: DocStreamError, i: int) -> DocStreamError:
    """The same error, re-raised as a :class:`CrdtError` subclass naming op ``i``."""
    detail = f"op {i}: {exc.detail}"
    if isinstance(exc, CrdtError):
        return type(exc)(detail, code=exc.code)
    return CrdtError(detail, code=exc.code)
