"""The audit log in PostgreSQL (``audit_log``, migration 0012): append, query, purge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from docstream.storage.audit_query import AUDIT_COLUMNS, audit_where
from docstream.storage.base import AuditEntry, AuditFilter, NewAuditEntry
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import is_uuid


def _entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        at=row[1],
        action=row[2],
        actor_id=row[3],
        actor_email=row[4],
        actor_name=row[5],
        ip=row[6],
        doc_id=row[7],
        doc_title=row[8],
        subject_id=row[9],
        subject_name=row[10],
        detail={str(k): str(v) for k, v in row[11].items()},
    )


def _uuid_or_none(value: str | None) -> str | None:
    """Ids are text in the log (anything may be recorded) but uuid in ``users``/``documents``."""
    return value if value is not None and is_uuid(value) else None


class PostgresAudit(PostgresStoreBase):
    """Who did what, when, from where."""

    async def append_audit(self, entry: NewAuditEntry) -> AuditEntry:
        actor, doc, subject = (
            _uuid_or_none(entry.actor_id),
            _uuid_or_none(entry.doc_id),
            _uuid_or_none(entry.subject_id),
        )
        row = await self._one(
            "INSERT INTO audit_log (action, actor_id, actor_email, actor_name, ip, doc_id, "
            "doc_title, subject_id, subject_name, detail) VALUES (%s, %s, "
            "COALESCE((SELECT email FROM users WHERE id = %s), ''), "
            "COALESCE((SELECT name FROM users WHERE id = %s), ''), %s, %s, "
            "COALESCE((SELECT title FROM documents WHERE id = %s), ''), %s, "
            "COALESCE((SELECT name FROM users WHERE id = %s), ''), %s) "
            f"RETURNING {AUDIT_COLUMNS}",
            (
                entry.action,
                entry.actor_id,
                actor,
                actor,
                entry.ip,
                entry.doc_id,
                doc,
                entry.subject_id,
                subject,
                Jsonb(entry.detail),
            ),
        )
        assert row is not None
        return _entry(row)

    async def list_audit(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        clause, params = audit_where(where, before_id, "%s", lambda when: when)
        rows = await self._all(
            f"SELECT {AUDIT_COLUMNS} FROM audit_log{clause} ORDER BY id DESC LIMIT %s",
            (*params, limit),
        )
        return [_entry(row) for row in rows]

    async def purge_audit(self, older_than: datetime, limit: int = 10_000) -> int:
        async with self._conn() as conn:
            cur = await conn.execute(
                "DELETE FROM audit_log WHERE id IN "
                "(SELECT id FROM audit_log WHERE at < %s ORDER BY id LIMIT %s)",
                (older_than, limit),
            )
            return cur.rowcount
