"""The audit log in memory: a list in append order."""

from __future__ import annotations

from datetime import datetime

from docstream.storage.base import AuditEntry, AuditFilter, NewAuditEntry, utcnow
from docstream.storage.memory.state import MemoryState


def _matches(entry: AuditEntry, where: AuditFilter, before_id: int | None) -> bool:
    actor = where.actor
    return (
        (not actor or entry.actor_id == actor or entry.actor_email == actor.strip().lower())
        and (not where.action or entry.action.startswith(where.action))
        and (not where.doc_id or entry.doc_id == where.doc_id)
        and (where.since is None or entry.at >= where.since)
        and (where.until is None or entry.at < where.until)
        and (before_id is None or entry.id < before_id)
    )


class MemoryAudit(MemoryState):
    """Who did what, when, from where."""

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self._audit: list[AuditEntry] = []
        self._audit_next = 1

    async def append_audit(self, entry: NewAuditEntry) -> AuditEntry:
        await self._enter()
        actor = self._users.get(entry.actor_id) if entry.actor_id else None
        subject = self._users.get(entry.subject_id) if entry.subject_id else None
        doc = self._docs.get(entry.doc_id) if entry.doc_id else None
        made = AuditEntry(
            id=self._audit_next,
            at=utcnow(),
            action=entry.action,
            actor_id=entry.actor_id,
            actor_email=actor.email if actor else "",
            actor_name=actor.name if actor else "",
            ip=entry.ip,
            doc_id=entry.doc_id,
            doc_title=doc.record.title if doc else "",
            subject_id=entry.subject_id,
            subject_name=subject.name if subject else "",
            detail=dict(entry.detail),
        )
        self._audit_next += 1
        self._audit.append(made)
        return made

    async def list_audit(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        await self._enter()
        found = [e for e in reversed(self._audit) if _matches(e, where, before_id)]
        return found[: max(limit, 0)]

    async def purge_audit(self, older_than: datetime, limit: int = 10_000) -> int:
        await self._enter()
        old = [e.id for e in self._audit if e.at < older_than][: max(limit, 0)]
        gone = set(old)
        self._audit = [e for e in self._audit if e.id not in gone]
        return len(old)
