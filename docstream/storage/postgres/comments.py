"""Comments in PostgreSQL (one row per comment; the thread is its first comment's id).

Kept apart from the documents mixin: only the comments service uses these. Mentions are a JSON
array of user ids (the same text as on SQLite, so a backup copies between the two); the author's
name is read from ``users`` at each read, so a rename shows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from docstream.errors import NotFoundError
from docstream.storage.base import Comment, NewComment
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import is_uuid

_COLUMNS = (
    "c.doc_id, c.id, c.thread_id, c.author_id, COALESCE(u.name, ''), c.body, c.created_at, "
    "c.anchor_start, c.anchor_end, c.quote, c.mentions, c.resolved, c.version, c.edited_at"
)
_FROM = "FROM comments c LEFT JOIN users u ON u.id = c.author_id"


def _comment(row: Sequence[Any]) -> Comment:
    return Comment(
        doc_id=str(row[0]),
        id=row[1],
        thread_id=row[2],
        author_id=str(row[3]),
        author_name=row[4],
        body=row[5],
        created_at=row[6],
        anchor_start=row[7],
        anchor_end=row[8],
        quote=row[9],
        mentions=tuple(json.loads(row[10])),
        resolved=bool(row[11]),
        version=row[12],
        edited_at=row[13],
    )


class PostgresComments(PostgresStoreBase):
    """Comment threads anchored to the text."""

    async def add_comment(self, doc_id: str, comment: NewComment) -> tuple[Comment, bool]:
        if not is_uuid(doc_id) or not is_uuid(comment.author_id):
            raise NotFoundError("no such document")
        row = await self._one(
            "INSERT INTO comments (doc_id, id, thread_id, author_id, body, anchor_start, "
            "anchor_end, quote, mentions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (doc_id, id) DO NOTHING RETURNING id",
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
            ),
        )
        found = await self.get_comment(doc_id, comment.id)
        if found is None:
            raise NotFoundError("no such document")
        return found, row is not None

    async def get_comment(self, doc_id: str, comment_id: str) -> Comment | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            f"SELECT {_COLUMNS} {_FROM} WHERE c.doc_id = %s AND c.id = %s", (doc_id, comment_id)
        )
        return _comment(row) if row else None

    async def list_comments(self, doc_id: str) -> list[Comment]:
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            f"SELECT {_COLUMNS} {_FROM} WHERE c.doc_id = %s ORDER BY c.created_at, c.id",
            (doc_id,),
        )
        return [_comment(r) for r in rows]

    async def edit_comment(
        self, doc_id: str, comment_id: str, body: str, mentions: tuple[str, ...]
    ) -> Comment | None:
        if not is_uuid(doc_id):
            return None
        await self._one(
            "UPDATE comments SET body = %s, mentions = %s, edited_at = now(), "
            "version = version + 1 WHERE doc_id = %s AND id = %s RETURNING id",
            (body, json.dumps(list(mentions)), doc_id, comment_id),
        )
        return await self.get_comment(doc_id, comment_id)

    async def delete_comment(self, doc_id: str, comment_id: str) -> list[str]:
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            "DELETE FROM comments WHERE doc_id = %s AND (id = %s OR thread_id = %s) "
            "AND (id = %s OR EXISTS (SELECT 1 FROM comments t WHERE t.doc_id = %s "
            "AND t.id = %s AND t.thread_id = t.id)) RETURNING id",
            (doc_id, comment_id, comment_id, comment_id, doc_id, comment_id),
        )
        return sorted(str(r[0]) for r in rows)

    async def set_thread_resolved(
        self, doc_id: str, thread_id: str, resolved: bool
    ) -> Comment | None:
        if not is_uuid(doc_id):
            return None
        await self._one(
            "UPDATE comments SET resolved = %s, version = version + 1 "
            "WHERE doc_id = %s AND id = %s AND thread_id = id AND resolved <> %s RETURNING id",
            (resolved, doc_id, thread_id, resolved),
        )
        found = await self.get_comment(doc_id, thread_id)
        return found if found is not None and found.thread_id == found.id else None
