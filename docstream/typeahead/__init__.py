"""The typeahead engine: a ranked, bounded, case-insensitive trie and its durable wrapper.

- :class:`Trie` (pure, in memory): ``insert``/``select``/``remove``, ``suggest`` (prefix) and
  ``fuzzy_suggest`` (prefix at edit distance one), LRU eviction at ``max_words``.
- :class:`DurableTrie`: the same reads plus durable writes (WAL + atomic snapshots under a
  directory), thread-safe, recovered by :meth:`DurableTrie.open`.

The services (titles, mentions, words) build on these; nothing here does network I/O.
"""

from docstream.typeahead.durable import DurableTrie, DurableTrieStats, Mutation, RecoveryReport
from docstream.typeahead.trie import Suggestion, Trie
from docstream.typeahead.wal import Op

__all__ = [
    "DurableTrie",
    "DurableTrieStats",
    "Mutation",
    "Op",
    "RecoveryReport",
    "Suggestion",
    "Trie",
]
