"""WordService: what a word is, open documents (their seq, rebuilds) and stored texts.

The Hub is replaced by an in-memory fake with the same members (``open_seq``, ``open_text``,
``current_text``); the real Room and Hub are exercised through a server in
tests/collab/test_suggest.py.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass, field

import pytest

from docstream.collab.extensions import RoomStopped
from docstream.services.typeahead.words import WordService, index_text, words_of
from docstream.settings import Settings
from tests.typeahead.conftest import FakeClock


@dataclass(eq=False)
class FakeRoom:
    text: str = ""
    seq: int = 0
    closing: bool = False
    reads: int = 0  # of the live text

    def edit(self, text: str) -> None:
        self.text = text
        self.seq += 1


@dataclass
class FakeHub:
    rooms: dict[str, FakeRoom] = field(default_factory=dict)
    stored: dict[str, tuple[str, int]] = field(default_factory=dict)
    loads: int = 0

    def open_seq(self, doc_id: str) -> int | None:
        room = self.rooms.get(doc_id)
        return None if room is None or room.closing else room.seq

    def open_text(self, doc_id: str) -> tuple[str, int] | None:
        room = self.rooms.get(doc_id)
        if room is None or room.closing:
            return None
        room.reads += 1
        return room.text, room.seq

    async def current_text(self, doc_id: str) -> tuple[str, int]:
        self.loads += 1
        room = self.rooms.get(doc_id)
        if room is not None and not room.closing:
            return room.text, room.seq
        return self.stored[doc_id]


def pairs(found: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [(s.word, s.frequency) for s in found]


# --- what a word is ------------------------------------------------------------------------


def test_words_are_letters_digits_and_underscores_of_two_or_more_characters() -> None:
    text = "Hi a I x2 snake_case, e-mail (don't) 42 3.14 ünï 東京 and—dash"
    expected = ["Hi", "x2", "snake_case", "mail", "don", "42", "14", "ünï", "東京", "and", "dash"]
    assert words_of(text) == expected


def test_combining_marks_stay_inside_their_word() -> None:
    decomposed = unicodedata.normalize("NFD", "café crème")
    assert words_of(decomposed) == ["café", "crème"]  # NFC: precomposed, one word each
    assert words_of("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs and virama are marks
    assert words_of("ภาษาไทย") == ["ภาษาไทย"]


def test_frequencies_count_occurrences_and_spellings_merge_by_case() -> None:
    trie = index_text("Hello hello HELLO hello help Straße STRASSE straße", 100)
    assert pairs(trie.suggest("he", 5)) == [("hello", 4), ("help", 1)]
    assert pairs(trie.suggest("str", 5)) == [("Straße", 3)]  # a tie: the first spelling


def test_the_budget_keeps_the_most_frequent_words() -> None:
    text = " ".join(["common"] * 5 + ["frequent"] * 3 + ["rare", "seldom"])
    trie = index_text(text, 2)
    assert sorted(trie) == ["common", "frequent"]


# --- the service ---------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def service(hub: FakeHub, clock: FakeClock, **kwargs: object) -> WordService:
    return WordService(hub, Settings(words_max_words=1000), clock=clock, **kwargs)  # type: ignore[arg-type]


async def test_an_open_room_is_reindexed_after_it_changes_and_not_before(
    clock: FakeClock,
) -> None:
    room = FakeRoom()
    room.edit("apple apricot apple")
    hub = FakeHub(rooms={"d": room})
    words = service(hub, clock)
    assert pairs(await words.suggest("d", "ap", 5)) == [("apple", 2), ("apricot", 1)]
    assert room.reads == 1 and words.rebuilds == 1
    assert pairs(await words.suggest("d", "apr", 5)) == [("apricot", 1)]
    assert words.rebuilds == 1 and room.reads == 1  # unchanged: the index is reused

    room.edit("apple apricot apple avocado apricot apricot")
    clock.advance(1)
    assert pairs(await words.suggest("d", "a", 5)) == [
        ("apricot", 3),
        ("apple", 2),
        ("avocado", 1),
    ]
    assert words.rebuilds == 2 and hub.loads == 0  # the live text, never the stored one


async def test_rebuilds_of_a_busy_room_are_rate_limited_by_their_cost(clock: FakeClock) -> None:
    room = FakeRoom()
    room.edit("alpha")
    words = service(FakeHub(rooms={"d": room}), clock, min_interval=0.5)
    await words.suggest("d", "al", 5)
    room.edit("alpha alps")
    clock.advance(0.2)  # too soon: the previous index answers
    assert pairs(await words.suggest("d", "al", 5)) == [("alpha", 1)]
    assert words.rebuilds == 1  # still owed a rebuild
    clock.advance(0.3)
    assert pairs(await words.suggest("d", "al", 5)) == [("alpha", 1), ("alps", 1)]
    assert words.rebuilds == 2


async def test_the_exact_word_being_typed_is_not_suggested_back(clock: FakeClock) -> None:
    room = FakeRoom()
    room.edit("hello hello help hel")  # "hel" is the word being typed
    words = service(FakeHub(rooms={"d": room}), clock)
    assert pairs(await words.suggest("d", "hel", 5)) == [("hello", 2), ("help", 1)]
    assert pairs(await words.suggest("d", "HELLO", 5)) == []
    assert pairs(await words.suggest("d", "hel", 1)) == [("hello", 2)]
    assert await words.suggest("d", "  ", 5) == []


async def test_a_document_nobody_has_open_uses_its_stored_text_per_seq(clock: FakeClock) -> None:
    hub = FakeHub(stored={"d": ("zebra zealot zebra", 7)})
    words = service(hub, clock)
    assert pairs(await words.suggest("d", "ze", 5, seq=7)) == [("zebra", 2), ("zealot", 1)]
    await words.suggest("d", "zea", 5, seq=7)
    assert hub.loads == 1  # same seq: cached

    hub.stored["d"] = ("zebra zealot zebra zen zen zen", 9)
    clock.advance(1)
    assert pairs(await words.suggest("d", "ze", 5, seq=9)) == [
        ("zen", 3),
        ("zebra", 2),
        ("zealot", 1),
    ]
    assert hub.loads == 2

    # The document is opened: the live Room wins over the stored text.
    room = FakeRoom()
    room.edit("zeppelin")
    hub.rooms["d"] = room
    assert pairs(await words.suggest("d", "ze", 5, seq=9)) == [("zeppelin", 1)]
    room.closing = True  # being unloaded: back to the stored text
    assert pairs(await words.suggest("d", "ze", 1, seq=9)) == [("zen", 3)]


async def test_concurrent_first_requests_share_one_build(clock: FakeClock) -> None:
    hub = FakeHub(stored={"d": ("quiet quilt", 1)})
    gate = asyncio.Event()
    original = hub.current_text

    async def slow(doc_id: str) -> tuple[str, int]:
        await gate.wait()
        return await original(doc_id)

    hub.current_text = slow  # type: ignore[method-assign]
    words = service(hub, clock)
    tasks = [asyncio.create_task(words.suggest("d", "qui", 5, seq=1)) for _ in range(5)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert all(pairs(r) == [("quiet", 1), ("quilt", 1)] for r in results)
    assert hub.loads == 1 and words.rebuilds == 1


async def test_a_large_text_is_indexed_off_the_event_loop(clock: FakeClock) -> None:
    room = FakeRoom()
    room.edit("lorem ipsum dolor " * 10_000)  # 180,000 characters
    words = service(FakeHub(rooms={"d": room}), clock)
    assert pairs(await words.suggest("d", "lo", 5)) == [("lorem", 10_000)]


async def test_the_index_of_a_document_closed_here_is_let_go(clock: FakeClock) -> None:
    room = FakeRoom()
    room.edit("kiwi kiwi")
    hub = FakeHub(rooms={"d": room}, stored={"d": ("kiwi kiwi", 1)})
    words = service(hub, clock)
    assert pairs(await words.suggest("d", "ki", 5)) == [("kiwi", 2)]
    del hub.rooms["d"]
    await words.room_stopped(RoomStopped("d"))  # the Hub tells its extensions
    assert pairs(await words.suggest("d", "ki", 5, seq=1)) == [("kiwi", 2)]
    assert hub.loads == 1 and words.rebuilds == 2  # from the stored text now
