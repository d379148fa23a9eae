"""Answering a search: terms from the query, one permission-filtered query, snippets.

**Who sees what.** A hit is a live document (not in the trash) the caller owns or holds a grant
on (viewer or editor), decided inside the store's query (never by filtering a page afterwards, so
no count, rank or page size depends on documents the caller cannot open). A document shared by
public link only is not searched: holding a link is not membership, as with the title typeahead
and the document list. Guests (link holders without an account) cannot search.

**The query** is plain words: :func:`docstream.storage.search.search_terms` keeps the runs of
letters and digits, so query-language syntax of either backend is only separators. A query
without a word finds nothing; more than :data:`MAX_TERMS` words or more than :data:`MAX_QUERY`
characters is refused (``invalid_input``).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from docstream.errors import InvalidInputError
from docstream.services.identity import Identity
from docstream.services.search.snippets import highlight_title, snippet
from docstream.storage.base import DocumentStore, Role
from docstream.storage.search import MAX_TERMS, search_terms

MAX_QUERY = 500
MAX_LIMIT = 50
MAX_OFFSET = 1000


class SearchResult(msgspec.Struct, frozen=True):
    """One hit: the document, the caller's role, where the words matched."""

    id: str
    title: str
    role: Role
    updated_at: datetime
    #: ``[start, end)`` UTF-16 ranges of the matching words of ``title``.
    title_matches: list[tuple[int, int]]
    #: Plain text around the matches (never HTML; ``…`` where the text goes on).
    snippet: str
    #: ``[start, end)`` UTF-16 ranges of the matching words of ``snippet``.
    matches: list[tuple[int, int]]


class SearchPage(msgspec.Struct, frozen=True):
    results: list[SearchResult]
    offset: int
    #: The ``offset`` of the next page, ``None`` when this is the last.
    next_offset: int | None


class SearchService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def search(self, caller: Identity, query: str, limit: int, offset: int) -> SearchPage:
        if len(query) > MAX_QUERY:
            raise InvalidInputError(f"a search is at most {MAX_QUERY} characters")
        if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
            raise InvalidInputError(f"limit must be 1-{MAX_LIMIT} and offset 0-{MAX_OFFSET}")
        terms = search_terms(query)
        if len(terms) > MAX_TERMS:
            raise InvalidInputError(f"a search is at most {MAX_TERMS} words")
        if not terms or caller.guest:
            return SearchPage([], offset, None)
        hits = await self._store.search_documents(caller.user_id, terms, limit + 1, offset)
        results = []
        for hit in hits[:limit]:
            text, matches = snippet(hit.body, terms)
            results.append(
                SearchResult(
                    id=hit.doc.id,
                    title=hit.doc.title,
                    role=hit.role,
                    updated_at=hit.doc.updated_at,
                    title_matches=highlight_title(hit.doc.title, terms),
                    snippet=text,
                    matches=matches,
                )
            )
        more = len(hits) > limit
        return SearchPage(results, offset, offset + limit if more else None)
