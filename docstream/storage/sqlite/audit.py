"""The audit log in SQLite (``audit_log``, migration 0012): append, query, purge."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from docstream.storage.audit_query import AUDIT_COLUMNS, audit_where
from docstream.storage.base import AuditEntry, AuditFilter, NewAuditEntry
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import now_iso, parse_ts, to_iso

_DETAIL = msgspec.json.Decoder(dict[str, str])


def _entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        at=parse_ts(row[1]),
        action=row[2],
        actor_id=row[3],
        actor_email=row[4],
        actor_name=row[5],
        ip=row[6],
        doc_id=row[7],
        doc_title=row[8],
        subject_id=row[9],
        subject_name=row[10],
        detail=_DETAIL.decode(row[11]),
    )


class SqliteAudit(SqliteStoreBase):
    """Who did what, when, from where."""

    async def append_audit(self, entry: NewAuditEntry) -> AuditEntry:
        params = (
            now_iso(),
            entry.action,
            entry.actor_id,
            entry.actor_id,
            entry.actor_id,
            entry.ip,
            entry.doc_id,
            entry.doc_id,
            entry.subject_id,
            entry.subject_id,
            msgspec.json.encode(entry.detail).decode(),
        )
        row = await self._write(
            lambda conn: conn.execute(
                "INSERT INTO audit_log (at, action, actor_id, actor_email, actor_name, ip, doc_id, "
                "doc_title, subject_id, subject_name, detail) VALUES (?, ?, ?, "
                "COALESCE((SELECT email FROM users WHERE id = ?), ''), "
                "COALESCE((SELECT name FROM users WHERE id = ?), ''), ?, ?, "
                "COALESCE((SELECT title FROM documents WHERE id = ?), ''), ?, "
                "COALESCE((SELECT name FROM users WHERE id = ?), ''), ?) "
                f"RETURNING {AUDIT_COLUMNS}",
                params,
            ).fetchone()
        )
        return _entry(row)

    async def list_audit(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        clause, params = audit_where(where, before_id, "?", to_iso)
        sql = f"SELECT {AUDIT_COLUMNS} FROM audit_log{clause} ORDER BY id DESC LIMIT ?"
        rows = await self._read(lambda conn: conn.execute(sql, (*params, limit)).fetchall())
        return [_entry(row) for row in rows]

    async def purge_audit(self, older_than: datetime, limit: int = 10_000) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM audit_log WHERE id IN "
                "(SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)",
                (to_iso(older_than), limit),
            ).rowcount

        return await self._write(run)
