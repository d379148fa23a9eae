"""Ghost-text completion from a document's own words (``GET /documents/{id}/suggest``).

**Words** are maximal runs of Unicode letters, digits and ``_`` (Python's ``\\w``), with the
combining marks that belong to them (so the Devanagari ``हिन्दी`` or a decomposed ``é`` stay one
word), at least 2 characters long after NFC normalisation. A word's frequency is how often it
occurs; spellings that differ only in case are one word, shown in their most frequent spelling.
A document with more than ``words_max_words`` distinct words keeps the most frequent ones.

**Where the text comes from.** For a document open on this node, the live text
(``Hub.open_text``): its word trie is kept while the document is open (the service is an
extension: ``room_stopped`` lets it go) and rebuilt when the open document's ``seq`` moved past
the one it was built at (``Hub.open_seq``, read without touching the text). For a document nobody
has open here, the stored text (``Hub.current_text``), cached per document and ``seq``.
Rebuilding is O(text), so it is rate-limited: while a fresh index was built less than
``cost_factor`` times its build time ago (and ``min_interval``), the previous one answers. A large
document therefore costs at most about a tenth of a core however fast people type, and a small
one is rebuilt on every request after an edit. Texts above :data:`THREAD_THRESHOLD` characters are
indexed in a worker thread.

**The exact match is left out.** The query is the word being typed, and in an open document that
word is already in the text: suggesting it back would offer a completion that adds nothing
(``"hel"`` for ``"hel"``) and, ranked by frequency, would often push the useful ones out. So a
suggestion equal to the query (case-insensitively) is dropped; ``"hello"`` is still offered for
``"hel"``, and ``"Hello"`` for ``"hello"`` is not (it adds no letter).
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from docstream.collab.extensions import DocumentDeleted, Extension, RoomStopped
from docstream.settings import Settings
from docstream.typeahead.trie import Suggestion, Trie, fold

#: Texts longer than this are indexed in a worker thread.
THREAD_THRESHOLD = 65_536
#: The shortest word indexed, in characters.
MIN_WORD = 2


class WordSource(Protocol):
    """The Hub: the live text of documents open on this node, and the stored text of others."""

    def open_seq(self, doc_id: str) -> int | None:
        """The seq of the document's live text if it is open here (else None); cheap."""

    def open_text(self, doc_id: str) -> tuple[str, int] | None:
        """The document's live text and its seq if it is open here (else None)."""

    async def current_text(self, doc_id: str) -> tuple[str, int]: ...


@functools.cache
def word_pattern() -> re.Pattern[str]:
    """``\\w`` runs joined by combining marks (built once: it scans the Unicode tables)."""
    ranges: list[str] = []
    start: int | None = None
    for code in [*range(0x300, 0x20000), *range(0xE0100, 0xE01F0), 0x110000]:
        is_mark = code < 0x110000 and unicodedata.category(chr(code)).startswith("M")
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            last = code - 1
            ranges.append(f"\\U{start:08x}" + (f"-\\U{last:08x}" if last > start else ""))
            start = None
    marks = "".join(ranges)
    return re.compile(rf"\w+(?:[{marks}]+\w*)*")


def words_of(text: str) -> list[str]:
    """The words of ``text`` in order (see the module docstring)."""
    normalized = unicodedata.normalize("NFC", text)
    return [w for w in word_pattern().findall(normalized) if len(w) >= MIN_WORD]


def index_text(text: str, max_words: int) -> Trie:
    """A trie of the words of ``text``: frequency = occurrences, the most frequent kept."""
    counts = Counter(words_of(text))
    totals: dict[str, int] = {}
    spelling: dict[str, tuple[int, str]] = {}  # key -> (count, spelling) of its commonest form
    for word, count in counts.items():
        key = fold(word)
        totals[key] = totals.get(key, 0) + count
        if key not in spelling or count > spelling[key][0]:
            spelling[key] = (count, word)
    # from_items keeps the last max_words: order by frequency, the most frequent last.
    keys = sorted(totals, key=lambda k: (totals[k], k))[-max_words:]
    return Trie.from_items(max_words, ((spelling[k][1], totals[k]) for k in keys))


class WordIndex:
    """A built trie, the ``seq`` of the text it came from, and its cost."""

    def __init__(self, trie: Trie, seq: int | None, built_at: float, cost: float) -> None:
        self.trie = trie
        self.seq = seq
        self.built_at = built_at
        self.cost = cost


