"""Rows of the PostgreSQL schema and the records they become.

Ids are ``uuid`` columns that the pool's connections read back as strings; a string that is not
a UUID can name no row, so the store answers "not found" for it without asking the database
(``is_uuid``), where PostgreSQL would refuse the cast.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from docstream.storage.base import DocumentRecord, Invitation, LogEntry, User, VersionRecord

DOC_COLUMNS = (
    "d.id, d.title, d.owner_id, d.seq, d.public_sharing_enabled, d.public_sharing_role, "
    "d.created_at, d.updated_at"
)
USER_COLUMNS = "id, email, name, password_hash, created_at, is_admin, disabled_at"
LOG_COLUMNS = (
    "l.doc_id, l.seq, l.user_id, l.replica, l.payload, l.kind, l.position, l.length, l.preview, "
    "l.created_at, COALESCE(u.name, '')"
)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


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
        created_at=row[5],
        expires_at=row[6],
        doc_title=row[7],
        inviter_name=row[8],
    )


def as_document(row: Sequence[Any]) -> DocumentRecord:
    return DocumentRecord(
        id=row[0],
        title=row[1],
        owner_id=row[2],
        seq=row[3],
        public_sharing_enabled=row[4],
        public_sharing_role=row[5],
        created_at=row[6],
        updated_at=row[7],
    )


def as_user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        email=row[1],
        name=row[2],
        password_hash=row[3],
        created_at=row[4],
        is_admin=bool(row[5]),
        disabled_at=row[6],
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
        created_at=row[9],
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
        created_at=row[7],
        text=row[8] if with_text else None,
    )
