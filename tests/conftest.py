from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services import PostgresServer, RedisServer, start_postgres, start_redis


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
