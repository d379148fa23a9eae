from __future__ import annotations

import unicodedata

import pytest

from docstream.errors import InvalidInputError
from docstream.typeahead import Suggestion, Trie
from tests.typeahead.model import audit


def words(suggestions: list[Suggestion]) -> list[str]:
    return [s.word for s in suggestions]


def trie_of(*items: str, max_words: int = 100) -> Trie:
    trie = Trie(max_words)
    for item in items:
        trie.insert(item)
    return trie


def test_prefix_suggestions_rank_alphabetically_when_frequencies_tie() -> None:
    trie = trie_of("apple", "app", "apricot", "banana")
    assert words(trie.suggest("ap", 10)) == ["app", "apple", "apricot"]
    audit(trie)


def test_selections_rank_by_frequency() -> None:
    trie = trie_of("apple", "app", "apricot", "banana")
    trie.select("apricot")
    trie.select("apricot")
    trie.select("apple")
    assert trie.suggest("ap", 10) == [
        Suggestion("apricot", 3),
        Suggestion("apple", 2),
        Suggestion("app", 1),
    ]
    audit(trie)


def test_limit_cuts_the_ranked_list() -> None:
    trie = trie_of("apple", "app", "apricot")
    trie.select("apricot")
    assert words(trie.suggest("ap", 2)) == ["apricot", "app"]
    assert trie.suggest("ap", 0) == []


def test_negative_limit_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        trie_of("apple").suggest("a", -1)


def test_empty_prefix_ranks_every_word() -> None:
    trie = trie_of("b", "a", "c")
    trie.select("c")
    assert words(trie.suggest("", 10)) == ["c", "a", "b"]


def test_unknown_prefix_suggests_nothing() -> None:
    trie = trie_of("apple")
    assert trie.suggest("b", 10) == []
    assert trie.suggest("applesauce", 10) == []
    assert trie.suggest("apx", 10) == []


def test_insert_of_a_known_word_keeps_its_frequency() -> None:
    trie = trie_of("apple")
    trie.select("apple")
    trie.insert("apple")
    assert trie.frequency("apple") == 2
    assert len(trie) == 1


def test_select_of_an_unknown_word_inserts_it_with_frequency_one() -> None:
    trie = Trie(10)
    assert trie.select("kiwi") == 1
    assert trie.select("kiwi") == 2
    assert trie.frequency("kiwi") == 2


def test_frequency_of_an_absent_word_is_zero() -> None:
    trie = trie_of("apple")
    assert trie.frequency("pear") == 0
    assert trie.frequency("") == 0
    assert trie.get("pear") is None
    assert "pear" not in trie
    assert 42 not in trie


def test_a_full_trie_evicts_the_least_recently_used_word() -> None:
    trie = trie_of("apple", "banana", "cherry", max_words=3)
    trie.select("apple")  # apple becomes the most recently used
    trie.insert("date")
    assert "banana" not in trie
    assert sorted(trie) == ["apple", "cherry", "date"]
    assert trie.frequency("apple") == 2
    audit(trie)


def test_insert_refreshes_recency_so_the_word_survives_eviction() -> None:
    trie = trie_of("apple", "banana", "cherry", max_words=3)
    trie.insert("apple")
    trie.insert("date")
    assert "apple" in trie and "banana" not in trie


def test_queries_do_not_refresh_recency() -> None:
    trie = trie_of("apple", "banana", "cherry", max_words=3)
    trie.suggest("apple", 5)
    trie.fuzzy_suggest("aple", 5)
    trie.frequency("apple")
    trie.insert("date")
    assert "apple" not in trie


def test_eviction_prunes_the_evicted_words_private_nodes_but_keeps_shared_prefixes() -> None:
    trie = trie_of("apple", "app", "apricot", max_words=3)
    # Radix tree: "ap" -> {"p" (app) -> "le" (apple), "ricot" (apricot)}
    assert trie.node_count() == 4
    trie.insert("banana")  # evicts apple: its private node "le" goes, "app" and "ap" stay
    assert trie.node_count() == 4  # ap, p, ricot, banana
    assert words(trie.suggest("ap", 10)) == ["app", "apricot"]
    audit(trie)
    trie.insert("cherry")  # evicts app: "p" is gone and "ap" merges into "apricot"
    assert trie.node_count() == 3  # apricot, banana, cherry
    assert words(trie.suggest("ap", 10)) == ["apricot"]
    assert words(trie.suggest("a", 10)) == ["apricot"]
    audit(trie)


def test_removing_every_word_leaves_an_empty_tree() -> None:
    trie = trie_of("apple", "app", "apricot", "banana")
    for word in ["app", "banana", "apple", "apricot"]:
        assert trie.remove(word)
        audit(trie)
    assert trie.node_count() == 0
    assert len(trie) == 0
    assert trie.suggest("", 10) == []


def test_remove_reports_whether_the_word_was_there() -> None:
    trie = trie_of("apple")
    assert trie.remove("APPLE")
    assert not trie.remove("apple")
    assert not trie.remove("")
    assert trie.frequency("apple") == 0


def test_removing_the_best_word_promotes_the_next_one() -> None:
    trie = trie_of("apple", "apricot", "avocado")
    trie.select("apricot")
    trie.select("apricot")
    trie.select("avocado")
    trie.remove("apricot")
    assert trie.suggest("a", 1) == [Suggestion("avocado", 2)]
    audit(trie)


def test_lookups_are_case_insensitive_and_return_the_original_case() -> None:
    trie = trie_of("Alice Martin", "bob STONE")
    assert words(trie.suggest("al", 5)) == ["Alice Martin"]
    assert words(trie.suggest("ALICE m", 5)) == ["Alice Martin"]
    assert words(trie.suggest("Bob s", 5)) == ["bob STONE"]
    assert trie.frequency("ALICE MARTIN") == 1
    assert "alice martin" in trie


