"""Prefix search at edit distance one (optimal string alignment) over the radix tree.

A word matches a query fuzzily when some prefix of the word is one edit away from the query: one
substitution, insertion, deletion, or transposition of two adjacent characters. ``"aple"`` reaches
``apple`` (insert ``p``), ``"banax"`` reaches ``banana`` (substitute ``x``).

With a budget of one edit the search needs no dynamic-programming rows: the characters before the
edit must match exactly, and a trie has exactly one path for them, so we walk the query's own path
once and, at each position ``i``, try the edits at ``i`` and match the rest of the query exactly
from there. Substitution and insertion branch over the characters that actually follow (one in the
middle of an edge, a node's children at a branch point), so the cost is about
``len(query) * branching * (a few characters)`` whatever the number of words. Each successful walk
ends at a node whose whole subtree matches; the caller ranks the union of those subtrees.

Inserting a character at the end of the query gives words that start with the query itself, the
exact matches, which the caller ranks separately; that edit is not generated here.
"""

from __future__ import annotations

from collections.abc import Iterator

from docstream.typeahead.node import Node

#: A position in the tree: a node and how many characters of its edge have been consumed.
Position = tuple[Node, int]

#: Queries whose key is this short or shorter are answered by exact prefix only.
MIN_FUZZY_LENGTH = 3


def walk(position: Position | None, text: str, start: int = 0) -> Position | None:
    """Follow ``text[start:]`` exactly from ``position``; None if the tree has no such path.

    Taking an offset instead of a slice keeps a long query from being copied once per position.
    """
    if position is None:
        return None
    node, offset = position
    i = start
    n = len(text)
    while i < n:
        edge = node.edge
        if offset == len(edge):
            child = node.children.get(text[i])
            if child is None:
                return None
            node, offset, edge = child, 0, child.edge
        take = min(len(edge) - offset, n - i)
        if not text.startswith(edge[offset : offset + take], i):
            return None
        offset += take
        i += take
    return node, offset


def following(position: Position) -> Iterator[tuple[str, Position]]:
    """Each character that can follow ``position`` and the position after it."""
    node, offset = position
    edge = node.edge
    if offset < len(edge):
        yield edge[offset], (node, offset + 1)
    else:
        for char, child in node.children.items():
            yield char, (child, 1)


def fuzzy_roots(root: Node, key: str, exact: Node | None) -> list[Node]:
    """Disjoint subtree roots holding every word with a prefix one edit away from ``key``.

    Args:
        root: the tree's root.
        key: the casefolded query.
        exact: the node of the exact-prefix matches (``locate(root, key)``), if any. Roots inside
            its subtree are dropped; callers skip it when a returned root contains it.
    """
    found: dict[int, Node] = {}

    def add(position: Position | None) -> None:
        if position is not None:
            found[id(position[0])] = position[0]

    n = len(key)
    position: Position | None = (root, 0)
    for i in range(n):
        assert position is not None
        # Deletion of key[i], and transposition of key[i] and key[i + 1].
        add(walk(position, key, i + 1))
        if i + 1 < n and key[i] != key[i + 1]:
            add(walk(walk(position, key[i + 1] + key[i]), key, i + 2))
        # Substitution of key[i] by, and insertion before key[i] of, each character the tree has.
        for char, after in following(position):
            if char != key[i]:
                add(walk(after, key, i + 1))
            add(walk(after, key, i))
        position = walk(position, key[i])
        if position is None:
            break
    return _outermost(found, exact)


def _outermost(found: dict[int, Node], exact: Node | None) -> list[Node]:
    """Drop roots nested under another root or under the exact-match node."""
    out: list[Node] = []
    for node in found.values():
        if node is exact:
            continue
        ancestor = node.parent
        nested = False
        while ancestor is not None:
            if id(ancestor) in found or ancestor is exact:
                nested = True
                break
            ancestor = ancestor.parent
        if not nested:
            out.append(node)
    return out
