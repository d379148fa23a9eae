"""Id -> run lookups for one replica: a chunked sorted list of run starts.

Every stored run (:mod:`~docstream.crdt.sequence` keeps the sequence as runs of consecutive ids)
is registered here under its first counter. The runs of one replica never overlap, so the run
holding counter ``c`` is the one with the largest start ``<= c``: two bisects, one over the chunks'
first keys and one inside a chunk.

Why chunks: a split of a run inserts a new start in the middle of the replica's keys. One flat
sorted list would make every split an O(n) ``memmove``; chunks of at most ``2 * _CHUNK`` keys keep
that bounded, and appending a start beyond the last one (a replica that keeps typing) is O(1).

Two summaries keep ops over long id ranges cheap whatever their history:

* ``known``: the replica's known ids as sorted disjoint intervals ``[start, end)`` (flattened
  ``[s0, e0, s1, e1, ...]``), so "are all of ``[lo, hi)`` known?" is one bisect, not a walk over
  every run in the range;
* ``vis``: how many visible runs each chunk holds, so :meth:`RunIndex.visible_in` skips chunks of
  tombstones without looking at their runs. Re-deleting a long range that was cut into thousands
  of tombstone runs therefore costs O(log n + chunks), not O(runs).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Generic, Protocol, TypeVar

from docstream.crdt.steps import Steps, finish


class _Run(Protocol):
    counter: int
    length: int
    text: str | None


R = TypeVar("R", bound=_Run)

#: Target chunk size; a chunk is split in two when it passes twice this.
_CHUNK = 256
#: Runs indexed per step of :meth:`RunIndex.bulk_load_steps`.
LOAD_STEP = 2048


class RunIndex(Generic[R]):
    """The runs of one replica by first counter, with ``end`` = one past the largest known id.

    The owner calls :meth:`add` / :meth:`remove` / :meth:`rekey` when runs appear, disappear or
    move their start, :meth:`hide` when a registered run becomes a tombstone, and :meth:`learn`
    when ids become known (new runs and runs extended in place).
    """

    __slots__ = ("end", "keys", "known", "mins", "name", "vals", "vis")

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys: list[list[int]] = []
        self.vals: list[list[R]] = []
        self.mins: list[int] = []
        self.vis: list[int] = []
        self.known: list[int] = []
        self.end = 0

    # ------------------------------------------------------------------ known ids

    def learn(self, lo: int, hi: int) -> None:
        """Ids ``lo .. hi-1`` are now known."""
        known = self.known
        if hi > self.end:
            self.end = hi
        if known and lo == known[-1]:
            known[-1] = hi  # the common case: a replica's next ids
            return
        if not known or lo > known[-1]:
            known += (lo, hi)
            return
        i = bisect_left(known, lo)
        j = bisect_right(known, hi)
        # Keep the bounds of [lo, hi) that fall outside every interval, merge the rest.
        new = ([lo] if i % 2 == 0 else []) + ([hi] if j % 2 == 0 else [])
        known[i:j] = new

    def covers(self, lo: int, hi: int) -> bool:
        """Whether every id ``lo .. hi-1`` is known."""
        i = bisect_right(self.known, lo)
        return i % 2 == 1 and hi <= self.known[i]

    def touches(self, lo: int, hi: int) -> bool:
        """Whether any id ``lo .. hi-1`` is known."""
        i = bisect_right(self.known, lo)
        return i % 2 == 1 or (i < len(self.known) and self.known[i] < hi)

    # ------------------------------------------------------------------ runs

    def find(self, counter: int) -> R | None:
        """The run holding ``counter``, or ``None``."""
        ci = bisect_right(self.mins, counter) - 1
        if ci < 0:
            return None
        keys = self.keys[ci]
        run = self.vals[ci][bisect_right(keys, counter) - 1]
        return run if counter < run.counter + run.length else None

    def visible_in(self, lo: int, hi: int) -> list[R]:
        """The visible runs holding any id ``lo .. hi-1``, by counter (all of it must be known)."""
        out: list[R] = []
        ci = bisect_right(self.mins, lo) - 1
        j = bisect_right(self.keys[ci], lo) - 1
        keys_list, vals_list, vis, mins = self.keys, self.vals, self.vis, self.mins
        while True:
            if vis[ci]:
                keys = keys_list[ci]
                vals = vals_list[ci]
                for k in range(j, len(keys)):
                    if keys[k] >= hi:
                        return out
                    run = vals[k]
                    if run.text is not None:
                        out.append(run)
            ci += 1
            if ci == len(mins) or mins[ci] >= hi:
                return out
            j = 0

    def _slot(self, key: int) -> tuple[int, int]:
        ci = bisect_right(self.mins, key) - 1
        return ci, bisect_left(self.keys[ci], key)

    def add(self, run: R) -> None:
        """Register ``run`` under ``run.counter`` (which must not be registered yet)."""
        key = run.counter
        shown = run.text is not None
        keys_list = self.keys
        if not keys_list:
            keys_list.append([key])
            self.vals.append([run])
            self.mins.append(key)
            self.vis.append(1 if shown else 0)
            return
        ci = bisect_right(self.mins, key) - 1
        if ci < 0:
            ci = 0
        keys = keys_list[ci]
        vals = self.vals[ci]
        if key > keys[-1]:
            keys.append(key)
            vals.append(run)
        else:
            j = bisect_left(keys, key)
            keys.insert(j, key)
            vals.insert(j, run)
            if j == 0:
                self.mins[ci] = key
        if shown:
            self.vis[ci] += 1
        if len(keys) > 2 * _CHUNK:
            tail = vals[_CHUNK:]
            keys_list.insert(ci + 1, keys[_CHUNK:])
            self.vals.insert(ci + 1, tail)
            self.mins.insert(ci + 1, keys[_CHUNK])
            moved = sum([1 for r in tail if r.text is not None])
            self.vis.insert(ci + 1, moved)
            self.vis[ci] -= moved
            del keys[_CHUNK:]
            del vals[_CHUNK:]

    def remove(self, run: R) -> None:
        """Forget ``run`` (registered under its current ``run.counter``)."""
        ci, j = self._slot(run.counter)
        keys = self.keys[ci]
        del keys[j]
        del self.vals[ci][j]
        if run.text is not None:
            self.vis[ci] -= 1
        if not keys:
            del self.keys[ci]
            del self.vals[ci]
            del self.mins[ci]
            del self.vis[ci]
        elif j == 0:
            self.mins[ci] = keys[0]

    def hide(self, run: R) -> None:
        """The registered, visible ``run`` has just become a tombstone."""
        self.vis[bisect_right(self.mins, run.counter) - 1] -= 1

    def rekey(self, old: int, run: R) -> None:
        """``run`` was registered under ``old`` and now starts at ``run.counter``.

        The caller guarantees no other start lies between the two, so the order is unchanged.
        """
        last = self.keys[-1]
        if last[-1] == old:  # the newest run of the replica: no search
            last[-1] = run.counter
            if len(last) == 1:
                self.mins[-1] = run.counter
            return
        ci, j = self._slot(old)
        self.keys[ci][j] = run.counter
        if j == 0:
            self.mins[ci] = run.counter

    def bulk_load(self, runs: list[R]) -> bool:
        """Fill an empty index from non-empty ``runs`` sorted by counter.

        Returns False (and leaves the index unusable) if two runs overlap.
        """
        return finish(self.bulk_load_steps(runs))

    def bulk_load_steps(self, runs: list[R]) -> Steps[bool]:
        """:meth:`bulk_load` as a step function (:mod:`~docstream.crdt.steps`): a step per
        :data:`LOAD_STEP` runs."""
        per_step = max(1, LOAD_STEP // _CHUNK)
        for n, i in enumerate(range(0, len(runs), _CHUNK)):
            if n % per_step == per_step - 1:
                yield
            chunk = runs[i : i + _CHUNK]
            keys = [r.counter for r in chunk]
            self.keys.append(keys)
            self.vals.append(chunk)
            self.mins.append(keys[0])
            self.vis.append(sum([1 for r in chunk if r.text is not None]))
        known = self.known
        end = -1
        for first in range(0, len(runs), LOAD_STEP):
            if first:
                yield
            for run in runs[first : first + LOAD_STEP]:
                start = run.counter
                if start == end:
                    end = known[-1] = start + run.length
                elif start > end:
                    end = start + run.length
                    known += (start, end)
                else:
                    return False
        self.end = end
        return True