def test_the_most_recent_spelling_wins() -> None:
    trie = trie_of("iPhone")
    trie.insert("IPHONE")
    assert words(trie.suggest("i", 5)) == ["IPHONE"]
    trie.select("iphone")
    assert trie.suggest("i", 5) == [Suggestion("iphone", 2)]
    assert len(trie) == 1


def test_ties_are_broken_on_the_casefolded_key_not_the_spelling() -> None:
    trie = trie_of("banana", "Apple", "cherry")
    # Code-point order of the spellings would put "Apple" first anyway; "apple" < "banana" on keys.
    trie.insert("Zebra")
    trie.insert("yak")
    assert words(trie.suggest("", 10)) == ["Apple", "banana", "cherry", "yak", "Zebra"]


def test_accented_words_match_case_insensitively() -> None:
    trie = trie_of("Café Crème", "cafeteria", "Éclair")
    assert words(trie.suggest("café", 5)) == ["Café Crème"]
    assert words(trie.suggest("caf", 5)) == ["cafeteria", "Café Crème"]
    assert words(trie.suggest("éCL", 5)) == ["Éclair"]


def test_composed_and_decomposed_accents_are_one_key() -> None:
    decomposed = unicodedata.normalize("NFD", "Café")
    trie = trie_of("Café")
    assert words(trie.suggest(decomposed, 5)) == ["Café"]
    trie.insert(decomposed)
    assert len(trie) == 1


def test_german_sharp_s_folds_to_ss() -> None:
    trie = trie_of("Straße")
    assert words(trie.suggest("STRASS", 5)) == ["Straße"]
    assert words(trie.suggest("strass", 5)) == ["Straße"]
    trie.select("STRASSE")
    assert trie.get("straße") == Suggestion("STRASSE", 2)
    assert len(trie) == 1


def test_cjk_and_emoji_words() -> None:
    trie = trie_of("東京タワー", "東京駅", "大阪", "🎉 launch party", "🎉🎉 double")
    assert words(trie.suggest("東京", 5)) == ["東京タワー", "東京駅"]
    assert words(trie.suggest("🎉", 5)) == ["🎉 launch party", "🎉🎉 double"]
    assert words(trie.suggest("🎉🎉", 5)) == ["🎉🎉 double"]
    audit(trie)


@pytest.mark.parametrize("bad", ["", " ", "\t\n ", "\u3000"])
def test_blank_words_are_refused(bad: str) -> None:
    trie = Trie(5)
    with pytest.raises(InvalidInputError):
        trie.insert(bad)
    with pytest.raises(InvalidInputError):
        trie.select(bad)
    assert len(trie) == 0


def test_non_text_words_are_refused() -> None:
    trie = Trie(5)
    with pytest.raises(InvalidInputError):
        trie.insert(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        trie.insert("lone \ud800 surrogate")
    with pytest.raises(InvalidInputError):
        trie.suggest(None, 5)  # type: ignore[arg-type]


def test_words_with_surrounding_spaces_are_stored_as_given() -> None:
    trie = trie_of(" padded ")
    assert words(trie.suggest(" pad", 5)) == [" padded "]
    assert trie.suggest("pad", 5) == []


@pytest.mark.parametrize("bad", [0, -1])
def test_max_words_must_be_positive(bad: int) -> None:
    with pytest.raises(InvalidInputError):
        Trie(bad)


def test_items_round_trip_in_lru_order() -> None:
    trie = trie_of("apple", "banana", "cherry", max_words=3)
    trie.select("apple")
    trie.select("banana")
    trie.insert("Cherry")
    items = trie.items_lru()
    assert items == [("apple", 2), ("banana", 2), ("Cherry", 1)]
    copy = Trie.from_items(3, items)
    assert copy.items_lru() == items
    audit(copy)
    # The same eviction follows in both.
    trie.insert("date")
    copy.insert("date")
    assert copy.items_lru() == trie.items_lru()


def test_from_items_beyond_max_words_keeps_the_most_recent() -> None:
    copy = Trie.from_items(2, [("a", 5), ("b", 1), ("c", 2)])
    assert copy.items_lru() == [("b", 1), ("c", 2)]


def test_from_items_takes_the_later_of_a_repeated_key() -> None:
    copy = Trie.from_items(5, [("apple", 5), ("banana", 1), ("APPLE", 2)])
    assert copy.items_lru() == [("banana", 1), ("APPLE", 2)]
    audit(copy)


@pytest.mark.parametrize("frequency", [0, -3, 1.5])
def test_from_items_refuses_bad_frequencies(frequency: float) -> None:
    with pytest.raises(InvalidInputError):
        Trie.from_items(5, [("apple", frequency)])  # type: ignore[list-item]


def test_clear_forgets_everything() -> None:
    trie = trie_of("apple", "banana")
    trie.clear()
    assert len(trie) == 0 and trie.node_count() == 0 and trie.suggest("", 5) == []
    trie.insert("cherry")
    assert words(trie.suggest("c", 5)) == ["cherry"]
    audit(trie)


def test_suggest_returns_many_ranked_results_from_a_large_subtree() -> None:
    trie = Trie(5000)
    for i in range(2000):
        trie.insert(f"title {i:04d}")
    for i in range(0, 2000, 7):
        trie.select(f"title {i:04d}")
    top = trie.suggest("title", 400)
    assert len(top) == 400
    assert [s.frequency for s in top[:286]] == [2] * 286
    assert words(top[:3]) == ["title 0000", "title 0007", "title 0014"]
    assert words(top[286:289]) == ["title 0001", "title 0002", "title 0003"]
    audit(trie)
