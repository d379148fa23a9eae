"""Rows of the SQLite schema and the records they become.

SQLite has no timestamp or boolean type: timestamps are ISO-8601 UTC strings and flags are
integers, converted here so every record leaves the backend with aware datetimes and real bools.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from docstream.storage.base import DocumentRecord, Invitation, LogEntry, User, VersionRecord, utcnow

DOC_COLUMNS = (
    "id, title, owner_id, seq, public_sharing_enabled, public_sharing_role, created_at, updated_at"
)
USER_COLUMNS = "id, email, name, password_hash, created_at, is_admin, disabled_at"
LOG_COLUMNS = (
    "l.doc_id, l.seq, l.user_id, l.replica, l.payload, l.kind, l.position, l.length, l.preview, "
    "l.created_at, COALESCE(u.name, '')"
)


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def now_iso() -> str:
    return utcnow().isoformat()


def to_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


INVITATION_COLUMNS = (
    "i.id, i.doc_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, "
    "COALESCE(d.title, ''), COALESCE(u.name, '')"
)
INVITATION_FROM = (
    "FROM invitations i LEFT JOIN documents d ON d.id = i.doc_id "
    "LEFT JOIN users u ON u.id = i.invited_by"
)


def as_invitation(row: Sequence[Any]) -> Invitation:
    return Invitation(
        id=row[0],
        doc_id=row[1],
        email=row[2],
        role=row[3],
        invited_by=row[4],
        created_at=parse_ts(row[5]),
        expires_at=parse_ts(row[6]),
        doc_title=row[7],
        inviter_name=row[8],
    )


def as_document(row: Sequence[Any]) -> DocumentRecord:
    return DocumentRecord(
        id=row[0],
        title=row[1],
        owner_id=row[2],
        seq=row[3],
        public_sharing_enabled=bool(row[4]),
        public_sharing_role=row[5],
        created_at=parse_ts(row[6]),
        updated_at=parse_ts(row[7]),
    )


def as_user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        email=row[1],
        name=row[2],
        password_hash=row[3],
        created_at=parse_ts(row[4]),
        is_admin=bool(row[5]),
        disabled_at=parse_ts(row[6]) if row[6] is not None else None,
    )


def as_log_entry(row: Sequence[Any]) -> LogEntry:
    return LogEntry(
        doc_id=row[0],
        seq=row[1],
        user_id=row[2],
        replica=row[3],
        payload=bytes(row[4]),
        kind=row[5],
        position=row[6],
        length=row[7],
        preview=row[8],
        created_at=parse_ts(row[9]),
        user_name=row[10],
    )


def as_version(row: Sequence[Any], with_text: bool) -> VersionRecord:
    return VersionRecord(
        doc_id=row[0],
        version=row[1],
        seq=row[2],
        kind=row[3],
        label=row[4],
        author_id=row[5],
        length=row[6],
        created_at=parse_ts(row[7]),
        text=row[8] if with_text else None,
    )
