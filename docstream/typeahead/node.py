"""The radix-tree nodes under :class:`~docstream.typeahead.trie.Trie`, and the ranked search.

Why a radix tree (edges labelled with strings, not single characters): 100,000 titles of ~40
characters make ~2.5 million one-character nodes, several hundred MB of Python objects;
compressing the chains leaves under two nodes per word. Every non-root node either ends a word
(``entry``) or branches (two or more children); pruning after a removal restores that invariant
by dropping a childless node and merging a non-word node that has one child left into that child.

Why ``best``: each node keeps a reference to the best-ranked entry of its subtree (highest
frequency, then smallest key). A subtree's ``best`` is never worse than anything in it, so a
best-first search (a heap of nodes keyed by their ``best`` plus entries keyed by themselves) pops
the top ``limit`` words after visiting only the nodes on their paths and those paths' siblings,
however many words share a short prefix. A mutation keeps ``best`` exact along the one path it
touches.

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

    __slots__ = ("best", "children", "edge", "entry", "parent")

    def __init__(self, edge: str, parent: Node | None) -> None:
        self.edge = edge
        self.parent = parent
        self.children: dict[str, Node] = {}
        self.entry: Entry | None = None
        self.best: Entry | None = None


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
    # Heap items: (-frequency, key, tiebreak, node or None, entry). Keys are unique within a
    # trie, so the tiebreak only keeps the comparison away from the objects.
    heap: list[tuple[int, str, int, Node | None, Entry]] = []
    seq = 0
    for root in roots:
        best = root.best
        if best is not None and root is not skip:
            heap.append((-best.frequency, best.key, seq, root, best))
            seq += 1
    heapq.heapify(heap)
    push = heapq.heappush
    pop = heapq.heappop
    while heap:
        _, _, _, node, entry = pop(heap)
        if node is None:
            out.append(entry)
            if len(out) >= limit:
                break
            continue
        own = node.entry
        if own is not None:
            if own is entry:
                # The node's best is its own word and nothing left in the heap ranks higher.
                out.append(own)
                if len(out) >= limit:
                    break
            else:
                push(heap, (-own.frequency, own.key, seq, None, own))
                seq += 1
        for child in node.children.values():
            best = child.best
            if best is not None and child is not skip:
                push(heap, (-best.frequency, best.key, seq, child, best))
                seq += 1
    return out


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
