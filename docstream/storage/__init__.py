"""Persistence: one ``DocumentStore`` interface; SQLite, PostgreSQL and in-memory backends."""

from docstream.storage.base import (
    DocumentRecord,
    DocumentStore,
    LogEntry,
    NewLogEntry,
    Role,
    Snapshot,
    User,
    VersionRecord,
)

__all__ = [
    "DocumentRecord",
    "DocumentStore",
    "LogEntry",
    "NewLogEntry",
    "Role",
    "Snapshot",
    "User",
    "VersionRecord",
]
