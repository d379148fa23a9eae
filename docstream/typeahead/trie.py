"""The typeahead trie: case-insensitive prefix and fuzzy suggestions by frequency, LRU-bounded.

Pure and synchronous: no I/O, no locks (one thread at a time; :class:`DurableTrie` adds persistence
and locking). Words are any non-blank Unicode text.

- **Keys.** A word's key is ``NFC(casefold(word))``, so ``"Straße"``, ``"STRASSE"`` and
  ``"strasse"`` are one key, as are a precomposed ``"é"`` and ``"e"`` + combining acute. Queries
  are folded the same way. A key remembers the spelling of the most recent :meth:`Trie.insert`
  or :meth:`Trie.select`.
- **Ranking.** Frequency descending, then key by code point (keys are unique: a total order).
- **Recency.** :meth:`Trie.insert` and :meth:`Trie.select` make a word the most recently used;
  queries (:meth:`Trie.suggest`, :meth:`Trie.frequency`, ...) do not. When ``max_words`` words are
  stored, adding a new one evicts the least recently used.
- **Cost.** insert/select/remove/evict: O(key length + depth * branching). ``suggest``: O(limit)
  when the prefix's ranking is cached, else a best-first search of O(limit * depth * branching *
  log) thanks to the per-node best entry (see :mod:`docstream.typeahead.node`), however many words
  share the prefix. ``fuzzy_suggest`` adds O(len(query) * branching) exact walks
  (:mod:`docstream.typeahead.fuzzy`).
"""

from __future__ import annotations

import gc
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import msgspec

from docstream.errors import InvalidInputError
from docstream.typeahead.fuzzy import MIN_FUZZY_LENGTH, fuzzy_roots
from docstream.typeahead.node import (
    Entry,
    Node,
    best_first,
    better,
    invalidate,
    locate,
    ranked,
    recompute_best,
)


class Suggestion(msgspec.Struct, frozen=True, gc=False):
    """One suggested word (in its stored spelling) and how often it was selected."""

    word: str
    frequency: int


def fold(text: str) -> str:
    """The case- and normalization-insensitive key of ``text``."""
    return unicodedata.normalize("NFC", text.casefold())


def check_word(word: object) -> str:
    """Validate a word to be stored and return its key.

    Raises:
        InvalidInputError: not a string, empty, whitespace only, or not encodable (lone surrogates).
    """
    if not isinstance(word, str):
        raise InvalidInputError(f"a typeahead word must be a string, not {type(word).__name__}")
    if not word or word.isspace():
        raise InvalidInputError("a typeahead word must not be empty or whitespace only")
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("a typeahead word must be valid Unicode text") from None
    return fold(word)


def _check_limit(limit: int) -> None:
    if not isinstance(limit, int) or limit < 0:
        raise InvalidInputError(f"limit must be a non-negative integer, not {limit!r}")


