"""Full-text search in memory: the same rules as the SQL backends, by scanning.

Each indexed document keeps its words (:func:`docstream.storage.search.words`); a query matches a
document when every term is a prefix of one of its title's or text's words. The rank counts the
matching words, a title word ten times a text word (as the SQL backends weigh them). Every match
is ranked (the SQL backends rank at most their ``RANKED`` most recently changed ones). Fine for the
tests it serves; a real server uses SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from docstream.storage.base import SearchHit
from docstream.storage.memory.state import MemoryState
from docstream.storage.search import MAX_INDEXED_CHARS, words


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    title: str
    body: str
    title_words: tuple[str, ...]
    body_words: tuple[str, ...]


def _score(entry: _Entry, terms: Sequence[str]) -> float:
    total = 0.0
    for term in terms:
        hits = 10 * sum(w.startswith(term) for w in entry.title_words)
        hits += sum(w.startswith(term) for w in entry.body_words)
        if hits == 0:
            return 0.0
        total += hits
    return total


class MemorySearch(MemoryState):
    """The search index (a table beside the shared ones of ``MemoryState``)."""

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self._search: dict[str, _Entry] = {}

    async def index_for_search(self, doc_id: str, title: str, body: str, seq: int) -> bool:
        await self._enter()
        if doc_id not in self._docs:
            self._search.pop(doc_id, None)
            return False
        old = self._search.get(doc_id)
        if old is None or seq >= old.seq:
            body = body[:MAX_INDEXED_CHARS]
            self._search[doc_id] = _Entry(seq, title, body, tuple(words(title)), tuple(words(body)))
        return True

    async def search_backlog(self, limit: int) -> list[str]:
        await self._enter()
        for gone in [d for d in self._search if d not in self._docs]:
            del self._search[gone]  # purged: the SQL backends' cascade
        stale = []
        for doc_id, row in self._docs.items():
            entry = self._search.get(doc_id)
            if doc_id in self._trashed:
                continue
            if entry is None or entry.seq < row.record.seq or entry.title != row.record.title:
                stale.append(row.record)
        stale.sort(key=lambda r: (r.updated_at, r.id))
        return [r.id for r in stale[:limit]]

    async def search_documents(
        self, user_id: str, terms: Sequence[str], limit: int, offset: int
    ) -> list[SearchHit]:
        await self._enter()
        if not terms:
            return []
        hits = []
        for doc_id, entry in self._search.items():
            doc = self._live(doc_id)
            if doc is None:
                continue
            role = self._role(doc, user_id)
            if role is None:
                continue
            score = _score(entry, terms)
            if score > 0:
                hits.append(SearchHit(doc.record, role, entry.body, entry.seq, score))
        hits.sort(key=lambda h: (-h.rank, h.doc.id))
        return hits[offset : offset + limit]
