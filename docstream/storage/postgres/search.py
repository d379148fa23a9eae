"""Full-text search in PostgreSQL: a ``tsvector`` column with a GIN index, ranked by ``ts_rank``.

**Why the ``simple`` configuration.** A DocStream server holds documents in any language, often
several in one document. A language configuration (``english``...) stems and drops stop words of
one language and mangles the others; ``simple`` only lower-cases words, so every language that
separates words with spaces or punctuation is searched the same way, and a word is found as typed
(with a prefix match, ``colla`` finds ``collaborate``; no stemming needed for typeahead-like use).

**Why not ``pg_trgm``.** Trigram indexes find substrings (useful for languages written without
spaces) but rank poorly, need three characters per term and grow with the text, not the words;
they are also an extension a managed database may not offer. The tsvector needs nothing installed.
Scripts written without spaces (Chinese, Japanese, Thai) are therefore found by whole runs only.

**Why at most :data:`RANKED` matches are ranked.** Ranking reads each match's tsvector (about the
size of its text, compressed out of line); a word in every document of a large account would mean
reading them all, hundreds of milliseconds. So the matches are found by the GIN index alone, the
caller's :data:`RANKED` most recently updated ones are kept, and only those are ranked: a query
matching more of the caller's documents than that ranks the recent ones (add a word to narrow it).

The ``tsquery`` is built from plain terms (:func:`docstream.storage.search.search_terms`): each
one quoted as a lexeme with a prefix flag, joined by ``&``; nothing the user typed is tsquery
syntax. The permission rule is part of the same statement: the hit's document is live (not in the
trash) and the caller owns it or holds a grant on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from docstream.storage.base import Role, SearchHit
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import DOC_COLUMNS, as_document, is_uuid
from docstream.storage.search import MAX_INDEXED_CHARS


def tsquery_text(terms: Sequence[str]) -> str:
    """A tsquery requiring every term as a word prefix, each one a quoted lexeme."""
    quoted = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "':*" for t in terms)
    return " & ".join(quoted)


#: At most this many matching documents are ranked: the caller's most recently updated matches.
RANKED = 500

#: The query (see the module docstring): the caller's live documents and the index's matches are
#: found apart (the match by the GIN index alone, never reading a tsvector), joined, cut to the
#: ``RANKED`` most recently updated, and only those are ranked; the page's rows come last.
_SEARCH = (
    "WITH q AS (SELECT to_tsquery('simple', %s) AS query), "
    "mine AS MATERIALIZED ("
    "SELECT d.id, d.updated_at FROM documents d WHERE d.owner_id = %s AND d.deleted_at IS NULL "
    "UNION ALL SELECT d.id, d.updated_at FROM document_permissions p "
    "JOIN documents d ON d.id = p.doc_id WHERE p.user_id = %s AND d.deleted_at IS NULL), "
    "hits AS MATERIALIZED (SELECT s.doc_id FROM q, search_docs s WHERE s.tsv @@ q.query), "
    "latest AS MATERIALIZED (SELECT m.id FROM mine m JOIN hits h ON h.doc_id = m.id "
    "ORDER BY m.updated_at DESC, m.id LIMIT %s), "
    "ranked AS MATERIALIZED (SELECT l.id, (SELECT ts_rank(s.tsv, q.query) FROM q, search_docs s "
    "WHERE s.doc_id = l.id) AS score FROM latest l ORDER BY score DESC, l.id LIMIT %s OFFSET %s) "
    f"SELECT {DOC_COLUMNS}, CASE WHEN p.user_id IS NULL THEN 'owner' ELSE p.role END, "
    "s.body, s.seq, r.score FROM ranked r JOIN documents d ON d.id = r.id "
    "JOIN search_docs s ON s.doc_id = r.id "
    "LEFT JOIN document_permissions p ON p.doc_id = d.id AND p.user_id = %s "
    "ORDER BY r.score DESC, d.id"
)


class PostgresSearch(PostgresStoreBase):
    """The search index and its query."""

    async def index_for_search(self, doc_id: str, title: str, body: str, seq: int) -> bool:
        if not is_uuid(doc_id):
            return False
        row = await self._one(
            "WITH doc AS (SELECT id FROM documents WHERE id = %s), "
            "up AS (INSERT INTO search_docs AS s (doc_id, seq, title, body) "
            "SELECT id, %s, %s, %s FROM doc ON CONFLICT (doc_id) DO UPDATE SET "
            "seq = excluded.seq, title = excluded.title, body = excluded.body, "
            "indexed_at = now() WHERE excluded.seq >= s.seq RETURNING 1) "
            "SELECT count(*) FROM doc",
            (doc_id, seq, title, body[:MAX_INDEXED_CHARS]),
        )
        return row is not None and row[0] > 0

    async def search_backlog(self, limit: int) -> list[str]:
        rows = await self._all(
            "SELECT d.id FROM documents d LEFT JOIN search_docs s ON s.doc_id = d.id "
            "WHERE d.deleted_at IS NULL AND (s.doc_id IS NULL OR s.seq < d.seq "
            "OR s.title <> d.title) ORDER BY d.updated_at, d.id LIMIT %s",
            (limit,),
        )
        return [str(r[0]) for r in rows]

    async def search_documents(
        self, user_id: str, terms: Sequence[str], limit: int, offset: int
    ) -> list[SearchHit]:
        if not terms or not is_uuid(user_id):
            return []
        rows = await self._all(
            _SEARCH, (tsquery_text(terms), user_id, user_id, RANKED, limit, offset, user_id)
        )
        return [SearchHit(as_document(r), cast(Role, r[8]), r[9], r[10], r[11]) for r in rows]
