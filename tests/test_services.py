"""The test services are real servers: prove it by talking to each."""

from __future__ import annotations

import psycopg
import redis


def test_postgres_fixture_gives_a_real_isolated_database(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        assert version is not None and int(version[0].split(".")[0]) >= 13
        conn.execute("CREATE TABLE probe (x int)")
        conn.execute("INSERT INTO probe VALUES (41), (1)")
        total = conn.execute("SELECT sum(x) FROM probe").fetchone()
        assert total == (42,)
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (1,)  # the database is fresh: only the table this test made


def test_redis_fixture_gives_a_real_flushed_server(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
        client.set("probe", "42")
        assert client.get("probe") == b"42"
        info = client.info("server")
        assert "redis_version" in info
    finally:
        client.close()


def test_redis_is_flushed_between_tests(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.get("probe") is None
    finally:
        client.close()
