"""Full-text search in SQLite: FTS5.

FTS5 ships with SQLite, needs no server or extension, and ranks with BM25 (a title word weighs
ten times a text word). BM25 costs a few microseconds per matching row, so at most
:data:`RANKED` rows are ranked: the caller's most recently changed matches (every re-index gives
the document a new, higher rowid, and FTS5 walks a match newest first). A query matching more of
the caller's documents than that ranks the recent ones.

The index is an external-content FTS5 table over ``search_docs`` (see migration 0015), so the text
is stored once and the row is also where the snippet is cut from.

The ``MATCH`` expression is built here from plain terms (:func:`docstream.storage.search.
search_terms`), each one a quoted string with a prefix star: ``"colla"* "plan"*``. Nothing the
user typed is ever FTS5 syntax. The permission rule is part of the same statement: the hit's
document is live (not in the trash) and the caller owns it or holds a grant on it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import cast

from docstream.storage.base import Role, SearchHit
from docstream.storage.search import MAX_INDEXED_CHARS
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import DOC_COLUMNS, as_document, now_iso

_DOC_COLS = ", ".join("d." + c.strip() for c in DOC_COLUMNS.split(","))


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query requiring every term as a word prefix (each quoted: never FTS5 syntax)."""
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


#: At most this many matching documents are ranked: the caller's most recently changed matches.
RANKED = 500

#: A hit: a live document the caller (?1) owns or holds a grant on, matching ?2.
_HITS = (
    "FROM search_fts JOIN search_docs s ON s.id = search_fts.rowid "
    "JOIN documents d ON d.id = s.doc_id "
    "LEFT JOIN document_permissions p ON p.doc_id = d.id AND p.user_id = ?1 "
    "WHERE search_fts MATCH ?2 AND d.deleted_at IS NULL "
    "AND (d.owner_id = ?1 OR p.user_id IS NOT NULL)"
)
#: The rowid of the caller's ?3-th most recently changed hit (FTS5 walks its matches newest
#: first), then the hits from there on, ranked: bm25() runs on at most ?3 rows.
_SEARCH = (
    f"SELECT {_DOC_COLS}, CASE WHEN d.owner_id = ?1 THEN 'owner' ELSE p.role END, "
    f"s.body, s.seq, bm25(search_fts, 10.0, 1.0) AS score {_HITS} "
    f"AND search_fts.rowid >= (SELECT min(rid) FROM (SELECT search_fts.rowid AS rid {_HITS} "
    "ORDER BY search_fts.rowid DESC LIMIT ?3)) "
    "ORDER BY score, d.id LIMIT ?4 OFFSET ?5"
)


class SqliteSearch(SqliteStoreBase):
    """The search index and its query."""

    async def index_for_search(self, doc_id: str, title: str, body: str, seq: int) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is None:
                conn.execute("COMMIT")
                return False
            old = conn.execute("SELECT seq FROM search_docs WHERE doc_id = ?", (doc_id,)).fetchone()
            if old is None or seq >= old[0]:
                # A new row (a new, higher rowid) each time: the rowid order is the order in
                # which documents last changed, which the query's ranking cut relies on.
                conn.execute("DELETE FROM search_docs WHERE doc_id = ?", (doc_id,))
                conn.execute(
                    "INSERT INTO search_docs (doc_id, seq, title, body, indexed_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (doc_id, seq, title, body[:MAX_INDEXED_CHARS], now_iso()),
                )
            conn.execute("COMMIT")
            return True

        return await self._write(run)

    async def search_backlog(self, limit: int) -> list[str]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT d.id FROM documents d LEFT JOIN search_docs s ON s.doc_id = d.id "
                "WHERE d.deleted_at IS NULL AND (s.doc_id IS NULL OR s.seq < d.seq "
                "OR s.title <> d.title) ORDER BY d.updated_at, d.id LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [r[0] for r in rows]

    async def search_documents(
        self, user_id: str, terms: Sequence[str], limit: int, offset: int
    ) -> list[SearchHit]:
        if not terms:
            return []
        params = (user_id, match_expression(terms), RANKED, limit, offset)
        rows = await self._read(lambda conn: conn.execute(_SEARCH, params).fetchall())
        # bm25() is lower-is-better (negative); the record's rank is higher-is-better.
        return [SearchHit(as_document(r), cast(Role, r[8]), r[9], r[10], -r[11]) for r in rows]