class Trie:
    """A bounded, case-insensitive word store with ranked prefix and fuzzy suggestions.

    Args:
        max_words: the most words kept; adding one more evicts the least recently used.
        cache_limit: :meth:`suggest` results for up to this many words are cached per prefix node
            until a mutation touches that subtree; 0 turns the cache off.

    Raises:
        InvalidInputError: ``max_words`` below 1 or a negative ``cache_limit``.
    """

    def __init__(self, max_words: int, *, cache_limit: int = 64) -> None:
        if not isinstance(max_words, int) or max_words < 1:
            raise InvalidInputError(f"max_words must be a positive integer, not {max_words!r}")
        if not isinstance(cache_limit, int) or cache_limit < 0:
            raise InvalidInputError(
                f"cache_limit must be a non-negative integer, not {cache_limit!r}"
            )
        self.max_words = max_words
        self.cache_limit = cache_limit
        self._root = Node("", None)
        # Key -> entry, least recently used first.
        self._lru: OrderedDict[str, Entry] = OrderedDict()

    @classmethod
    def from_items(
        cls, max_words: int, items: Iterable[tuple[str, int]], *, cache_limit: int = 64
    ) -> Trie:
        """Rebuild a trie from ``(word, frequency)`` pairs, least recently used first.

        The result has exactly these frequencies, spellings and recency order, as if the words had
        been inserted in this order (so past ``max_words`` the earliest are evicted). A key that
        appears twice takes the later spelling, frequency and position. The tree is built in one
        pass over the sorted keys, several times faster than inserting the words one by one.

        Raises:
            InvalidInputError: an invalid word or a frequency below 1.
        """
        trie = cls(max_words, cache_limit=cache_limit)
        latest: dict[str, tuple[str, int]] = {}  # key -> (spelling, frequency), in recency order
        for word, frequency in items:
            if not isinstance(frequency, int) or frequency < 1:
                raise InvalidInputError(f"frequency must be a positive integer, not {frequency!r}")
            key = check_word(word)
            latest.pop(key, None)
            latest[key] = (word, frequency)
        keys = list(latest)[-max_words:]
        # A bulk load allocates a few hundred thousand long-lived objects and frees none; the
        # cyclic collector would rescan the growing heap many times over (half the load time).
        collecting = gc.isenabled()
        gc.disable()
        try:
            nodes = trie._build(sorted(keys))
            for key in keys:
                word, frequency = latest[key]
                node = nodes[key]
                node.entry = trie._lru[key] = Entry(key, word, frequency, node)
            trie._compute_bests()
        finally:
            if collecting:
                gc.enable()
        return trie

    # --- mutations ---------------------------------------------------------------------------

    def insert(self, word: str) -> None:
        """Add ``word`` with frequency 1, or keep its frequency if present; it becomes most recent.

        Raises:
            InvalidInputError: see :func:`check_word`.
        """
        self._touch(check_word(word), word, 0)

    def select(self, word: str) -> int:
        """Count one more use of ``word`` (adding it with frequency 1 if absent); it becomes most
        recent. Returns the new frequency.

        Raises:
            InvalidInputError: see :func:`check_word`.
        """
        return self._touch(check_word(word), word, 1).frequency

    def remove(self, word: str) -> bool:
        """Forget ``word``; return whether it was stored."""
        if not isinstance(word, str):
            return False
        entry = self._lru.pop(fold(word), None)
        if entry is None:
            return False
        self._detach(entry)
        return True

    def clear(self) -> None:
        """Forget every word."""
        self._root = Node("", None)
        self._lru.clear()

    # --- queries -----------------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        """Up to ``limit`` words starting with ``prefix`` (case-insensitively), best ranked first.

        An empty prefix ranks every word.

        Raises:
            InvalidInputError: ``prefix`` not a string, or ``limit`` negative.
        """
        key = self._query_key(prefix)
        _check_limit(limit)
        node = locate(self._root, key)
        if node is None:
            return []
        return [Suggestion(e.word, e.frequency) for e in ranked(node, limit, self.cache_limit)]

    def fuzzy_suggest(self, query: str, limit: int) -> list[Suggestion]:
        """Like :meth:`suggest`, then words whose prefix is one edit away from ``query``.

        Exact-prefix matches come first; fuzzy ones fill the rest of ``limit`` in the same ranking.
        An edit is a substitution, insertion, deletion, or transposition of adjacent characters.
        Queries of one or two characters (after folding) are answered by exact prefix only.

        Raises:
            InvalidInputError: ``query`` not a string, or ``limit`` negative.
        """
        key = self._query_key(query)
        _check_limit(limit)
        exact_node = locate(self._root, key)
        exact = [] if exact_node is None else list(ranked(exact_node, limit, self.cache_limit))
        if len(exact) < limit and len(key) >= MIN_FUZZY_LENGTH:
            roots = fuzzy_roots(self._root, key, exact_node)
            exact += best_first(roots, limit - len(exact), skip=exact_node)
        return [Suggestion(e.word, e.frequency) for e in exact]

    def frequency(self, word: str) -> int:
        """How often ``word`` was selected (1 once inserted); 0 if it is not stored."""
        if not isinstance(word, str):
            return 0
        entry = self._lru.get(fold(word))
        return 0 if entry is None else entry.frequency

    def get(self, word: str) -> Suggestion | None:
        """The stored spelling and frequency of ``word``, or None."""
        if not isinstance(word, str):
            return None
        entry = self._lru.get(fold(word))
        return None if entry is None else Suggestion(entry.word, entry.frequency)

    def items_lru(self) -> list[tuple[str, int]]:
        """All ``(word, frequency)``, least recently used first; the input of :meth:`from_items`."""
        return [(e.word, e.frequency) for e in self._lru.values()]

    def __len__(self) -> int:
        return len(self._lru)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and fold(word) in self._lru

    def __iter__(self) -> Iterator[str]:
        """The stored spellings, least recently used first."""
        return (e.word for e in self._lru.values())

    def node_count(self) -> int:
        """The number of tree nodes below the root (introspection for tests and memory checks)."""
        count = -1
        stack = [self._root]
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(node.children.values())
        return count

    # --- internals ---------------------------------------------------------------------------

    @staticmethod
    def _query_key(text: object) -> str:
        if not isinstance(text, str):
            raise InvalidInputError(
                f"a typeahead query must be a string, not {type(text).__name__}"
            )
        return fold(text)

    def _touch(self, key: str, word: str, increment: int) -> Entry:
        """Store or update ``key``, make it most recent, and keep the ``best`` on its path exact."""
        entry = self._lru.get(key)
        if entry is None:
            if len(self._lru) >= self.max_words:
                _, evicted = self._lru.popitem(last=False)
                self._detach(evicted)
            node = self._node_for(key)
            entry = Entry(key, word, 1, node)
            node.entry = entry
            self._lru[key] = entry
            self._promote(node, entry)
            invalidate(node)
            return entry
        self._lru.move_to_end(key)
        entry.word = word
        if increment:
            entry.frequency += increment
            self._promote(entry.node, entry)
            invalidate(entry.node)
        return entry

    def _build(self, sorted_keys: list[str]) -> dict[str, Node]:
        """Build the tree of an empty trie from distinct sorted keys in one pass; return each
        key's node. Each key shares with the previous one the path up to their common prefix,
        so only that path (a stack) is live: deeper nodes are done, and an edge that runs past
        the common prefix is split there."""
        nodes: dict[str, Node] = {}
        stack: list[tuple[Node, int]] = [(self._root, 0)]  # (node, key length at its end)
        previous = ""
        for key in sorted_keys:
            limit = min(len(previous), len(key))
            common = 0
            while common < limit and previous[common] == key[common]:
                common += 1
            done: Node | None = None
            while stack[-1][1] > common:
                done = stack.pop()[0]
            parent, depth = stack[-1]
            if depth < common:
                assert done is not None  # the previous key's path went deeper than ``common``
                middle = Node(done.edge[: common - depth], parent)
                parent.children[done.edge[0]] = middle
                done.edge = done.edge[common - depth :]
                done.parent = middle
                middle.children[done.edge[0]] = done
                stack.append((middle, common))
                parent = middle
            leaf = Node(key[common:], parent)
            parent.children[key[common]] = leaf
            stack.append((leaf, len(key)))
            nodes[key] = leaf
            previous = key
        return nodes

    def _compute_bests(self) -> None:
        """Set every node's ``best`` from the leaves up."""
        order = [self._root]
        for node in order:  # grows while iterating: a breadth-first listing
            order.extend(node.children.values())
        for node in reversed(order):
            node.best = recompute_best(node)

    def _node_for(self, key: str) -> Node:
        """The node that ends exactly at ``key``, splitting an edge or adding a leaf as needed."""
        node = self._root
        i = 0
        n = len(key)
        while i < n:
            child = node.children.get(key[i])
            if child is None:
                leaf = Node(key[i:], node)
                node.children[key[i]] = leaf
                return leaf
            edge = child.edge
            if key.startswith(edge, i):  # the usual case: follow the whole edge
                node = child
                i += len(edge)
                continue
            j = 1  # edge[0] == key[i] by the dict key
            limit = min(len(edge), n - i)
            while j < limit and edge[j] == key[i + j]:
                j += 1
            # Split the edge: a new middle node takes edge[:j]; the child keeps its identity.
            middle = Node(edge[:j], node)
            middle.best = child.best
            node.children[key[i]] = middle
            child.edge = edge[j:]
            child.parent = middle
            middle.children[child.edge[0]] = child
            node = middle
            i += j
        return node

    @staticmethod
    def _promote(node: Node | None, entry: Entry) -> None:
        """``entry`` was added or ranks higher than before: raise it along the path to the root."""
        while node is not None:
            best = node.best
            if best is not entry:
                if best is not None and not better(entry, best):
                    return
                node.best = entry
            node = node.parent

    @staticmethod
    def _demote(node: Node | None, entry: Entry) -> None:
        """``entry`` was removed: recompute the bests it held, from ``node`` up."""
        while node is not None and node.best is entry:
            node.best = recompute_best(node)
            node = node.parent
        # A node whose best is not ``entry`` keeps its best, and so do all nodes above it: an
        # ancestor's best is the best of a larger subtree that contains this one.

    def _detach(self, entry: Entry) -> None:
        """Take ``entry`` out of the tree, prune nodes left empty, and fix the bests above."""
        node = entry.node
        node.entry = None
        parent = node.parent
        assert parent is not None  # the root never holds an entry: keys are non-empty
        if not node.children:
            del parent.children[node.edge[0]]
            grandparent = parent.parent
            if grandparent is not None and parent.entry is None and len(parent.children) == 1:
                self._merge_into_child(parent)
                start = grandparent
            else:
                start = parent
        elif len(node.children) == 1:
            self._merge_into_child(node)
            start = parent
        else:
            start = node
        self._demote(start, entry)
        invalidate(start)

    @staticmethod
    def _merge_into_child(node: Node) -> None:
        """Replace a word-less node with one child by that child (which keeps its identity)."""
        parent = node.parent
        assert parent is not None
        (child,) = node.children.values()
        child.edge = node.edge + child.edge
        child.parent = parent
        parent.children[child.edge[0]] = child
        node.parent = None
        node.children = {}
