"""The fixtures every folder shares: services, backends, in-process apps, server processes, users.

* Services: the session's throwaway PostgreSQL (``postgres_server``, a fresh database per test:
  ``pg_dsn``) and Redis (``redis_server``, flushed per test: ``redis_url``). With ``CI`` set a
  service that cannot start fails the tests that need it; locally they are skipped.
* Backends: ``backend`` runs a test once on SQLite and once on PostgreSQL; ``make_store`` opens a
  store of a named backend; ``database_url`` is the backend's ``--database-url`` (None: SQLite).
* In-process apps (REST tests): ``make_settings``, ``app``, ``client`` on ``backend``.
* Server processes (``docstream serve``): ``server_backend`` / ``start_server`` / ``server``, one
  server per module and backend; ``start_node`` / ``nodes``, cluster nodes sharing one PostgreSQL
  database (``cluster_db``) and one Redis.
* Users: ``users`` registers Python clients against ``server`` and closes them afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from testkit.accounts import Users
from testkit.config import BACKENDS, BASE_ENV, FAST_ARGON2, PG_SECRET, UNLIMITED, SettingsFactory
from testkit.processes import ServerFactory, ServerProcess, run_server, start_servers
from testkit.services import PostgresServer, RedisServer, start_postgres, start_redis

if TYPE_CHECKING:  # the app and the stores are imported by the fixtures that use them, so that a
    # run of the pure tests (crdt, typeahead) loads neither the web stack nor the database drivers
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from docstream.settings import Settings
    from docstream.storage.base import DocumentStore

# --------------------------------------------------------------------------- services


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from start_postgres()


@pytest.fixture
def pg_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A DSN of a fresh, empty database that is dropped after the test."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.dsn_for(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    yield from start_redis()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The URL of the session's Redis, flushed before the test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_server.url


# --------------------------------------------------------------------------- backends


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """This test's database on ``backend``: a fresh PostgreSQL database, or None for SQLite."""
    return str(request.getfixturevalue("pg_dsn")) if backend == "postgres" else None


@pytest.fixture
def make_store(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], DocumentStore]:
    """``make_store(kind)``: an unopened store of that backend (SQLite in ``tmp_path``, a fresh
    PostgreSQL database, or the in-memory store); open it with ``async with`` and migrate it."""

    def make(kind: str) -> DocumentStore:
        if kind == "sqlite":
            from docstream.storage.sqlite import SqliteDocumentStore

            return SqliteDocumentStore(tmp_path / "db.sqlite3")
        if kind == "postgres":
            from docstream.storage.postgres import PostgresDocumentStore

            return PostgresDocumentStore(request.getfixturevalue("pg_dsn"))
        if kind == "memory":
            from docstream.storage.memory import MemoryDocumentStore

            return MemoryDocumentStore()
        raise ValueError(f"unknown backend {kind!r}")

    return make


# --------------------------------------------------------------------------- in-process apps


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_settings(data_dir: Path, database_url: str | None) -> SettingsFactory:
    """``make_settings(**overrides)``: settings for this test's backend (one database per test).

    Rate limits are out of the way (the limiters have their own tests; the others make more than
    100 requests a minute) and argon2 is cheap (a test checks the real defaults)."""
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "log_level": "warning",
        **UNLIMITED,
        **FAST_ARGON2,
    }
    if database_url is not None:
        base["database_url"] = database_url
        base["jwt_secret"] = PG_SECRET

    from docstream.settings import Settings

    def make(**overrides: Any) -> Settings:
        return Settings(**{**base, **overrides}).validated()

    return make


@pytest.fixture
def app(make_settings: SettingsFactory) -> Litestar:
    from docstream.web.app import create_app

    return create_app(make_settings())


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app) as test_client:
        yield test_client


# --------------------------------------------------------------------------- server processes


@pytest.fixture(scope="module", params=BACKENDS)
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
    return start_servers(server_backend, BASE_ENV)


@pytest.fixture(scope="module")
def server(start_server: ServerFactory) -> Iterator[ServerProcess]:
    """One server per module and backend; tests isolate themselves with fresh users."""
    with start_server(env={"DOCSTREAM_HELLO_TIMEOUT": "2"}) as proc:
        yield proc


@pytest.fixture
def cluster_db(pg_dsn: str) -> str:
    """The PostgreSQL database the nodes of a cluster test share."""
    return pg_dsn


@pytest.fixture
def start_node(cluster_db: str, redis_url: str) -> ServerFactory:
    """Start one node of the cluster: ``with start_node() as node`` (``redis=`` another URL, e.g.
    through a proxy that can be cut)."""

    def start(
        redis: str | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        **kwargs: Any,
    ) -> contextlib.AbstractContextManager[ServerProcess]:
        return run_server(
            ["--database-url", cluster_db, "--redis-url", redis or redis_url, *(args or [])],
            {**BASE_ENV, **(env or {})},
            **kwargs,
        )

    return start


@pytest.fixture
def nodes(start_node: ServerFactory) -> Iterator[list[ServerProcess]]:
    """Three nodes."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(start_node()) for _ in range(3)]


# --------------------------------------------------------------------------- users


@pytest.fixture
async def users(server: ServerProcess) -> AsyncIterator[Users]:
    made = Users(server.url)
    try:
        yield made
    finally:
        await made.close()
