"""Storage of the RGA sequence: runs in blocks, order statistics, a cursor, id lookups.

This module is internal to :mod:`docstream.crdt`; :class:`~docstream.crdt.rga.Document` builds
the CRDT rules on top of :class:`RunSequence`. It is longer than the house's ~400 lines on
purpose: it is the innermost hot path (every index lookup, split and scan of every edit), and one
class over shared block arrays avoids calls across modules there.

* A :class:`Run` is a stretch of adjacent elements with consecutive counters of one replica and
  one deleted state (within a run the ids increase by one from left to right). It holds at most
  :data:`RUN_MAX` code points, so string copies on extension and split stay small.
* Runs live in :class:`Block` s of at most :data:`BLOCK_MAX` runs. ``_bvis[b]`` is block *b*'s
  visible length (index <-> position in O(#blocks) integer steps, usually O(1) from the cursor)
  and ``_bmin[b]`` the smallest first id of its runs, a lower bound that lets the integration
  scan jump over whole blocks of larger ids at C speed.
* The cursor caches the last located position: block ``_cb``, the visible chars before it
  ``_cvb``, a run position ``_cp`` in it (``-1``: unknown) and the visible chars before that run
  within the block ``_cvr``. Nearby indexes are found by walking from it; a jump of more than
  ``_NEAR`` blocks uses prefix sums of ``_bvis`` at C speed. Every mutation keeps it valid: a
  change at position *p* of a block leaves the runs before *p* untouched, so the cursor survives
  when ``_cp <= p``.
* Per replica, a :class:`~docstream.crdt.runindex.RunIndex` maps counters to runs; ``_hit`` (the
  last run found) and ``_hitpos`` (a guess of a run's position in its block, checked by identity)
  make runs of typing O(1).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate, islice, pairwise
from operator import attrgetter
from typing import Any

from docstream.crdt.ids import MAX_COUNTER
from docstream.crdt.runindex import RunIndex
from docstream.crdt.steps import Steps, finish
from docstream.errors import StateFormatError

#: Most runs per block before the block is split.
BLOCK_MAX = 64
#: Most code points per stored run.
RUN_MAX = 1024
#: ``_bmin`` of a block with no runs (only the single block of an empty document).
NO_MIN = (MAX_COUNTER + 1, "")

# Work per step of the step functions (:mod:`~docstream.crdt.steps`), each well under a
# millisecond on the benchmark machine:
#: runs turned into stored runs per step of a decode;
LOAD_STEP = 512
#: blocks (of up to ``BLOCK_MAX`` runs) whose text is joined per step;
TEXT_STEP = 64
#: runs freed per step of :meth:`RunSequence.dispose_steps`;
DISPOSE_STEP = 2048
#: runs sorted at once, and merged per step, when a replica's runs are sorted in steps;
SORT_STEP = 16384
MERGE_STEP = 2048
#: references dropped per step when a long list is emptied.
DROP_STEP = 8192


class Run:
    """Consecutive ids ``counter .. counter+length-1`` of ``replica``, adjacent in the sequence.

    ``text`` is the visible content, or ``None`` for tombstones.
    """

    __slots__ = ("block", "counter", "length", "replica", "text")

    def __init__(
        self, counter: int, replica: str, length: int, text: str | None, block: Block
    ) -> None:
        self.counter = counter
        self.replica = replica
        self.length = length
        self.text = text
        self.block = block


class Block:
    """A bounded slice of the run sequence; ``idx`` is its position in ``RunSequence._blocks``."""

    __slots__ = ("idx", "runs")

    def __init__(self, runs: list[Run], idx: int) -> None:
        self.runs = runs
        self.idx = idx


class RunSequence:
    """The element sequence of one document, with its indexes. See the module docstring."""

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
        "_reps",
    )

    def __init__(self) -> None:
        first = Block([], 0)
        self._blocks = [first]
        self._bvis = [0]
        self._bmin = [NO_MIN]
        self._len = 0
        self._max = 0
        self._reps: dict[str, RunIndex[Run]] = {}
        self._cb = 0
        self._cvb = 0
        self._cp = -1
        self._cvr = 0
        self._hit: Run = NOWHERE
        self._hitpos = 0

    @property
    def text(self) -> str:
        """The visible text."""
        return "".join([r.text for b in self._blocks for r in b.runs if r.text is not None])

    def __len__(self) -> int:
        return self._len

    @property
    def block_count(self) -> int:
        """How many blocks hold the runs, in O(1): at most :data:`BLOCK_MAX` runs each."""
        return len(self._blocks)

    def stored_runs(self) -> int:
        """How many runs (visible and tombstones) are stored, in O(blocks): what a document
        costs in memory, whatever its visible length."""
        return sum(len(blk.runs) for blk in self._blocks)

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

    def _find(self, replica: str, counter: int) -> Run | None:
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

    def _pos(self, run: Run) -> int:
        """The position of ``run`` in its block."""
        runs = run.block.runs
        p = self._hitpos
        if p < len(runs) and runs[p] is run:
            return p
        p = runs.index(run)
        self._hitpos = p
        return p

    def _forget(self, run: Run) -> None:
        """``run`` was merged into a neighbour and left the sequence."""
        self._reps[run.replica].remove(run)
        if self._hit is run:
            self._hit = NOWHERE

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
                if b < self._cb - _NEAR:
                    b, vb = _far_block(bvis, index)
                    break
            cp = -1
        else:
            while index >= vb + bvis[b]:
                vb += bvis[b]
                b += 1
                if b > self._cb + _NEAR:
                    b, vb = _far_block(bvis, index)
                    break
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

    def _visible_before(self, blk: Block, p: int) -> int:
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

    def _split(self, blk: Block, p: int, k: int) -> None:
        """Split run ``p`` of ``blk`` after its first ``k`` elements (0 < k < length)."""
        run = blk.runs[p]
        text = run.text
        right = Run(
            run.counter + k, run.replica, run.length - k, None if text is None else text[k:], blk
        )
        if text is not None:
            run.text = text[:k]
        run.length = k
        blk.runs.insert(p + 1, right)
        self._reps[run.replica].add(right)
        if blk.idx == self._cb and self._cp > p:
            self._cp += 1

    def _put(self, blk: Block, q: int, rep: RunIndex[Run], c: int, text: str) -> None:
        """Store new visible ``text`` with ids from ``(c, rep.name)`` at position ``q``."""
        n = len(text)
        r = rep.name
        runs = blk.runs
        if n <= RUN_MAX:
            run = Run(c, r, n, text, blk)
            runs.insert(q, run)
            rep.add(run)
            self._hitpos = q
        else:
            new = [
                Run(c + i, r, min(RUN_MAX, n - i), text[i : i + RUN_MAX], blk)
                for i in range(0, n, RUN_MAX)
            ]
            runs[q:q] = new
            for run in new:
                rep.add(run)
            self._hitpos = q + len(new) - 1
        rep.learn(c, c + n)
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
        if len(runs) > BLOCK_MAX:
            self._split_block(blk)

    def _tombstone(self, blk: Block, p: int, lo: int, hi: int) -> int:
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
                self._reps[r].hide(run)
                run.length += nxt.length
                del runs[p + 1]
                self._forget(nxt)
                return p + 1
        if not lo:
            run.text = None
            self._reps[r].hide(run)
            if hi == length:
                return p + 1
            right = Run(c0 + hi, r, length - hi, text[hi:], blk)
            run.length = hi
            runs.insert(p + 1, right)
            self._reps[r].add(right)
            return p + 1
        run.text = text[:lo]
        run.length = lo
        mid = Run(c0 + lo, r, d, None, blk)
        rep = self._reps[r]
        if hi == length:
            runs.insert(p + 1, mid)
            rep.add(mid)
            return p + 2
        right = Run(c0 + hi, r, length - hi, text[hi:], blk)
        runs[p + 1 : p + 1] = (mid, right)
        rep.add(mid)
        rep.add(right)
        return p + 2

    def _split_block(self, blk: Block) -> None:
        """Cut an over-full block into blocks of ``BLOCK_MAX // 2`` runs."""
        half = BLOCK_MAX // 2
        runs = blk.runs
        b = blk.idx
        parts = [runs[i : i + half] for i in range(half, len(runs), half)]
        del runs[half:]
        blocks = self._blocks
        new = []
        for i, part in enumerate(parts, b + 1):
            nb = Block(part, i)
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

    def _load_steps(
        self, runs: list[tuple[str, int, int, str | None]], *, sliced: bool
    ) -> Steps[None]:
        """Fill this new, empty document with ``runs`` in sequence order, in steps of about
        :data:`LOAD_STEP` runs, and empty ``runs``. ``sliced``: sort a replica's runs in bounded
        steps too (else in one call, which is quicker).

        Raises:
            StateFormatError: two runs claim the same id.
        """
        half = BLOCK_MAX // 2
        per_step = max(1, LOAD_STEP // half)
        blocks: list[Block] = []
        bvis: list[int] = []
        bmin: list[tuple[int, str]] = []
        by_replica: dict[str, list[Run]] = {}
        for n, first in enumerate(range(0, len(runs), half)):
            if n % per_step == per_step - 1:
                yield
            blk = Block([], len(blocks))
            put = blk.runs.append
            for r, c, k, t in runs[first : first + half]:
                run = Run(c, r, k, t, blk)
                put(run)
                rl = by_replica.get(r)
                if rl is None:
                    rl = by_replica[r] = []
                rl.append(run)
            blocks.append(blk)
            bvis.append(_visible(blk.runs))
            bmin.append(_least(blk.runs))
        if not blocks:  # an empty document still has one (empty) block
            blocks.append(Block([], 0))
            bvis.append(0)
            bmin.append(_least([]))
        for r in list(by_replica):
            rl = by_replica.pop(r)
            if sliced:
                rl = yield from _by_counter(rl)
            else:
                rl.sort(key=_BY_COUNTER)
            rep = self._reps[r] = RunIndex(r)
            if not (yield from rep.bulk_load_steps(rl)):
                raise StateFormatError(f"state lists an id of replica {r} twice")
            if rep.end - 1 > self._max:
                self._max = rep.end - 1
            if len(rl) > DROP_STEP:
                yield from _drop_steps(rl)
        if len(runs) > DROP_STEP:  # the decoded tuples: a million freed at once take ~35 ms
            yield from _drop_steps(runs)
        self._blocks = blocks
        self._bvis = bvis
        self._bmin = bmin
        self._len = sum(bvis)
        self._cb = self._cvb = 0
        self._cp = -1

    # ------------------------------------------------------------------ whole-document jobs

    def text_steps(self) -> Steps[str]:
        """:attr:`text` as a step function (:mod:`~docstream.crdt.steps`): a step per
        :data:`TEXT_STEP` blocks."""
        blocks = self._blocks
        parts: list[str] = []
        for first in range(0, len(blocks), TEXT_STEP):
            yield
            some = blocks[first : first + TEXT_STEP]
            parts.append("".join([r.text for b in some for r in b.runs if r.text is not None]))
        return "".join(parts)

    def dispose(self) -> None:
        """Empty this document at once (see :meth:`dispose_steps`)."""
        finish(self.dispose_steps())

    def dispose_steps(self) -> Steps[None]:
        """Empty this document (as new) and free what it held, in steps of about
        :data:`DISPOSE_STEP` runs.

        Each run points to its block and each block lists its runs: a document is a web of
        reference cycles, which only the cyclic garbage collector frees -- in one pause that
        walks every object (hundreds of milliseconds for a million runs), or never if the objects
        were frozen (``gc.freeze``). Emptying the blocks' run lists first leaves no cycle, so
        reference counting frees everything as the later steps drop it, a few thousand runs at a
        time. The document is empty from the first step on and is meant to be dropped.
        """
        blocks, bvis, bmin, reps = self._blocks, self._bvis, self._bmin, self._reps
        RunSequence.__init__(self)
        per_block = max(1, DISPOSE_STEP // BLOCK_MAX)
        for first in range(0, len(blocks), 4 * per_block):
            if first:
                yield
            for blk in blocks[first : first + 4 * per_block]:
                blk.runs.clear()  # the id index still holds these runs: nothing is freed yet
        for rep in reps.values():
            vals, keys, known = rep.vals, rep.keys, rep.known
            per_chunk = max(1, DISPOSE_STEP // 256)  # an index chunk holds about 256 runs
            while vals:
                yield
                del vals[-per_chunk:]  # the last references to these runs: they are freed now
                del keys[-per_chunk:]
            while known:
                yield
                del known[-4 * DISPOSE_STEP :]
        reps.clear()
        while blocks:
            yield
            del blocks[-4 * per_block :]
            del bvis[-4 * per_block :]
            del bmin[-4 * per_block :]


def _by_counter(runs: list[Run]) -> Steps[list[Run]]:
    """``runs`` sorted by counter, in steps: pieces of :data:`SORT_STEP` runs sorted at C speed
    (about 2.5 ms for a piece in random order), then -- unless the pieces are already in order, as
    when a replica's runs follow its typing -- merged :data:`MERGE_STEP` runs per step. One
    ``list.sort`` of a replica's 250,000 runs in random order takes 100 ms at once; pieces and
    merge take 1.4 times as long in all."""
    if len(runs) <= SORT_STEP:
        runs.sort(key=_BY_COUNTER)
        return runs
    pieces = []
    for first in range(0, len(runs), SORT_STEP):
        yield
        piece = runs[first : first + SORT_STEP]
        piece.sort(key=_BY_COUNTER)
        pieces.append(piece)
    size = len(runs)
    yield from _drop_steps(runs)
    out: list[Run] = []
    if all(a[-1].counter < b[0].counter for a, b in pairwise(pieces)):
        for piece in pieces:
            yield
            out += piece
            piece.clear()
        return out
    merged = heapq.merge(*pieces, key=_BY_COUNTER)
    while len(out) < size:
        yield
        out.extend(islice(merged, MERGE_STEP))
    for piece in pieces:
        yield
        piece.clear()
    return out


def _drop_steps(items: list[Any]) -> Steps[None]:
    """Empty ``items`` in steps of :data:`DROP_STEP`: dropping a million references at once costs
    about 10 ms of cache misses, more when that frees the objects."""
    while items:
        yield
        del items[-DROP_STEP:]


_NOWHERE_BLOCK = Block([], -1)
#: A run that holds no id: the empty value of ``_hit``.
NOWHERE = Run(-1, "", 0, None, _NOWHERE_BLOCK)


_BY_COUNTER = attrgetter("counter")

#: Blocks the cursor walks in Python before a far jump is found by prefix sums at C speed.
_NEAR = 8


def _far_block(bvis: list[int], index: int) -> tuple[int, int]:
    """The block holding visible ``index``, and the visible chars before it."""
    ends = list(accumulate(bvis))
    b = bisect_right(ends, index)
    return b, ends[b] - bvis[b]


def _visible(runs: list[Run]) -> int:
    return sum([r.length for r in runs if r.text is not None])


def _least(runs: list[Run]) -> tuple[int, str]:
    if not runs:
        return NO_MIN
    return min([(r.counter, r.replica) for r in runs])
