"""The trie against the slow model, over random operation sequences on a tiny, clashing alphabet."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from docstream.typeahead import Trie
from docstream.typeahead.trie import fold
from tests.typeahead.model import ModelTrie, audit

# Case variants, "ß" (folds to "ss") and a combining accent make keys clash.
ALPHABET = "abAB sß\u0301é"
word_text = st.text(alphabet=ALPHABET, min_size=1, max_size=6).filter(lambda w: not w.isspace())
query_text = st.text(alphabet=ALPHABET, max_size=5)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), word_text),
        st.tuples(st.just("select"), word_text),
        st.tuples(st.just("remove"), word_text),
        st.tuples(st.just("suggest"), query_text, st.integers(0, 8)),
        st.tuples(st.just("fuzzy"), query_text, st.integers(0, 8)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(max_words=st.integers(1, 8), cache_limit=st.sampled_from([0, 2, 64]), ops=operations)
def test_trie_behaves_like_the_model(
    max_words: int, cache_limit: int, ops: list[tuple[object, ...]]
) -> None:
    trie = Trie(max_words, cache_limit=cache_limit)
    model = ModelTrie(max_words)
    for op in ops:
        name = op[0]
        if name == "insert":
            trie.insert(str(op[1]))
            model.insert(str(op[1]))
        elif name == "select":
            trie.select(str(op[1]))
            model.select(str(op[1]))
        elif name == "remove":
            assert trie.remove(str(op[1])) == model.remove(str(op[1]))
        elif name == "suggest":
            got = trie.suggest(str(op[1]), int(op[2]))  # type: ignore[call-overload]
            assert [(s.word, s.frequency) for s in got] == model.suggest(str(op[1]), int(op[2]))  # type: ignore[call-overload]
        else:
            got = trie.fuzzy_suggest(str(op[1]), int(op[2]))  # type: ignore[call-overload]
            expected = model.fuzzy_suggest(str(op[1]), int(op[2]))  # type: ignore[call-overload]
            assert [(s.word, s.frequency) for s in got] == expected
        audit(trie)
    assert trie.items_lru() == model.items_lru()
    rebuilt = Trie.from_items(max_words, trie.items_lru())
    assert rebuilt.items_lru() == trie.items_lru()
    audit(rebuilt)


@settings(max_examples=300, deadline=None)
@given(
    max_words=st.integers(1, 8),
    items=st.lists(st.tuples(word_text, st.integers(1, 5)), max_size=30),
    prefix=query_text,
)
def test_from_items_builds_what_sequential_inserts_would(
    max_words: int, items: list[tuple[str, int]], prefix: str
) -> None:
    rebuilt = Trie.from_items(max_words, items)
    audit(rebuilt)
    # The same content built the slow way: insert, then select up to the frequency.
    expected: dict[str, tuple[str, int]] = {}
    for word, frequency in items:
        expected.pop(fold(word), None)
        expected[fold(word)] = (word, frequency)
    assert rebuilt.items_lru() == list(expected.values())[-max_words:]
    model = ModelTrie(max_words)
    for word, frequency in rebuilt.items_lru():
        model.insert(word)
        for _ in range(frequency - 1):
            model.select(word)
    got = [(s.word, s.frequency) for s in rebuilt.suggest(prefix, 5)]
    assert got == model.suggest(prefix, 5)
