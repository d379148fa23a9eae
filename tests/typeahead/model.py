"""A slow, obviously correct model of the trie's behaviour, and an audit of the tree's invariants.

The property tests run the same operations on :class:`ModelTrie` and on the real
:class:`~docstream.typeahead.Trie` and compare every answer.
"""

from __future__ import annotations

from collections import OrderedDict

from docstream.typeahead.node import Node, best_first, better, subtree_entries
from docstream.typeahead.trie import Trie, fold


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau–Levenshtein without repeated edits)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


class ModelTrie:
    """The specification as a dict: key -> [spelling, frequency], least recently used first."""

    def __init__(self, max_words: int) -> None:
        self.max_words = max_words
        self.items: OrderedDict[str, list[object]] = OrderedDict()

    def _touch(self, word: str, increment: int) -> None:
        key = fold(word)
        if key in self.items:
            self.items.move_to_end(key)
            self.items[key][0] = word
            self.items[key][1] = int(self.items[key][1]) + increment  # type: ignore[call-overload]
            return
        if len(self.items) >= self.max_words:
            self.items.popitem(last=False)
        self.items[key] = [word, 1]

    def insert(self, word: str) -> None:
        self._touch(word, 0)

    def select(self, word: str) -> None:
        self._touch(word, 1)

    def remove(self, word: str) -> bool:
        return self.items.pop(fold(word), None) is not None

    def _ranked(self, keys: list[str]) -> list[tuple[str, int]]:
        keys.sort(key=lambda k: (-int(self.items[k][1]), k))  # type: ignore[call-overload]
        return [(str(self.items[k][0]), int(self.items[k][1])) for k in keys]  # type: ignore[call-overload]

    def suggest(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        q = fold(prefix)
        return self._ranked([k for k in self.items if k.startswith(q)])[:limit]

    def fuzzy_suggest(self, query: str, limit: int) -> list[tuple[str, int]]:
        q = fold(query)
        exact = self.suggest(query, limit)
        if len(exact) >= limit or len(q) < 3:
            return exact
        fuzzy = [
            k
            for k in self.items
            if not k.startswith(q)
            and any(osa_distance(q, k[:m]) <= 1 for m in range(len(q) - 1, len(q) + 2))
        ]
        return exact + self._ranked(fuzzy)[: limit - len(exact)]

    def items_lru(self) -> list[tuple[str, int]]:
        return [(str(w), int(f)) for w, f in self.items.values()]  # type: ignore[call-overload]


def audit(trie: Trie) -> None:
    """Assert every structural invariant of the radix tree and its bookkeeping."""
    root = trie._root
    assert root.parent is None and root.edge == "" and root.entry is None
    seen = []
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node is not root:
            assert node.edge, "only the root has an empty edge"
            assert node.entry is not None or len(node.children) >= 2, f"unpruned node at {path!r}"
        for first, child in node.children.items():
            assert child.parent is node
            assert child.edge[0] == first
            stack.append((child, path + child.edge))
        if node.entry is not None:
            assert node.entry.node is node
            assert node.entry.key == path
            seen.append(node.entry)
        entries = subtree_entries(node)
        if not entries:
            assert node.best is None and node is root
        else:
            expected = entries[0]
            for e in entries[1:]:
                if better(e, expected):
                    expected = e
            assert node.best is expected, f"stale best at {path!r}"
        if node.top is not None:
            computed_for, cached = node.top
            assert cached == best_first((node,), computed_for), f"stale cache at {path!r}"
    assert sorted(e.key for e in seen) == sorted(trie._lru)
    assert all(trie._lru[e.key] is e for e in seen)
    assert len(trie) <= trie.max_words
