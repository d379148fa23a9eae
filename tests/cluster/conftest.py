"""Several real server processes sharing one PostgreSQL database and one Redis."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.collab.conftest import BASE_ENV
from tests.processes import ServerProcess, run_server
from tests.services import PostgresServer

NodeFactory = Callable[..., AbstractContextManager[ServerProcess]]


@pytest.fixture
def cluster_db(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    try:
        yield postgres_server.dsn_for(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def start_node(cluster_db: str, redis_url: str) -> NodeFactory:
    """Start one node of the cluster: ``with start_node() as node``."""

    def start(
        redis: str | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        **kwargs: Any,
    ) -> AbstractContextManager[ServerProcess]:
        return run_server(
            ["--database-url", cluster_db, "--redis-url", redis or redis_url, *(args or [])],
            {**BASE_ENV, **(env or {})},
            **kwargs,
        )

    return start


@pytest.fixture
def nodes(start_node: NodeFactory) -> Iterator[list[ServerProcess]]:
    """Three nodes."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(start_node()) for _ in range(3)]
