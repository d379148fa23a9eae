"""Comments in SQLite (one row per comment; the thread is its first comment's id).

Kept apart from the documents mixin: only the comments service uses these. Mentions are a JSON
array of user ids; the author's name is read from ``users`` at each read, so a rename shows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from docstream.errors import NotFoundError
from docstream.storage.base import Comment, NewComment
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import now_iso, parse_ts

_COLUMNS = (
    "c.doc_id, c.id, c.thread_id, c.author_id, COALESCE(u.name, ''), c.body, c.created_at, "
    "c.anchor_start, c.anchor_end, c.quote, c.mentions, c.resolved, c.version, c.edited_at"
)
_FROM = "FROM comments c LEFT JOIN users u ON u.id = c.author_id"


def _comment(row: Sequence[Any]) -> Comment:
    return Comment(
        doc_id=row[0],
        id=row[1],
        thread_id=row[2],
        author_id=row[3],
        author_name=row[4],
        body=row[5],
        created_at=parse_ts(row[6]),
        anchor_start=row[7],
        anchor_end=row[8],
        quote=row[9],
        mentions=tuple(json.loads(row[10])),
        resolved=bool(row[11]),
        version=row[12],
        edited_at=parse_ts(row[13]) if row[13] else None,
    )


def _get(conn: sqlite3.Connection, doc_id: str, comment_id: str) -> Comment | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} {_FROM} WHERE c.doc_id = ? AND c.id = ?", (doc_id, comment_id)
    ).fetchone()
    return _comment(row) if row else None


class SqliteComments(SqliteStoreBase):
    """Comment threads anchored to the text."""

    async def add_comment(self, doc_id: str, comment: NewComment) -> tuple[Comment, bool]:
        def run(conn: sqlite3.Connection) -> tuple[Comment, bool]:
            cur = conn.execute(
                "INSERT INTO comments (doc_id, id, thread_id, author_id, body, anchor_start, "
                "anchor_end, quote, mentions, created_at) "
                "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM documents WHERE id = ?) "
                "ON CONFLICT (doc_id, id) DO NOTHING",
                (
                    doc_id,
                    comment.id,
                    comment.thread_id,
                    comment.author_id,
                    comment.body,
                    comment.anchor_start,
                    comment.anchor_end,
                    comment.quote,
                    json.dumps(list(comment.mentions)),
                    now_iso(),
                    doc_id,
                ),
            )
            found = _get(conn, doc_id, comment.id)
            if found is None:
                raise NotFoundError("no such document")
            return found, cur.rowcount == 1

        return await self._write(run)

    async def get_comment(self, doc_id: str, comment_id: str) -> Comment | None:
        return await self._read(lambda conn: _get(conn, doc_id, comment_id))

    async def list_comments(self, doc_id: str) -> list[Comment]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} {_FROM} WHERE c.doc_id = ? ORDER BY c.created_at, c.id",
                (doc_id,),
            ).fetchall()
        )
        return [_comment(r) for r in rows]

    async def edit_comment(
        self, doc_id: str, comment_id: str, body: str, mentions: tuple[str, ...]
    ) -> Comment | None:
        def run(conn: sqlite3.Connection) -> Comment | None:
            conn.execute(
                "UPDATE comments SET body = ?, mentions = ?, edited_at = ?, "
                "version = version + 1 WHERE doc_id = ? AND id = ?",
                (body, json.dumps(list(mentions)), now_iso(), doc_id, comment_id),
            )
            return _get(conn, doc_id, comment_id)

        return await self._write(run)

    async def delete_comment(self, doc_id: str, comment_id: str) -> list[str]:
        def run(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "DELETE FROM comments WHERE doc_id = ? AND (id = ? OR thread_id = ?) "
                "AND (id = ? OR EXISTS (SELECT 1 FROM comments t WHERE t.doc_id = ? "
                "AND t.id = ? AND t.thread_id = t.id)) RETURNING id",
                (doc_id, comment_id, comment_id, comment_id, doc_id, comment_id),
            ).fetchall()
            return sorted(str(r[0]) for r in rows)

        return await self._write(run)

    async def set_thread_resolved(
        self, doc_id: str, thread_id: str, resolved: bool
    ) -> Comment | None:
        def run(conn: sqlite3.Connection) -> Comment | None:
            conn.execute(
                "UPDATE comments SET resolved = ?, version = version + 1 "
                "WHERE doc_id = ? AND id = ? AND thread_id = id AND resolved <> ?",
                (int(resolved), doc_id, thread_id, int(resolved)),
            )
            found = _get(conn, doc_id, thread_id)
            return found if found is not None and found.thread_id == found.id else None

        return await self._write(run)
