"""The RGA sequence CRDT over Unicode code points (PROTOCOL.md §1).

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

Data structures
---------------
* Runs live in blocks of at most ``_BLOCK_MAX`` runs; ``_bvis`` holds each block's visible length
  (order statistics: index <-> position in O(#blocks) integer steps, usually O(1) from the cursor)
  and ``_bmin`` each block's smallest run start, so the skip loop jumps over whole blocks of larger
  ids at C speed and never walks more than one block of runs in Python.
* A cursor caches the last located position (block, visible chars before it, run in block).
* Per replica, a :class:`~docstream.crdt.runindex.RunIndex` maps counters to runs; a last-hit
  cache serves runs of typing.
* A run holds at most ``_RUN_MAX`` code points, so string copies on extension and split stay small
  whatever clients send.

Errors
------
:meth:`Document.apply` is atomic per op: each op is validated completely before it changes
anything. For a list whose op *i* is refused, ops ``0 .. i-1`` stay applied, op *i* and later ones
are not applied, and the raised :class:`~docstream.errors.CrdtError` (or subclass) names op *i*
(``detail`` starts with ``"op i: "``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from operator import attrgetter

from docstream.crdt.ids import MAX_COUNTER, CharId, check_replica, parse_counter
from docstream.crdt.ops import MAX_INSERT_LENGTH, Change, Delete, Insert, Op
from docstream.crdt.runindex import RunIndex
from docstream.errors import (
    CrdtError,
    DocStreamError,
    DuplicateIdError,
    InvalidInputError,
    StateFormatError,
    UnknownIdError,
)

#: Most runs per block before the block is split in halves.
_BLOCK_MAX = 64
#: Most code points per stored run.
_RUN_MAX = 1024
#: ``_bmin`` of a block with no runs (only the first block of an empty document).
_NO_MIN = (MAX_COUNTER + 1, "")


class _Run:
    """Consecutive ids ``counter .. counter+length-1`` of ``replica``, adjacent in the sequence.

    ``text`` is the visible content, or ``None`` for tombstones.
    """

    __slots__ = ("block", "counter", "length", "replica", "text")

    def __init__(
        self, counter: int, replica: str, length: int, text: str | None, block: _Block
    ) -> None:
        self.counter = counter
        self.replica = replica
        self.length = length
        self.text = text
        self.block = block


class _Block:
    """A bounded slice of the run sequence; ``idx`` is its position in ``Document._blocks``."""

    __slots__ = ("idx", "runs")

    def __init__(self, runs: list[_Run], idx: int) -> None:
        self.runs = runs
        self.idx = idx


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("text contains unpaired surrogates") from None


class Document:
    """One replica of a collaborative text.

    Args:
        replica: this replica's id (``[A-Za-z0-9_-]{8,64}``); local edits get ids of this replica.

    Raises:
        InvalidInputError: if ``replica`` is not a valid replica id.
    """

    __slots__ = (
        "_blocks",
        "_bmin",
        "_bvis",
        "_cb",
        "_cp",
        "_cvb",
        "_cvr",
        "_hit",
        "_hitpos",
        "_len",
        "_max",
        "_replica",
        "_reps",
        "_tail_c",
        "_tail_r",
        "_tail_wire",
    )

    def __init__(self, replica: str) -> None:
        self._replica = check_replica(replica)
        first = _Block([], 0)
        self._blocks = [first]
        self._bvis = [0]
        self._bmin = [_NO_MIN]
        self._len = 0
        self._max = 0
        self._reps: dict[str, RunIndex[_Run]] = {}
        # Cursor: block index, visible chars before that block, run position in the block (-1:
        # unknown) and visible chars before that run within the block.
        self._cb = 0
        self._cvb = 0
        self._cp = -1
        self._cvr = 0
        # Last run found by id, and its position in its block when it was found.
        self._hit: _Run = _NOWHERE
        self._hitpos = 0
        # The id of the last one-char insert applied (remote typing names it as the next parent).
        self._tail_wire = ""
        self._tail_r = ""
        self._tail_c = 0

    # ------------------------------------------------------------------ read API

    @property
    def replica(self) -> str:
        """This replica's id."""
        return self._replica

    @property
    def text(self) -> str:
        """The visible text."""
        return "".join([r.text for b in self._blocks for r in b.runs if r.text is not None])

    def __len__(self) -> int:
        return self._len

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

    # ------------------------------------------------------------------ local edits

    def insert(self, index: int, text: str) -> list[Op]:
        """Insert ``text`` so that it starts at ``index``; return the ops to send.

        The new chars take the counters ``max_counter + 1 ..``; their parent is the element
        (visible or not) just before the visible char at ``index`` (at the end: the last element).
        Text longer than :data:`~docstream.crdt.ops.MAX_INSERT_LENGTH` becomes several chained ops.

        Raises:
            IndexError: if ``index`` is not in ``0 .. len(self)``.
            InvalidInputError: if ``text`` contains unpaired surrogates.
            CrdtError: if the counters would pass ``MAX_COUNTER``.
        """
        if not 0 <= index <= self._len:
            raise IndexError(f"insert index {index} out of range for length {self._len}")
        n = len(text)
        if n == 0:
            return []
        if not text.isascii():
            _check_text(text)
        c = self._max + 1
        if c + n - 1 > MAX_COUNTER:
            raise CrdtError("the Lamport counter would pass 2**53 - 1")
        blocks = self._blocks
        me = self._replica
        cp = self._cp
        if cp >= 0:
            # Fast path: typing on at the end of our own run under the cursor, with a visible
            # element (or nothing) after it, extends that run.
            b = self._cb
            runs = blocks[b].runs
            if cp < len(runs):
                run = runs[cp]
                if (
                    run.counter + run.length == c
                    and index == self._cvb + self._cvr + run.length
                    and run.text is not None
                    and run.length + n <= _RUN_MAX
                    and run.replica == me
                ):
                    if cp + 1 < len(runs):
                        ok = runs[cp + 1].text is not None
                    else:
                        ok = b + 1 == len(blocks) or blocks[b + 1].runs[0].text is not None
                    if ok:
                        run.text += text
                        run.length += n
                        self._reps[me].end = c + n
                        self._bvis[b] += n
                        self._len += n
                        self._max = c + n - 1
                        if n <= MAX_INSERT_LENGTH:
                            return [Insert(f"{me}:{c}", f"{me}:{c - 1}", text)]
                        return self._insert_ops(c, f"{me}:{c - 1}", text)
        if index == self._len:
            b = len(blocks) - 1
            self._cvb = self._len - self._bvis[b]
            q = len(blocks[b].runs)
            vr = self._bvis[b]
        else:
            b, p, k = self._locate(index)
            vr = self._cvr
            if k:
                self._split(blocks[b], p, k)
                q = p + 1
                vr += k
            elif p or not b:
                q = p
            else:
                b -= 1
                vr = self._bvis[b]
                self._cvb -= vr
                q = len(blocks[b].runs)
        blk = blocks[b]
        runs = blk.runs
        self._cb = b
        if q:
            prev = runs[q - 1]
            after: str | None = f"{prev.replica}:{prev.counter + prev.length - 1}"
            if (
                prev.counter + prev.length == c
                and prev.text is not None
                and prev.length + n <= _RUN_MAX
                and prev.replica == me
            ):
                prev.text += text
                prev.length += n
                self._reps[me].end = c + n
                self._bvis[b] += n
                self._len += n
                self._max = c + n - 1
                self._cp = q - 1
                self._cvr = vr - prev.length + n
                return self._insert_ops(c, after, text)
        else:
            after = None
        self._cp = q
        self._cvr = vr
        rep = self._reps.get(me)
        if rep is None:
            rep = self._reps[me] = RunIndex(me)
        self._put(blk, q, rep, c, text)
        return self._insert_ops(c, after, text)

    def _insert_ops(self, c: int, after: str | None, text: str) -> list[Op]:
        me = self._replica
        if len(text) <= MAX_INSERT_LENGTH:
            return [Insert(f"{me}:{c}", after, text)]
        ops: list[Op] = []
        for start in range(0, len(text), MAX_INSERT_LENGTH):
            ops.append(Insert(f"{me}:{c + start}", after, text[start : start + MAX_INSERT_LENGTH]))
            after = f"{me}:{c + min(start + MAX_INSERT_LENGTH, len(text)) - 1}"
        return ops

    def delete(self, index: int, length: int) -> list[Op]:
        """Delete ``length`` visible chars from ``index``; return the ops to send.

        Take the newly deleted chars in document order; every char whose id is the previous
        char's id plus one (same replica) joins the previous char's
        :class:`~docstream.crdt.ops.Delete`, any other char starts a new one.

        Raises:
            IndexError: if ``length < 0`` or the range is not inside ``0 .. len(self)``.
        """
        if length < 0 or index < 0 or index + length > self._len:
            raise IndexError(f"delete range {index}+{length} out of range for length {self._len}")
        if length == 0:
            return []
        b, p, k = self._locate(index)
        blocks = self._blocks
        blk = blocks[b]
        runs = blk.runs
        if p:
            # Park the cursor on the run before the deletion: nothing before it changes.
            self._cp = p - 1
            prev = runs[p - 1]
            if prev.text is not None:
                self._cvr -= prev.length
        ops: list[Op] = []
        pr = ""
        ps = pn = 0
        remaining = length
        grown: list[_Block] = []
        while remaining:
            if p == len(runs):
                if p > _BLOCK_MAX:
                    grown.append(blk)
                b += 1
                blk = blocks[b]
                runs = blk.runs
                p = 0
            run = runs[p]
            if run.text is None:
                p += 1
                continue
            take = run.length - k
            if take > remaining:
                take = remaining
            start = run.counter + k
            if start == ps + pn and run.replica == pr:
                pn += take
            else:
                if pn:
                    ops.append(Delete(f"{pr}:{ps}", pn))
                pr, ps, pn = run.replica, start, take
            p = self._tombstone(blk, p, k, k + take)
            k = 0
            remaining -= take
        ops.append(Delete(f"{pr}:{ps}", pn))
        if len(runs) > _BLOCK_MAX:
            grown.append(blk)
        for g in grown:
            self._split_block(g)
        return ops

    # ------------------------------------------------------------------ remote ops

    def apply(self, ops: Iterable[Op]) -> None:
        """Integrate ops (local or remote) by id. Idempotent: re-applying an op changes nothing.

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
        parent: _Run | None = None
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
            _check_text(text)
        if rep is not None and c < rep.end and self._known_insert(rep, c, text, wire):
            return
        if n == 1:
            self._tail_wire = wire
            self._tail_r = r
            self._tail_c = c
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
                and changes is None
                and parent.length + n <= _RUN_MAX
            ):
                # The replica keeps typing after its own run; extend the run in place if the
                # next element is smaller than the new id (else the skip loop decides).
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
                    parent.text += text
                    parent.length += n
                    rep.end = c + n  # type: ignore[union-attr]
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
        if q:
            prev = runs[q - 1]
            if (
                prev.counter + prev.length == c
                and prev.text is not None
                and prev.replica == r
                and prev.length + n <= _RUN_MAX
            ):
                # The replica kept typing: extend its run in place.
                if changes is not None:
                    _add_change(changes, self._visible_before(blk, q), 0, text)
                prev.text += text
                prev.length += n
                self._reps[r].end = c + n
                b = blk.idx
                self._bvis[b] += n
                self._len += n
                if c + n - 1 > self._max:
                    self._max = c + n - 1
                if b < self._cb:
                    self._cvb += n
                elif b == self._cb and self._cp >= q:
                    self._cp = -1
                self._hit = prev
                self._hitpos = q - 1
                return
        self._insert_at(blk, q, r, c, text, changes)

    def _insert_at(
        self, blk: _Block, q: int, r: str, c: int, text: str, changes: list[Change] | None
    ) -> None:
        if changes is not None:
            _add_change(changes, self._visible_before(blk, q), 0, text)
        rep = self._reps.get(r)
        if rep is None:
            rep = self._reps[r] = RunIndex(r)
        self._put(blk, q, rep, c, text)

    def _known_insert(self, rep: RunIndex[_Run], c: int, text: str, wire: str) -> bool:
        """True if ``[c, c+len(text))`` is known with the same content; raise on a conflict."""
        end = c + len(text)
        run = rep.find(c)
        if run is None:
            nxt = rep.ceiling(c)
            if nxt is None or nxt.counter >= end:
                return False
            raise DuplicateIdError(f"ins {wire!r}: overlaps known ids only partly")
        pos = c
        while True:
            hi = min(end, run.counter + run.length)
            if run.text is not None:
                lo = pos - run.counter
                if run.text[lo : hi - run.counter] != text[pos - c : hi - c]:
                    raise DuplicateIdError(f"ins {wire!r}: ids already used for other text")
            pos = hi
            if pos == end:
                return True
            nxt_run = rep.find(pos)
            if nxt_run is None:
                raise DuplicateIdError(f"ins {wire!r}: overlaps known ids only partly")
            run = nxt_run

    def _apply_delete(self, op: Delete, changes: list[Change] | None) -> None:
        n = op.length
        wire = op.id
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
            if len(runs) > _BLOCK_MAX:
                self._split_block(blk)
            return
        if end > rep.end:  # type: ignore[union-attr]
            raise UnknownIdError(f"del {wire!r} len {n}: names ids this replica does not know")
        targets = [run]
        pos = run.counter + run.length
        while pos < end:
            nxt = rep.find(pos)  # type: ignore[union-attr]
            if nxt is None:
                raise UnknownIdError(f"del {op.id!r} len {n}: names ids this replica does not know")
            targets.append(nxt)
            pos = nxt.counter + nxt.length
        for run in targets:
            if run.text is None:
                continue
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
            if len(blk.runs) > _BLOCK_MAX:
                self._split_block(blk)

    # ------------------------------------------------------------------ internals

    def _find(self, replica: str, counter: int) -> _Run | None:
        hit = self._hit
        if 0 <= counter - hit.counter < hit.length and hit.replica == replica:
            return hit
        rep = self._reps.get(replica)
        if rep is None:
            return None
        run = rep.find(counter)
        if run is not None:
            self._hit = run
        return run

    def _pos(self, run: _Run) -> int:
        """The position of ``run`` in its block."""
        runs = run.block.runs
        p = self._hitpos
        if p < len(runs) and runs[p] is run:
            return p
        p = runs.index(run)
        self._hitpos = p
        return p

    def _forget(self, run: _Run) -> None:
        """``run`` was merged into a neighbour and left the sequence."""
        self._reps[run.replica].remove(run)
        if self._hit is run:
            self._hit = _NOWHERE

    def _locate(self, index: int) -> tuple[int, int, int]:
        """Block, run position and offset of the visible char at ``0 <= index < len``."""
        bvis = self._bvis
        b = self._cb
        vb = self._cvb
        cp = self._cp
        if index < vb:
            while index < vb:
                b -= 1
                vb -= bvis[b]
            cp = -1
        else:
            while index >= vb + bvis[b]:
                vb += bvis[b]
                b += 1
            if b != self._cb:
                cp = -1
        runs = self._blocks[b].runs
        rel = index - vb
        if cp < 0:
            p = 0
            vr = 0
        else:
            p = cp
            vr = self._cvr
        if rel < vr:
            while True:
                p -= 1
                run = runs[p]
                if run.text is not None:
                    vr -= run.length
                    if vr <= rel:
                        break
        else:
            while True:
                run = runs[p]
                if run.text is not None:
                    if rel < vr + run.length:
                        break
                    vr += run.length
                p += 1
        self._cb = b
        self._cvb = vb
        self._cp = p
        self._cvr = vr
        return b, p, rel - vr

    def _visible_before(self, blk: _Block, p: int) -> int:
        """Visible chars before position ``p`` of ``blk``; parks the cursor there."""
        b = blk.idx
        cb = self._cb
        if b == cb:
            vb = self._cvb
        elif b > cb:
            vb = self._cvb + sum(islice(self._bvis, cb, b))
        else:
            vb = self._cvb - sum(islice(self._bvis, b, cb))
        runs = blk.runs
        if b == cb and self._cp >= 0 and self._cp <= p:
            q = self._cp
            vr = self._cvr
        else:
            q = 0
            vr = 0
        while q < p:
            run = runs[q]
            if run.text is not None:
                vr += run.length
            q += 1
        self._cb = b
        self._cvb = vb
        self._cp = p
        self._cvr = vr
        return vb + vr

    def _split(self, blk: _Block, p: int, k: int) -> None:
        """Split run ``p`` of ``blk`` after its first ``k`` elements (0 < k < length)."""
        run = blk.runs[p]
        text = run.text
        right = _Run(
            run.counter + k, run.replica, run.length - k, None if text is None else text[k:], blk
        )
        if text is not None:
            run.text = text[:k]
        run.length = k
        blk.runs.insert(p + 1, right)
        self._reps[run.replica].add(right)
        if blk.idx == self._cb and self._cp > p:
            self._cp += 1

    def _put(self, blk: _Block, q: int, rep: RunIndex[_Run], c: int, text: str) -> None:
        """Store new visible ``text`` with ids from ``(c, rep.name)`` at position ``q``."""
        n = len(text)
        r = rep.name
        runs = blk.runs
        if n <= _RUN_MAX:
            run = _Run(c, r, n, text, blk)
            runs.insert(q, run)
            rep.add(run)
            self._hitpos = q
        else:
            new = [
                _Run(c + i, r, min(_RUN_MAX, n - i), text[i : i + _RUN_MAX], blk)
                for i in range(0, n, _RUN_MAX)
            ]
            runs[q:q] = new
            for run in new:
                rep.add(run)
            self._hitpos = q + len(new) - 1
        self._hit = run
        b = blk.idx
        self._bvis[b] += n
        self._len += n
        if c + n - 1 > self._max:
            self._max = c + n - 1
        least = self._bmin[b]
        if c < least[0] or (c == least[0] and r < least[1]):
            self._bmin[b] = (c, r)
        if b < self._cb:
            self._cvb += n
        elif b == self._cb and self._cp > q:
            self._cp = -1
        if len(runs) > _BLOCK_MAX:
            self._split_block(blk)

    def _tombstone(self, blk: _Block, p: int, lo: int, hi: int) -> int:
        """Delete elements ``lo .. hi-1`` of the visible run ``p`` of ``blk``.

        Merges the new tombstone with an adjacent tombstone run of consecutive ids. Runs before
        ``p`` keep their positions and visible counts. Returns the position of the first run
        after the deleted elements. Does not split the block.
        """
        runs = blk.runs
        run = runs[p]
        length = run.length
        c0 = run.counter
        r = run.replica
        text = run.text
        assert text is not None
        d = hi - lo
        b = blk.idx
        self._bvis[b] -= d
        self._len -= d
        if b < self._cb:
            self._cvb -= d
        elif b == self._cb and self._cp > p:
            self._cp = -1
        if not lo and p:
            prev = runs[p - 1]
            if prev.text is None and prev.counter + prev.length == c0 and prev.replica == r:
                prev.length += hi
                if hi < length:
                    run.counter = c0 + hi
                    run.length = length - hi
                    run.text = text[hi:]
                    self._reps[r].rekey(c0, run)
                    return p
                del runs[p]
                self._forget(run)
                if p < len(runs):
                    nxt = runs[p]
                    if nxt.text is None and nxt.counter == c0 + length and nxt.replica == r:
                        prev.length += nxt.length
                        del runs[p]
                        self._forget(nxt)
                return p
        if hi == length and p + 1 < len(runs):
            nxt = runs[p + 1]
            if nxt.text is None and nxt.counter == c0 + length and nxt.replica == r:
                if lo:
                    run.text = text[:lo]
                    run.length = lo
                    nxt.counter = c0 + lo
                    nxt.length += d
                    self._reps[r].rekey(c0 + length, nxt)
                    return p + 2
                run.text = None
                run.length += nxt.length
                del runs[p + 1]
                self._forget(nxt)
                return p + 1
        if not lo:
            if hi == length:
                run.text = None
                return p + 1
            right = _Run(c0 + hi, r, length - hi, text[hi:], blk)
            run.length = hi
            run.text = None
            runs.insert(p + 1, right)
            self._reps[r].add(right)
            return p + 1
        run.text = text[:lo]
        run.length = lo
        mid = _Run(c0 + lo, r, d, None, blk)
        rep = self._reps[r]
        if hi == length:
            runs.insert(p + 1, mid)
            rep.add(mid)
            return p + 2
        right = _Run(c0 + hi, r, length - hi, text[hi:], blk)
        runs[p + 1 : p + 1] = (mid, right)
        rep.add(mid)
        rep.add(right)
        return p + 2

    def _split_block(self, blk: _Block) -> None:
        """Cut an over-full block into blocks of ``_BLOCK_MAX // 2`` runs."""
        half = _BLOCK_MAX // 2
        runs = blk.runs
        b = blk.idx
        parts = [runs[i : i + half] for i in range(half, len(runs), half)]
        del runs[half:]
        blocks = self._blocks
        new = []
        for i, part in enumerate(parts, b + 1):
            nb = _Block(part, i)
            for run in part:
                run.block = nb
            new.append(nb)
        blocks[b + 1 : b + 1] = new
        for i in range(b + 1 + len(new), len(blocks)):
            blocks[i].idx = i
        self._bvis[b : b + 1] = [_visible(runs), *(_visible(nb.runs) for nb in new)]
        self._bmin[b : b + 1] = [_least(runs), *(_least(nb.runs) for nb in new)]
        if self._cb > b:
            self._cb += len(new)
        elif self._cb == b and self._cp >= half:
            self._cp = -1

    # ------------------------------------------------------------------ state

    def runs(self) -> Iterator[tuple[str, int, int, str | None]]:
        """The sequence as maximal runs ``(replica, counter, length, text or None)``.

        Adjacent elements with the same replica, consecutive counters and the same deleted state
        form one run, whatever the internal cuts are; this is what :meth:`encode_state` writes.
        """
        cur_r = ""
        cur_c = cur_n = 0
        cur_t: list[str] | None = None
        for blk in self._blocks:
            for run in blk.runs:
                t = run.text
                if (
                    cur_n
                    and run.counter == cur_c + cur_n
                    and (t is None) == (cur_t is None)
                    and run.replica == cur_r
                ):
                    cur_n += run.length
                    if t is not None:
                        cur_t.append(t)  # type: ignore[union-attr]
                    continue
                if cur_n:
                    yield cur_r, cur_c, cur_n, None if cur_t is None else "".join(cur_t)
                cur_r, cur_c, cur_n = run.replica, run.counter, run.length
                cur_t = None if t is None else [t]
        if cur_n:
            yield cur_r, cur_c, cur_n, None if cur_t is None else "".join(cur_t)

    def encode_state(self) -> bytes:
        """The whole document (tombstones included, their text dropped) as bytes.

        The format is versioned and documented in ``docs/state-format.md``; equal documents
        give equal bytes.
        """
        from docstream.crdt.encoding import encode_runs

        return encode_runs(self.runs())

    @classmethod
    def decode_state(cls, blob: bytes, replica: str) -> Document:
        """A new document from :meth:`encode_state` bytes, editing as ``replica``.

        Raises:
            StateFormatError: the blob is truncated, malformed or of an unknown version.
            InvalidInputError: ``replica`` is not a valid replica id.
        """
        from docstream.crdt.encoding import decode_runs

        doc = cls(replica)
        doc._load(decode_runs(blob))
        return doc

    def _load(self, runs: Sequence[tuple[str, int, int, str | None]]) -> None:
        """Fill this new, empty document with ``runs`` in sequence order.

        Raises:
            StateFormatError: two runs claim the same id.
        """
        half = _BLOCK_MAX // 2
        blocks: list[_Block] = []
        by_replica: dict[str, list[_Run]] = {}
        blk = _Block([], 0)
        put = blk.runs.append
        for r, c, n, t in _short_runs(runs):
            if len(blk.runs) >= half:
                blocks.append(blk)
                blk = _Block([], len(blocks))
                put = blk.runs.append
            run = _Run(c, r, n, t, blk)
            put(run)
            rl = by_replica.get(r)
            if rl is None:
                rl = by_replica[r] = []
            rl.append(run)
        blocks.append(blk)
        for r, rl in by_replica.items():
            rl.sort(key=_BY_COUNTER)
            end = -1
            for run in rl:
                if run.counter < end:
                    raise StateFormatError(f"state lists id {r}:{run.counter} twice")
                end = run.counter + run.length
        self._blocks = blocks
        self._bvis = [_visible(blk.runs) for blk in blocks]
        self._bmin = [_least(blk.runs) for blk in blocks]
        self._len = sum(self._bvis)
        for r, rl in by_replica.items():
            rep = self._reps[r] = RunIndex(r)
            rep.bulk_load(rl)
            if rep.end - 1 > self._max:
                self._max = rep.end - 1
        self._cb = self._cvb = 0
        self._cp = -1


_NOWHERE_BLOCK = _Block([], -1)
_NOWHERE = _Run(-1, "", 0, None, _NOWHERE_BLOCK)


_BY_COUNTER = attrgetter("counter")


def _short_runs(
    runs: Iterable[tuple[str, int, int, str | None]],
) -> Iterator[tuple[str, int, int, str | None]]:
    """``runs`` with every run longer than ``_RUN_MAX`` cut into pieces."""
    for run in runs:
        r, c, n, t = run
        if n <= _RUN_MAX:
            yield run
            continue
        for i in range(0, n, _RUN_MAX):
            m = min(_RUN_MAX, n - i)
            yield r, c + i, m, None if t is None else t[i : i + m]


def _visible(runs: list[_Run]) -> int:
    return sum([r.length for r in runs if r.text is not None])


def _least(runs: list[_Run]) -> tuple[int, str]:
    if not runs:
        return _NO_MIN
    return min([(r.counter, r.replica) for r in runs])


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
