from __future__ import annotations

from docstream.typeahead import Suggestion, Trie
from tests.typeahead.model import ModelTrie, osa_distance


def words(suggestions: list[Suggestion]) -> list[str]:
    return [s.word for s in suggestions]


def trie_of(*items: str) -> Trie:
    trie = Trie(100)
    for item in items:
        trie.insert(item)
    return trie


SEED_WORDS = ("app", "apq", "aple", "appple", "appel")


def test_seed_words_within_one_edit_of_the_prefix() -> None:
    trie = trie_of(*SEED_WORDS)
    # "app" (delete l), "aple" (delete a p), "appel" (substitute l by e), "appple" (insert a p);
    # "apq" is two edits from "appl" and from each of its prefixes.
    assert words(trie.fuzzy_suggest("appl", 10)) == ["aple", "app", "appel", "appple"]


def test_seed_words_exact_prefix_matches_come_first() -> None:
    trie = trie_of(*SEED_WORDS)
    for _ in range(3):
        trie.select("aple")
    # The exact match of "appe" comes first, although the fuzzy "aple" is more frequent.
    assert trie.fuzzy_suggest("appe", 10) == [
        Suggestion("appel", 1),
        Suggestion("aple", 4),
        Suggestion("app", 1),
        Suggestion("appple", 1),
    ]
    # Only fuzzy matches: ranked by frequency, then alphabetically; "app" is two edits away.
    assert words(trie.fuzzy_suggest("apple", 10)) == ["aple", "appel", "appple"]


def test_a_missing_letter_finds_the_word() -> None:
    trie = trie_of("apple", "banana", "cherry")
    assert words(trie.fuzzy_suggest("aple", 5)) == ["apple"]


def test_a_wrong_last_letter_finds_the_word() -> None:
    trie = trie_of("apple", "banana", "cherry")
    assert words(trie.fuzzy_suggest("banax", 5)) == ["banana"]


def test_an_extra_letter_finds_the_word() -> None:
    trie = trie_of("apple", "banana")
    assert words(trie.fuzzy_suggest("bannan", 5)) == ["banana"]


def test_swapped_adjacent_letters_find_the_word() -> None:
    trie = trie_of("apple", "banana")
    assert words(trie.fuzzy_suggest("abnan", 5)) == ["banana"]
    assert words(trie.fuzzy_suggest("aplpe", 5)) == ["apple"]


def test_two_edits_find_nothing() -> None:
    trie = trie_of("apple", "banana")
    assert trie.fuzzy_suggest("axxle", 5) == []
    assert trie.fuzzy_suggest("bxnxna", 5) == []


def test_short_queries_stay_prefix_only() -> None:
    trie = trie_of("apple", "banana", "xylophone")
    assert words(trie.fuzzy_suggest("ap", 5)) == ["apple"]
    assert trie.fuzzy_suggest("bp", 5) == []
    assert trie.fuzzy_suggest("x", 5) == [Suggestion("xylophone", 1)]
    assert trie.fuzzy_suggest("q", 5) == []


def test_fuzzy_matches_rank_by_frequency_then_alphabetically() -> None:
    trie = trie_of("banana", "bandana", "banyan", "cabana")
    trie.select("banyan")
    assert words(trie.fuzzy_suggest("banaxa", 10)) == ["banana"]
    assert words(trie.fuzzy_suggest("bana", 10)) == ["banana", "banyan", "bandana"]


def test_fuzzy_respects_the_limit_and_never_repeats_a_word() -> None:
    trie = trie_of(*[f"apple {i}" for i in range(20)], "aple", "appel", "apply")
    results = trie.fuzzy_suggest("appl", 25)
    assert len(results) == len(set(words(results))) == 23
    assert len(trie.fuzzy_suggest("appl", 4)) == 4
    assert trie.fuzzy_suggest("appl", 0) == []


def test_fuzzy_is_case_insensitive_and_returns_the_original_case() -> None:
    trie = trie_of("Apple Pie", "STRASSE")
    assert words(trie.fuzzy_suggest("APLE", 5)) == ["Apple Pie"]
    assert words(trie.fuzzy_suggest("StraXs", 5)) == ["STRASSE"]
    assert words(trie.fuzzy_suggest("straße", 5)) == ["STRASSE"]


def test_fuzzy_over_cjk_and_emoji() -> None:
    trie = trie_of("東京タワー", "🎉 launch party")
    assert words(trie.fuzzy_suggest("東京ワタ", 5)) == ["東京タワー"]
    assert words(trie.fuzzy_suggest("🎉 lunch", 5)) == ["🎉 launch party"]


def test_osa_distance_reference() -> None:
    assert osa_distance("appl", "aple") == 2
    assert osa_distance("abcd", "acbd") == 1
    assert osa_distance("", "ab") == 2
    assert osa_distance("banax", "banan") == 1


def test_fuzzy_agrees_with_brute_force_on_a_dense_vocabulary() -> None:
    alphabet = "abc"
    vocab = [a + b + c + d for a in alphabet for b in alphabet for c in alphabet for d in "ab"]
    trie = Trie(1000)
    model = ModelTrie(1000)
    for i, word in enumerate(vocab):
        trie.insert(word)
        model.insert(word)
        if i % 5 == 0:
            trie.select(word)
            model.select(word)
    for query in ["abc", "cab", "bbb", "aaab", "abca", "cccc", "acba", "bacb"]:
        for limit in (1, 5, 20, 100):
            expected = model.fuzzy_suggest(query, limit)
            got = [(s.word, s.frequency) for s in trie.fuzzy_suggest(query, limit)]
            assert got == expected, (query, limit)
