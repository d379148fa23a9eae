from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docstream.storage.base import DocumentStore
from docstream.storage.postgres import PostgresDocumentStore
from docstream.storage.sqlite import SqliteDocumentStore


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    """A migrated, empty store of each backend."""
    backend: DocumentStore
    if request.param == "sqlite":
        backend = SqliteDocumentStore(tmp_path / "db.sqlite3")
    else:
        backend = PostgresDocumentStore(request.getfixturevalue("pg_dsn"))
    async with backend:
        await backend.migrate()
        yield backend
