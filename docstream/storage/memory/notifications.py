"""Notifications in memory: rows in id order, filtered by access when read (as the SQL does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from docstream.errors import NotFoundError
from docstream.storage.base import (
    DIGEST_PERIOD,
    DigestFrequency,
    NewNotification,
    Notification,
    NotificationKind,
    utcnow,
)
from docstream.storage.memory.state import MemoryState


@dataclass(slots=True)
class NotificationRow:
    id: int
    user_id: str
    kind: NotificationKind
    doc_id: str
    actor_id: str | None
    detail: dict[str, str]
    created_at: datetime
    read_at: datetime | None = None
    mailed_at: datetime | None = None


@dataclass(slots=True)
class DigestRow:
    digest: DigestFrequency = "off"
    last_at: datetime | None = None


@dataclass(slots=True)
class _Tables:
    rows: dict[int, NotificationRow] = field(default_factory=dict)
    digests: dict[str, DigestRow] = field(default_factory=dict)
    next_id: int = 1


class MemoryNotifications(MemoryState):
    """Who was mentioned, replied to or given access, and their digest setting."""

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self._notifications = _Tables()

    def _member(self, user_id: str, doc_id: str) -> bool:
        doc = self._live(doc_id)
        return user_id in self._users and doc is not None and self._role(doc, user_id) is not None

    def _record(self, row: NotificationRow) -> Notification | None:
        """The row as listed, None while hidden (no access; the user or document is gone)."""
        if not self._member(row.user_id, row.doc_id):
            return None
        doc = self._live(row.doc_id)
        assert doc is not None
        actor = self._users.get(row.actor_id) if row.actor_id else None
        return Notification(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            doc_id=row.doc_id,
            doc_title=doc.record.title,
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else "",
            detail=dict(row.detail),
            created_at=row.created_at,
            read_at=row.read_at,
            mailed_at=row.mailed_at,
        )

    async def add_notification(self, new: NewNotification) -> Notification | None:
        await self._enter()
        if not self._member(new.user_id, new.doc_id):
            return None
        tables = self._notifications
        row = NotificationRow(
            id=tables.next_id,
            user_id=new.user_id,
            kind=new.kind,
            doc_id=new.doc_id,
            actor_id=new.actor_id if new.actor_id in self._users else None,
            detail=dict(new.detail),
            created_at=utcnow(),
        )
        tables.next_id += 1
        tables.rows[row.id] = row
        return self._record(row)

    def _visible(self, user_id: str) -> list[tuple[NotificationRow, Notification]]:
        out = []
        for row in reversed(self._notifications.rows.values()):
            if row.user_id == user_id and (listed := self._record(row)) is not None:
                out.append((row, listed))
        return out

    async def list_notifications(
        self,
        user_id: str,
        before_id: int | None = None,
        limit: int = 50,
        *,
        unread_unmailed: bool = False,
    ) -> list[Notification]:
        await self._enter()
        found = [
            listed
            for row, listed in self._visible(user_id)
            if (before_id is None or row.id < before_id)
            and (not unread_unmailed or (row.read_at is None and row.mailed_at is None))
        ]
        return found[: max(limit, 0)]

    async def count_unread_notifications(self, user_id: str) -> int:
        await self._enter()
        return sum(1 for row, _ in self._visible(user_id) if row.read_at is None)

    async def mark_notifications_read(self, user_id: str, ids: Sequence[int] | None) -> int:
        await self._enter()
        now = utcnow()
        rows = self._notifications.rows
        targets = rows.values() if ids is None else [rows[i] for i in set(ids) if i in rows]
        changed = 0
        for row in targets:
            if row.user_id == user_id and row.read_at is None:
                row.read_at = now
                changed += 1
        return changed

    async def mark_notifications_mailed(self, user_id: str, ids: Sequence[int]) -> None:
        await self._enter()
        now = utcnow()
        for i in ids:
            row = self._notifications.rows.get(i)
            if row is not None and row.user_id == user_id:
                row.mailed_at = now

    async def get_digest(self, user_id: str) -> DigestFrequency:
        await self._enter()
        row = self._notifications.digests.get(user_id)
        return row.digest if row is not None and user_id in self._users else "off"

    async def set_digest(self, user_id: str, frequency: DigestFrequency) -> None:
        await self._enter()
        if user_id not in self._users:
            raise NotFoundError("no such user")
        self._notifications.digests.setdefault(user_id, DigestRow()).digest = frequency

    def _due(self, user_id: str, row: DigestRow, now: datetime) -> bool:
        if user_id not in self._users or row.digest == "off":
            return False
        return row.last_at is None or row.last_at <= now - DIGEST_PERIOD[row.digest]

    async def digests_due(self, now: datetime, limit: int = 500) -> list[str]:
        await self._enter()
        due = sorted(u for u, row in self._notifications.digests.items() if self._due(u, row, now))
        return due[: max(limit, 0)]

    async def claim_digest(self, user_id: str, now: datetime) -> bool:
        await self._enter()
        row = self._notifications.digests.get(user_id)
        if row is None or not self._due(user_id, row, now):
            return False
        row.last_at = now
        return True
