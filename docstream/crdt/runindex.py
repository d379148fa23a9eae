"""Id -> run lookups for one replica: a chunked sorted list of run starts.

Every stored run (:class:`~docstream.crdt.rga.Document` keeps the sequence as runs of consecutive
ids) is registered here under its first counter. The runs of one replica never overlap, so the run
holding counter ``c`` is the one with the largest start ``<= c``: two bisects, one over the chunks'
first keys and one inside a chunk.

Why chunks: a split of a run inserts a new start in the middle of the replica's keys. One flat
sorted list would make every split an O(n) ``memmove``; chunks of at most ``2 * _CHUNK`` keys keep
that bounded, and appending a start beyond the last one (a replica that keeps typing) is O(1).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Generic, Protocol, TypeVar


class _Run(Protocol):
    counter: int
    length: int


R = TypeVar("R", bound=_Run)

#: Target chunk size; a chunk is split in two when it passes twice this.
_CHUNK = 256


class RunIndex(Generic[R]):
    """The runs of one replica by first counter, with ``end`` = one past the largest known id."""

    __slots__ = ("end", "keys", "mins", "name", "vals")

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys: list[list[int]] = []
        self.vals: list[list[R]] = []
        self.mins: list[int] = []
        self.end = 0

    def find(self, counter: int) -> R | None:
        """The run holding ``counter``, or ``None``."""
        ci = bisect_right(self.mins, counter) - 1
        if ci < 0:
            return None
        keys = self.keys[ci]
        run = self.vals[ci][bisect_right(keys, counter) - 1]
        return run if counter < run.counter + run.length else None

    def ceiling(self, counter: int) -> R | None:
        """The run with the smallest start ``>= counter``, or ``None``."""
        ci = bisect_right(self.mins, counter) - 1
        if ci < 0:
            ci = 0
        while ci < len(self.keys):
            keys = self.keys[ci]
            j = bisect_left(keys, counter)
            if j < len(keys):
                return self.vals[ci][j]
            ci += 1
        return None

    def add(self, run: R) -> None:
        """Register ``run`` under ``run.counter`` (which must not be registered yet)."""
        key = run.counter
        end = key + run.length
        if end > self.end:
            self.end = end
        keys_list = self.keys
        if not keys_list:
            keys_list.append([key])
            self.vals.append([run])
            self.mins.append(key)
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
        if len(keys) > 2 * _CHUNK:
            keys_list.insert(ci + 1, keys[_CHUNK:])
            self.vals.insert(ci + 1, vals[_CHUNK:])
            self.mins.insert(ci + 1, keys[_CHUNK])
            del keys[_CHUNK:]
            del vals[_CHUNK:]

    def _slot(self, key: int) -> tuple[int, int]:
        ci = bisect_right(self.mins, key) - 1
        return ci, bisect_left(self.keys[ci], key)

    def remove(self, run: R) -> None:
        """Forget ``run`` (registered under its current ``run.counter``)."""
        ci, j = self._slot(run.counter)
        keys = self.keys[ci]
        del keys[j]
        del self.vals[ci][j]
        if not keys:
            del self.keys[ci]
            del self.vals[ci]
            del self.mins[ci]
        elif j == 0:
            self.mins[ci] = keys[0]

    def rekey(self, old: int, run: R) -> None:
        """``run`` was registered under ``old`` and now starts at ``run.counter``.

        The caller guarantees no other start lies between the two, so the order is unchanged.
        """
        ci, j = self._slot(old)
        self.keys[ci][j] = run.counter
        if j == 0:
            self.mins[ci] = run.counter

    def bulk_load(self, runs: list[R]) -> None:
        """Fill an empty index from non-empty ``runs`` sorted by counter (for the state decoder)."""
        for i in range(0, len(runs), _CHUNK):
            chunk = runs[i : i + _CHUNK]
            keys = [r.counter for r in chunk]
            self.keys.append(keys)
            self.vals.append(chunk)
            self.mins.append(keys[0])
        last = runs[-1]
        self.end = last.counter + last.length
