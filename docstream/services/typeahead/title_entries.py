"""The title index's entries, changes and queue items (the pure part of the title service).

A document has one entry per word of its title, so that a query finds any word, not only the start:

- ``"<title>|<doc id>"`` for the whole title (its first word);
- ``"<rest>\x1f<head>|<doc id>"`` for each later word, where ``rest`` is the title from that word
  on and ``head`` what comes before it. The trie matches prefixes of ``rest``; the entry still
  names the whole title (``head + rest``) and where the word starts (``len(head)``). Titles
  never contain control characters (the document service rejects them), so ``\x1f`` is
  unambiguous.

Words start at a letter or digit that follows anything else (whitespace or punctuation); a
title gives at most :data:`MAX_WORDS` entries. The changes (:class:`SetTitle`,
:class:`DropTitle`) are what the writer queues and what the other nodes receive as ``titles``
peer messages.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

import msgspec

from docstream.services.documents import is_uuid
from docstream.typeahead.durable import DurableTrie, Mutation
from docstream.typeahead.trie import Suggestion, fold
from docstream.typeahead.wal import Op

#: The most entries (words) one title gets in the index.
MAX_WORDS = 24
#: Separates the rest of a title from its head in a word entry (see the module docstring).
HEAD = "\x1f"


class TitleSuggestion(msgspec.Struct, frozen=True):
    """One suggested document: its title (``word``), the entry's frequency, its id, and the
    matched word prefix as ``[start, end)`` UTF-16 code-unit offsets into the title."""

    word: str
    frequency: int
    doc_id: str
    match: tuple[int, int]


class SetTitle(msgspec.Struct, tag="set", frozen=True):
    """A document was created or renamed (also the ``titles`` cluster event)."""

    doc_id: str
    title: str
    #: Empty in events from nodes that predate per-owner fairness (then the owner is not counted).
    owner_id: str = ""


class DropTitle(msgspec.Struct, tag="drop", frozen=True):
    """A document was deleted."""

    doc_id: str


TitleEvent = SetTitle | DropTitle
event_decoder = msgspec.json.Decoder(TitleEvent)


class Control:
    """A queue item that is not a change: it ends a batch and is handled on its own."""

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class Reconcile(Control):
    pass


class Barrier(Control):
    """Done once everything queued before it is written (or has failed)."""


class Stop(Control):
    pass


Item = SetTitle | DropTitle | Control


def _in_word(char: str) -> bool:
    return char.isalnum() or unicodedata.combining(char) > 0


def word_starts(title: str) -> list[int]:
    """Where the words of ``title`` start (code-point offsets), at most :data:`MAX_WORDS`."""
    starts = []
    for i, char in enumerate(title):
        if char.isalnum() and (i == 0 or not _in_word(title[i - 1])):
            starts.append(i)
            if len(starts) == MAX_WORDS:
                break
    return starts


def entry_for(doc_id: str, title: str) -> str:
    """The whole-title entry."""
    return f"{title}|{doc_id}"


def entries_for(doc_id: str, title: str) -> tuple[str, ...]:
    """Every entry of a title: the whole title, then one per later word."""
    words = [f"{title[k:]}{HEAD}{title[:k]}|{doc_id}" for k in word_starts(title) if k > 0]
    return (entry_for(doc_id, title), *words[: MAX_WORDS - 1])


class ParsedEntry(NamedTuple):
    title: str
    doc_id: str
    #: Where the indexed word starts in the title (code points; 0 for the whole-title entry).
    start: int


def parse_entry(word: str) -> ParsedEntry | None:
    """The title, document and word start of an entry, or None for anything that is not one."""
    text, sep, doc_id = word.rpartition("|")
    if not sep or not text or not is_uuid(doc_id):
        return None
    rest, head_sep, head = text.partition(HEAD)
    if head_sep and (not rest or not head):
        return None
    return ParsedEntry(head + rest, doc_id, len(head))


def clean_query(query: str) -> str:
    """What a title query searches for: no ``|`` or ``\x1f`` (they separate an entry's parts),
    no leading blanks."""
    return query.replace("|", "").replace(HEAD, "").lstrip()


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def match_span(title: str, start: int, key: str) -> tuple[int, int]:
    """UTF-16 ``[start, end)`` of the shortest part of ``title`` from ``start`` whose folded
    form is as long as the folded query ``key`` (casefolding may change lengths: ``ß``)."""
    rest = title[start:]
    end = len(rest)
    for i in range(1, len(rest) + 1):
        if len(fold(rest[:i])) >= len(key):
            end = i
            break
    first = _utf16(title[:start])
    return first, first + _utf16(rest[:end])


class Candidate(NamedTuple):
    """A document the trie suggested, by its best-ranked entry."""

    rank: tuple[bool, bool, int, str]
    suggestion: TitleSuggestion


def candidate(suggestion: Suggestion, key: str) -> Candidate | None:
    """Rank an entry for the folded query ``key``: exact prefix before one-typo matches, the
    whole title before a later word, then frequency, then the entry (None: not an entry)."""
    parsed = parse_entry(suggestion.word)
    if parsed is None:
        return None
    entry_key = fold(suggestion.word)
    rank = (not entry_key.startswith(key), parsed.start > 0, -suggestion.frequency, entry_key)
    found = TitleSuggestion(
        parsed.title,
        suggestion.frequency,
        parsed.doc_id,
        match_span(parsed.title, parsed.start, key),
    )
    return Candidate(rank, found)


def merge_candidates(
    candidates: Iterable[Suggestion], key: str, best: dict[str, Candidate]
) -> list[str]:
    """Keep each document's best-ranked entry in ``best``; return the ids new to it, in order."""
    fresh: list[str] = []
    for suggestion in candidates:
        found = candidate(suggestion, key)
        if found is None:
            continue
        doc_id = found.suggestion.doc_id
        known = best.get(doc_id)
        if known is None:
            fresh.append(doc_id)
        if known is None or found.rank < known.rank:
            best[doc_id] = found
    return fresh


def reconcile_mutations(trie: DurableTrie, desired: dict[str, tuple[str, ...]]) -> list[Mutation]:
    """REMOVE what the trie holds but the database does not say; INSERT what is missing."""
    wanted = {entry for entries in desired.values() for entry in entries}
    present: set[str] = set()
    mutations: list[Mutation] = []
    for word, _frequency in trie.items_lru():
        if word in wanted:  # exact: a title whose case changed is replaced too
            present.add(word)
        else:
            mutations.append(Mutation(Op.REMOVE, word))
    mutations += [
        Mutation(Op.INSERT, e) for entries in desired.values() for e in entries if e not in present
    ]
    return mutations


def ranked(best: dict[str, Candidate], allowed: set[str], limit: int) -> list[TitleSuggestion]:
    """The best ``limit`` of the allowed documents, in rank order."""
    found = sorted((best[doc_id] for doc_id in allowed if doc_id in best), key=lambda c: c.rank)
    return [c.suggestion for c in found[:limit]]


def fitting(kept: list[tuple[str, str, str]], max_words: int) -> int:
    """How many of ``kept`` (newest first) fit in ``max_words`` entries."""
    total = 0
    for count, (doc_id, title, _owner) in enumerate(kept):
        total += len(entries_for(doc_id, title))
        if total > max_words:
            return count
    return len(kept)
