"""Real server processes on each backend, and helpers to make users and documents."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from docstream.client import DocStreamClient
from tests.processes import ServerProcess, run_server
from tests.services import PostgresServer

JWT_SECRET = "collab-tests-secret-" + "x" * 32
BASE_ENV = {
    "DOCSTREAM_RATE_LIMIT_PER_MINUTE": "1000000",
    "DOCSTREAM_AUTH_RATE_LIMIT_PER_MINUTE": "1000000",
    "DOCSTREAM_AUTH_RATE_LIMIT_PER_ACCOUNT": "1000000",
    "DOCSTREAM_WS_HANDSHAKES_PER_MINUTE": "1000000",
    "DOCSTREAM_TYPEAHEAD_RATE_LIMIT_PER_MINUTE": "1000000",
    "DOCSTREAM_WS_MAX_SOCKETS_PER_USER": "100000",
    "DOCSTREAM_WS_MAX_SOCKETS_PER_ADDRESS": "100000",
    "DOCSTREAM_JWT_SECRET": JWT_SECRET,
    "DOCSTREAM_ARGON2_MEMORY_KIB": "19456",
}

ServerFactory = Callable[..., AbstractContextManager[ServerProcess]]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server_backend(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Server arguments for each backend (a fresh PostgreSQL database per module)."""
    if request.param == "sqlite":
        yield []
        return
    pg: PostgresServer = request.getfixturevalue("postgres_server")
    name = pg.create_database()
    try:
        yield ["--database-url", pg.dsn_for(name)]
    finally:
        pg.drop_database(name)


@pytest.fixture(scope="module")
def start_server(server_backend: list[str]) -> ServerFactory:
    """Start a server on this module's backend: ``with start_server(env={...}) as server``."""

    def start(
        args: list[str] | None = None, env: dict[str, str] | None = None, **kwargs: Any
    ) -> AbstractContextManager[ServerProcess]:
        return run_server([*server_backend, *(args or [])], {**BASE_ENV, **(env or {})}, **kwargs)

    return start


@pytest.fixture(scope="module")
def server(start_server: ServerFactory) -> Iterator[ServerProcess]:
    """One server per module and backend; tests isolate themselves with fresh users."""
    with start_server(env={"DOCSTREAM_HELLO_TIMEOUT": "2"}) as proc:
        yield proc


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{secrets.token_hex(6)}@example.com"


class Users:
    """Registers users against a server and closes their clients at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: list[DocStreamClient] = []

    async def new(self, name: str = "user") -> DocStreamClient:
        client = DocStreamClient(self.url)
        self.clients.append(client)
        await client.register(unique_email(name), "password123", name.capitalize())
        return client

    def anonymous(self) -> DocStreamClient:
        client = DocStreamClient(self.url)
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


@pytest.fixture
async def users(server: ServerProcess) -> AsyncIterator[Users]:
    made = Users(server.url)
    try:
        yield made
    finally:
        await made.close()
