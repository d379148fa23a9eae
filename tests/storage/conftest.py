from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from docstream.storage.base import DocumentStore
from testkit.config import BACKENDS


@pytest.fixture(params=[*BACKENDS, "memory"])
async def store(
    request: pytest.FixtureRequest, make_store: Callable[[str], DocumentStore]
) -> AsyncIterator[DocumentStore]:
    """A migrated, empty store of each backend."""
    backend = make_store(request.param)
    async with backend:
        await backend.migrate()
        yield backend
