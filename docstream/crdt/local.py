"""Local edits by code-point index: ``insert`` and ``delete`` turn into ops.

The conventions here are part of the contract with the TypeScript engine (``tests/vectors``):
both must emit the same ops for the same edit.

* ``insert(index, text)``: the new chars take the counters ``max_counter + 1 ..``; the parent of
  the first is the element -- visible or tombstone -- just before the visible char at ``index``
  (at the end of the document: the last element; none: ``after`` is ``null``). Going after the
  tombstones keeps a retyped word in the same id run as the deleted one, which keeps states small.
  Text longer than :data:`~docstream.crdt.ops.MAX_INSERT_LENGTH` becomes several ops, each after
  the previous one's last id.
* ``delete(index, length)``: take the newly deleted chars in document order; a char whose id is
  the previous char's id plus one (same replica) joins the previous char's ``del`` op, any other
  char starts a new one.
"""

from __future__ import annotations

from docstream.crdt.ids import MAX_COUNTER
from docstream.crdt.ops import MAX_INSERT_LENGTH, Delete, Insert, Op, check_text
from docstream.crdt.runindex import RunIndex
from docstream.crdt.sequence import BLOCK_MAX, RUN_MAX, Block, RunSequence
from docstream.errors import CrdtError


class LocalEditing(RunSequence):
    """Index-based edits of the replica ``_replica``."""

    __slots__ = ("_own_c", "_own_wire", "_replica")

    def __init__(self, replica: str) -> None:
        super().__init__()
        self._replica = replica
        # The wire id of the last char typed by the fast path (the next keystroke's parent).
        self._own_c = -1
        self._own_wire = ""

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
            check_text(text)
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
                    and run.length + n <= RUN_MAX
                    and run.replica == me
                ):
                    if cp + 1 < len(runs):
                        ok = runs[cp + 1].text is not None
                    else:
                        ok = b + 1 == len(blocks) or blocks[b + 1].runs[0].text is not None
                    if ok:
                        run.text += text
                        run.length += n
                        # Our ids end at c - 1 = max_counter: extend the last known interval.
                        mine = self._reps[me]
                        mine.known[-1] = mine.end = c + n
                        self._bvis[b] += n
                        self._len += n
                        self._max = c + n - 1
                        wire = f"{me}:{c}"
                        before = self._own_wire if self._own_c == c - 1 else f"{me}:{c - 1}"
                        if n == 1:
                            self._own_c = c
                            self._own_wire = wire
                        # n <= RUN_MAX < MAX_INSERT_LENGTH: one op.
                        return [Insert(wire, before, text)]
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
                and prev.length + n <= RUN_MAX
                and prev.replica == me
            ):
                prev.text += text
                prev.length += n
                self._reps[me].learn(c, c + n)
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
        grown: list[Block] = []
        while remaining:
            if p == len(runs):
                if p > BLOCK_MAX:
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
        if len(runs) > BLOCK_MAX:
            grown.append(blk)
        for g in grown:
            self._split_block(g)
        return ops
