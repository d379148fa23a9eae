"""A real store (SQLite and PostgreSQL), a DocumentService and users, for the typeahead services.

``world`` runs each test once per backend. The services themselves are opened by the tests, so
each test controls their settings, clocks and injected store openers.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from docstream.services.documents import DocumentService
from docstream.services.identity import Identity
from docstream.settings import Settings
from docstream.storage.base import DocumentRecord, DocumentStore

_ids = itertools.count(1)


class World:
    """The database side of a node: a store, the document service and helpers."""

    def __init__(self, store: DocumentStore, data_dir: Path) -> None:
        self.store = store
        self.documents = DocumentService(store)
        self.data_dir = data_dir

    def settings(self, **overrides: Any) -> Settings:
        return Settings(data_dir=self.data_dir, log_level="warning", **overrides)

    async def user(self, name: str = "User") -> Identity:
        email = f"{name.lower().replace(' ', '.')}{next(_ids)}@example.com"
        user = await self.store.register_user(email, name, "not-a-real-hash")
        return Identity(user_id=user.id, name=user.name)

    async def doc(self, owner: Identity, title: str = "Notes") -> DocumentRecord:
        return await self.documents.create(owner, title)

    async def email_of(self, who: Identity) -> str:
        user = await self.store.get_user(who.user_id)
        assert user is not None
        return user.email


@pytest.fixture
async def world(
    backend: str, make_store: Callable[[str], DocumentStore], tmp_path: Path
) -> AsyncIterator[World]:
    store = make_store(backend)
    async with store:
        await store.migrate()
        yield World(store, tmp_path / "data")
