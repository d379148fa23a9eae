"""The radix-tree nodes under :class:`~docstream.typeahead.trie.Trie`, and the ranked search.

Why a radix tree (edges labelled with strings, not single characters): 100,000 titles of ~40
characters make ~2.5 million one-character nodes, several hundred MB of Python objects;
compressing the chains leaves under two nodes per word (the benchmark's 100,000 titles: 154,000
nodes, about 65 MB with the entries and the LRU index). Every non-root node either ends a word
(``entry``) or branches (two or more children); pruning after a removal restores that invariant
by dropping a childless node and merging a non-word node that has one child left into that child.

Why ``best``: each node keeps a reference to the best-ranked entry of its subtree (highest
frequency, then smallest key). A subtree's ``best`` is never worse than anything in it, so a
best-first search (a heap of nodes keyed by their ``best`` plus entries keyed by themselves) pops
the top ``limit`` words after visiting only the nodes on their paths and those paths' siblings,
however many words share a short prefix. A mutation keeps ``best`` exact along the one path it
touches.

Why ``top``: the best-first search still pushes every child of each node it expands, which costs
a few hundred microseconds under a short, popular prefix. A node caches the last ranked list
computed for it (:func:`ranked`); a mutation clears the caches on its path to the root
(:func:`invalidate`, O(depth)), so a cache never outlives a change to its subtree.

Ranking: frequency descending, then the casefolded key by code point. Keys are unique in a trie,
so that order is total.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


class Entry:
    """One stored word: its key (casefolded), its latest spelling, its frequency, and its node."""

    __slots__ = ("frequency", "key", "node", "word")

    def __init__(self, key: str, word: str, frequency: int, node: Node) -> None:
        self.key = key
        self.word = word
        self.frequency = frequency
        self.node = node


class Node:
    """A radix-tree node: ``edge`` is the label from the parent; children keyed by first char."""

    __slots__ = ("best", "children", "edge", "entry", "parent", "top")

    def __init__(self, edge: str, parent: Node | None) -> None:
        self.edge = edge
        self.parent = parent
        self.children: dict[str, Node] = {}
        self.entry: Entry | None = None
        self.best: Entry | None = None
        #: (the limit it was computed for, the ranked entries of the subtree), or None.
        self.top: tuple[int, list[Entry]] | None = None


def better(a: Entry, b: Entry) -> bool:
    """Whether ``a`` ranks strictly before ``b``."""
    if a.frequency != b.frequency:
        return a.frequency > b.frequency
    return a.key < b.key


def recompute_best(node: Node) -> Entry | None:
    """The best entry among the node's own entry and its children's bests."""
    best = node.entry
    for child in node.children.values():
        candidate = child.best
        if candidate is not None and (best is None or better(candidate, best)):
            best = candidate
    return best


def locate(root: Node, key: str) -> Node | None:
    """The node whose subtree holds exactly the words that start with ``key``, or None."""
    node = root
    i = 0
    n = len(key)
    while i < n:
        child = node.children.get(key[i])
        if child is None:
            return None
        edge = child.edge
        if len(edge) <= n - i:
            if not key.startswith(edge, i):
                return None
            i += len(edge)
        else:
            if not edge.startswith(key[i:]):
                return None
            i = n
        node = child
    return node


def best_first(roots: Iterable[Node], limit: int, skip: Node | None = None) -> list[Entry]:
    """The top ``limit`` entries of the union of the (disjoint) subtrees under ``roots``.

    ``skip`` names one node whose subtree is left out (the exact-prefix matches of a fuzzy query).
    """
    out: list[Entry] = []
    if limit <= 0:
        return out
    # Heap items: (-frequency, key, node or entry). No two items ever share a key: the roots are
    # disjoint, and a node's subtree enters the heap only when the node leaves it, so the
    # comparison never reaches the objects.
    heap: list[tuple[int, str, Node | Entry]] = []
    for root in roots:
        best = root.best
        if best is not None and root is not skip:
            heap.append((-best.frequency, best.key, root))
    heapq.heapify(heap)
    push = heapq.heappush
    pop = heapq.heappop
    while heap:
        item = pop(heap)[2]
        if isinstance(item, Entry):
            out.append(item)
            if len(out) >= limit:
                break
            continue
        own = item.entry
        if own is not None:
            if own is item.best:
                # The node's best is its own word and nothing left in the heap ranks higher.
                out.append(own)
                if len(out) >= limit:
                    break
            else:
                push(heap, (-own.frequency, own.key, own))
        for child in item.children.values():
            best = child.best
            if best is not None and child is not skip:
                push(heap, (-best.frequency, best.key, child))
    return out


def ranked(node: Node, limit: int, cache_limit: int) -> list[Entry]:
    """``best_first((node,), limit)``, served from and stored in ``node.top`` when
    ``limit <= cache_limit``. The returned list may be the cached one: do not mutate it."""
    if limit > cache_limit:
        return best_first((node,), limit)
    top = node.top
    if top is not None:
        computed_for, entries = top
        # Long enough, or shorter than asked for back then: the subtree holds no more.
        if limit <= len(entries) or len(entries) < computed_for:
            return entries[:limit] if limit < len(entries) else entries
    entries = best_first((node,), limit)
    node.top = (limit, entries)
    return entries


def invalidate(node: Node | None) -> None:
    """Clear the cached rankings of ``node`` and its ancestors (their subtrees changed)."""
    while node is not None:
        node.top = None
        node = node.parent


def subtree_entries(root: Node) -> list[Entry]:
    """Every entry under ``root`` (unordered); for audits and tests, not for the hot path."""
    out: list[Entry] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.entry is not None:
            out.append(node.entry)
        stack.extend(node.children.values())
    return out
