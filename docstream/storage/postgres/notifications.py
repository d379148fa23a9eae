"""Notifications in PostgreSQL (``notifications``, ``notification_settings``, migration 0017)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from psycopg.types.json import Jsonb

from docstream.errors import NotFoundError
from docstream.storage import notification_query as q
from docstream.storage.base import (
    DIGEST_PERIOD,
    DigestFrequency,
    NewNotification,
    Notification,
)
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import is_uuid


def _notification(row: Sequence[Any]) -> Notification:
    return Notification(
        id=row[0],
        user_id=str(row[1]),
        kind=row[2],
        doc_id=str(row[3]),
        doc_title=row[4],
        actor_id=str(row[5]) if row[5] is not None else None,
        actor_name=row[6],
        detail={str(k): str(v) for k, v in row[7].items()},
        created_at=row[8],
        read_at=row[9],
        mailed_at=row[10],
    )


def _cutoffs(now: datetime) -> tuple[datetime, datetime]:
    return now - DIGEST_PERIOD["daily"], now - DIGEST_PERIOD["weekly"]


class PostgresNotifications(PostgresStoreBase):
    """Who was mentioned, replied to or given access, and their digest setting."""

    async def add_notification(self, new: NewNotification) -> Notification | None:
        if not (is_uuid(new.user_id) and is_uuid(new.doc_id)):
            return None  # no such user or document can exist
        actor = new.actor_id if new.actor_id is not None and is_uuid(new.actor_id) else None
        row = await self._one(
            "WITH made AS (INSERT INTO notifications (user_id, kind, doc_id, actor_id, detail) "
            "SELECT %s::uuid, %s, %s::uuid, (SELECT id FROM users WHERE id = %s::uuid), %s "
            f"WHERE {q.member_check('%s')} RETURNING *) "
            f"SELECT {q.COLUMNS} FROM made n JOIN documents d ON d.id = n.doc_id "
            "LEFT JOIN users u ON u.id = n.actor_id",
            (
                new.user_id,
                new.kind,
                new.doc_id,
                actor,
                Jsonb(new.detail),
                new.doc_id,
                new.user_id,
                new.user_id,
            ),
        )
        return _notification(row) if row is not None else None

    async def list_notifications(
        self,
        user_id: str,
        before_id: int | None = None,
        limit: int = 50,
        *,
        unread_unmailed: bool = False,
    ) -> list[Notification]:
        if not is_uuid(user_id):
            return []
        sql, params = q.list_sql("%s", user_id, before_id, limit, unread_unmailed)
        return [_notification(row) for row in await self._all(sql, params)]

    async def count_unread_notifications(self, user_id: str) -> int:
        if not is_uuid(user_id):
            return 0
        row = await self._one(q.unread_sql("%s"), (user_id,))
        return int(row[0]) if row else 0

    async def mark_notifications_read(self, user_id: str, ids: Sequence[int] | None) -> int:
        if not is_uuid(user_id):
            return 0
        base = "UPDATE notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL"
        async with self._conn() as conn:
            if ids is None:
                cur = await conn.execute(base.encode(), (user_id,))
            else:
                cur = await conn.execute(
                    f"{base} AND id = ANY(%s::bigint[])".encode(), (user_id, list(ids))
                )
            return cur.rowcount

    async def mark_notifications_mailed(self, user_id: str, ids: Sequence[int]) -> None:
        if not is_uuid(user_id) or not ids:
            return
        await self._all(
            "UPDATE notifications SET mailed_at = now() WHERE user_id = %s "
            "AND id = ANY(%s::bigint[]) RETURNING id",
            (user_id, list(ids)),
        )

    async def get_digest(self, user_id: str) -> DigestFrequency:
        if not is_uuid(user_id):
            return "off"
        row = await self._one(
            "SELECT digest FROM notification_settings WHERE user_id = %s", (user_id,)
        )
        return cast(DigestFrequency, row[0]) if row else "off"

    async def set_digest(self, user_id: str, frequency: DigestFrequency) -> None:
        if not is_uuid(user_id):
            raise NotFoundError("no such user")
        await self._all(
            "INSERT INTO notification_settings (user_id, digest) VALUES (%s, %s) "
            "ON CONFLICT (user_id) DO UPDATE SET digest = excluded.digest RETURNING user_id",
            (user_id, frequency),
        )

    async def digests_due(self, now: datetime, limit: int = 500) -> list[str]:
        daily, weekly = _cutoffs(now)
        rows = await self._all(q.due_sql("%s"), (daily, weekly, limit))
        return [str(r[0]) for r in rows]

    async def claim_digest(self, user_id: str, now: datetime) -> bool:
        if not is_uuid(user_id):
            return False
        daily, weekly = _cutoffs(now)
        async with self._conn() as conn:
            cur = await conn.execute(q.claim_sql("%s").encode(), (now, user_id, daily, weekly))
            return cur.rowcount == 1
