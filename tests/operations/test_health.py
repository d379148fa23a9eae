"""Liveness and readiness against real processes: a node whose database goes away stops being
ready (503) while staying alive, and is ready again when the database comes back; a database
upgraded by a newer version makes a node not ready; strangers see a status, never the checks."""

from __future__ import annotations

import time

import httpx

from testkit.config import BASE_ENV
from testkit.processes import ServerProcess, run_server
from testkit.services import postgres


def _ready(url: str) -> httpx.Response:
    return httpx.get(f"{url}/health/ready", timeout=10)


def _wait_for(url: str, status: int, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = _ready(url)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_a_node_without_its_database_is_alive_but_not_ready_until_it_returns() -> None:
    with postgres() as pg:
        name = pg.create_database()
        with run_server(["--database-url", pg.dsn_for(name)], BASE_ENV) as node:
            ok = _ready(node.url)
            assert ok.status_code == 200, ok.text
            assert ok.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
            pg.stop()
            down = _wait_for(node.url, 503)
            assert down.status_code == 503, down.text
            assert down.json() == {"status": "not_ready", "checks": {"database": "unavailable"}}
            live = httpx.get(f"{node.url}/health/live", timeout=10)
            assert live.status_code == 200 and live.json() == {"status": "ok"}
            pg.start()
            back = _wait_for(node.url, 200)
            assert back.status_code == 200, back.text


def test_a_schema_newer_than_the_code_makes_the_node_not_ready() -> None:
    with postgres() as pg:
        name = pg.create_database()
        dsn = pg.dsn_for(name)
        with run_server(["--database-url", dsn], BASE_ENV) as node:
            assert _ready(node.url).status_code == 200
            import psycopg

            with psycopg.connect(dsn, autocommit=True) as conn:  # a newer DocStream migrated it
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) "
                    "VALUES (9999, '9999_from_the_future', 'x')"
                )
            refused = _ready(node.url)
            assert refused.status_code == 503
            assert refused.json()["checks"] == {"database": "ok", "schema": "unknown"}


def test_a_remote_caller_sees_the_status_without_the_checks(server: ServerProcess) -> None:
    # A request that came through a proxy (a forwarding header) is not local, even from loopback.
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    response = httpx.get(f"{server.url}/health/ready", headers=forwarded, timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ready"}
    local = _ready(server.url).json()
    assert local["status"] == "ready" and local["checks"]["database"] == "ok"
