"""Notifications in SQLite (``notifications``, ``notification_settings``, migration 0017)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import msgspec

from docstream.errors import NotFoundError
from docstream.storage import notification_query as q
from docstream.storage.base import (
    DIGEST_PERIOD,
    DigestFrequency,
    NewNotification,
    Notification,
)
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import now_iso, parse_ts, to_iso

_DETAIL = msgspec.json.Decoder(dict[str, str])
_CHUNK = 500  # stay below SQLite's variable limit


def _notification(row: Sequence[Any]) -> Notification:
    return Notification(
        id=row[0],
        user_id=row[1],
        kind=row[2],
        doc_id=row[3],
        doc_title=row[4],
        actor_id=row[5],
        actor_name=row[6],
        detail=_DETAIL.decode(row[7]),
        created_at=parse_ts(row[8]),
        read_at=parse_ts(row[9]) if row[9] else None,
        mailed_at=parse_ts(row[10]) if row[10] else None,
    )


def _cutoffs(now: datetime) -> tuple[str, str]:
    return to_iso(now - DIGEST_PERIOD["daily"]), to_iso(now - DIGEST_PERIOD["weekly"])


class SqliteNotifications(SqliteStoreBase):
    """Who was mentioned, replied to or given access, and their digest setting."""

    async def add_notification(self, new: NewNotification) -> Notification | None:
        detail = msgspec.json.encode(new.detail).decode()

        def run(conn: sqlite3.Connection) -> Notification | None:
            made = conn.execute(
                "INSERT INTO notifications (user_id, kind, doc_id, actor_id, detail, created_at) "
                "SELECT ?, ?, ?, (SELECT id FROM users WHERE id = ?), ?, ? "
                f"WHERE {q.member_check('?')} RETURNING id",
                (
                    new.user_id,
                    new.kind,
                    new.doc_id,
                    new.actor_id,
                    detail,
                    now_iso(),
                    new.doc_id,
                    new.user_id,
                    new.user_id,
                ),
            ).fetchone()
            if made is None:
                return None
            row = conn.execute(
                f"SELECT {q.COLUMNS}{q.FROM_VISIBLE} AND n.id = ?", (made[0],)
            ).fetchone()
            return _notification(row)

        return await self._write(run)

    async def list_notifications(
        self,
        user_id: str,
        before_id: int | None = None,
        limit: int = 50,
        *,
        unread_unmailed: bool = False,
    ) -> list[Notification]:
        sql, params = q.list_sql("?", user_id, before_id, limit, unread_unmailed)
        rows = await self._read(lambda conn: conn.execute(sql, params).fetchall())
        return [_notification(row) for row in rows]

    async def count_unread_notifications(self, user_id: str) -> int:
        row = await self._read(lambda conn: conn.execute(q.unread_sql("?"), (user_id,)).fetchone())
        return int(row[0])

    async def mark_notifications_read(self, user_id: str, ids: Sequence[int] | None) -> int:
        now = now_iso()

        def run(conn: sqlite3.Connection) -> int:
            base = "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL"
            if ids is None:
                return conn.execute(base, (now, user_id)).rowcount
            wanted = list(dict.fromkeys(ids))
            changed = 0
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                changed += conn.execute(
                    f"{base} AND id IN ({marks})", (now, user_id, *chunk)
                ).rowcount
            return changed

        return await self._write(run)

    async def mark_notifications_mailed(self, user_id: str, ids: Sequence[int]) -> None:
        now = now_iso()
        wanted = list(ids)

        def run(conn: sqlite3.Connection) -> None:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    f"UPDATE notifications SET mailed_at = ? WHERE user_id = ? AND id IN ({marks})",
                    (now, user_id, *chunk),
                )

        await self._write(run)

    async def get_digest(self, user_id: str) -> DigestFrequency:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT digest FROM notification_settings WHERE user_id = ?", (user_id,)
            ).fetchone()
        )
        return cast(DigestFrequency, row[0]) if row else "off"

    async def set_digest(self, user_id: str, frequency: DigestFrequency) -> None:
        def run(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
                raise NotFoundError("no such user")
            conn.execute(
                "INSERT INTO notification_settings (user_id, digest) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET digest = excluded.digest",
                (user_id, frequency),
            )

        await self._write(run)

    async def digests_due(self, now: datetime, limit: int = 500) -> list[str]:
        daily, weekly = _cutoffs(now)
        rows = await self._read(
            lambda conn: conn.execute(q.due_sql("?"), (daily, weekly, limit)).fetchall()
        )
        return [r[0] for r in rows]

    async def claim_digest(self, user_id: str, now: datetime) -> bool:
        daily, weekly = _cutoffs(now)
        changed = await self._write(
            lambda conn: (
                conn.execute(q.claim_sql("?"), (to_iso(now), user_id, daily, weekly)).rowcount
            )
        )
        return bool(changed == 1)