class _Holder:
    """The current index of one open or stored document, and the rebuild under way."""

    def __init__(self) -> None:
        self.index: WordIndex | None = None
        self.building: asyncio.Future[WordIndex] | None = None


class WordService(Extension):
    """Word completion for documents of this node (an extension: it lets the index of a document
    go when the document closes here, and forgets a deleted one).

    Args:
        source: the Hub.
        settings: ``words_max_words``.
        clock: monotonic seconds.
        min_interval: the least seconds between two rebuilds of one document's index.
        cost_factor: ... and at least this many times the last build's duration (see above).
        cache_size: indexes of stored (not open) documents kept.
    """

    name = "words"

    def __init__(
        self,
        source: WordSource,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 0.0,
        cost_factor: float = 10.0,
        cache_size: int = 16,
    ) -> None:
        self._source = source
        self._max_words = settings.words_max_words
        self._clock = clock
        self._min_interval = min_interval
        self._cost_factor = cost_factor
        self._cache_size = cache_size
        self._open: dict[str, _Holder] = {}
        self._stored: OrderedDict[str, _Holder] = OrderedDict()
        self.rebuilds = 0

    async def __aenter__(self) -> WordService:
        await asyncio.to_thread(word_pattern)  # build the pattern before the first request
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open.clear()
        self._stored.clear()

    async def room_stopped(self, event: RoomStopped) -> None:
        self._open.pop(event.doc_id, None)

    async def document_deleted(self, event: DocumentDeleted) -> None:
        self._open.pop(event.doc_id, None)
        self._stored.pop(event.doc_id, None)

    async def suggest(
        self, doc_id: str, query: str, limit: int, *, seq: int | None = None
    ) -> list[Suggestion]:
        """Words of ``doc_id`` that complete ``query``, most frequent first (the exact match
        left out). ``seq`` is the document's stored seq when the caller knows it (it saves
        reloading an unchanged stored text). The caller's access is checked by the route."""
        prefix = query.strip()
        if not prefix or limit < 1:
            return []
        index = await self.index(doc_id, seq)
        key = fold(prefix)
        found = index.trie.suggest(prefix, limit + 1)
        return [s for s in found if fold(s.word) != key][:limit]

    async def index(self, doc_id: str, seq: int | None = None) -> WordIndex:
        """The current word index of ``doc_id`` (building or rebuilding it if needed)."""
        open_seq = self._source.open_seq(doc_id)
        if open_seq is not None:
            holder = self._open.get(doc_id)
            if holder is None:
                holder = self._open[doc_id] = _Holder()
            stale = holder.index is None or (
                holder.index.seq != open_seq and self._due(holder.index)
            )

            async def live_text() -> tuple[str, int | None]:
                found = self._source.open_text(doc_id)
                return found if found is not None else await self._source.current_text(doc_id)

            return await self._refresh(holder, stale, live_text)
        holder = self._stored.get(doc_id)
        if holder is None:
            holder = self._stored[doc_id] = _Holder()
            while len(self._stored) > self._cache_size:
                self._stored.popitem(last=False)
        self._stored.move_to_end(doc_id)
        index = holder.index
        stale = index is None or ((seq is None or seq != index.seq) and self._due(index))

        async def stored_text() -> tuple[str, int | None]:
            return await self._source.current_text(doc_id)

        return await self._refresh(holder, stale, stored_text)

    def _due(self, index: WordIndex) -> bool:
        wait = max(self._min_interval, self._cost_factor * index.cost)
        return self._clock() - index.built_at >= wait

    async def _refresh(
        self,
        holder: _Holder,
        stale: bool,
        produce: Callable[[], Awaitable[tuple[str, int | None]]],
    ) -> WordIndex:
        if holder.index is not None and not stale:
            return holder.index
        if holder.building is not None:  # one rebuild at a time; meanwhile the last one answers
            if holder.index is not None:
                return holder.index
            return await asyncio.shield(holder.building)
        future: asyncio.Future[WordIndex] = asyncio.get_running_loop().create_future()
        holder.building = future
        try:
            started = self._clock()
            text, seq = await produce()
            if len(text) > THREAD_THRESHOLD:
                trie = await asyncio.to_thread(index_text, text, self._max_words)
            else:
                trie = index_text(text, self._max_words)
            now = self._clock()
            index = holder.index = WordIndex(trie, seq, now, now - started)
            self.rebuilds += 1
            future.set_result(index)
            return index
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters re-raise it
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            holder.building = None
