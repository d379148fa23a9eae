"""Persistence: one ``DocumentStore`` interface, a SQLite and a PostgreSQL backend."""

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
