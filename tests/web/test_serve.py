"""End-to-end: a real ``docstream serve`` process (granian) on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.config import PG_SECRET
from testkit.processes import run_server, server_env

pytestmark = pytest.mark.slow
PASSWORD = "end to end password"


@pytest.fixture
def serve_config(database_url: str | None) -> tuple[list[str], dict[str, str]]:
    """Command-line arguments and environment for this backend (nothing else configured)."""
    if database_url is not None:
        return ["--database-url", database_url], {"DOCSTREAM_JWT_SECRET": PG_SECRET}
    return [], {}


def _register(http: httpx.Client, email: str) -> dict[str, str]:
    response = http.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_register_create_list_get(serve_config: tuple[list[str], dict[str, str]]) -> None:
    args, env = serve_config
    with run_server(args, env) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        health = http.get("/health")
        assert health.status_code == 200
        assert health.json()["db"] == "ok" and health.json()["redis"] == "disabled"
        owner = _register(http, "owner@example.com")
        created = http.post("/documents", json={"title": "Served"}, headers=owner)
        assert created.status_code == 201, created.text
        doc_id = created.json()["id"]
        listed = http.get("/documents", headers=owner)
        assert [d["id"] for d in listed.json()] == [doc_id]
        opened = http.get(f"/documents/{doc_id}", headers=owner)
        assert opened.status_code == 200, opened.text
        assert opened.json()["title"] == "Served" and opened.json()["text"] == ""
        assert opened.headers["x-request-id"]
        assert http.get("/auth/me", headers=owner).json()["email"] == "owner@example.com"
        # errors through the real server keep the envelope and the request id
        for method, path, status in (
            ("GET", "/documents/x/y/z", 404),
            ("PUT", "/documents", 405),
            ("GET", f"/documents/{doc_id}", 401),
        ):
            response = http.request(method, path, headers={"X-Request-Id": "e2e-1"})
            assert response.status_code == status
            assert set(response.json()) == {"error"}
            assert response.headers["x-request-id"] == "e2e-1"
        bad = http.post(
            "/documents", content=b"{oops", headers={**owner, "content-type": "application/json"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
        schema = http.get("/schema/openapi.json")
        assert schema.status_code == 200 and "/documents" in schema.json()["paths"]
        assert server.stop(signal.SIGTERM) == 0


def test_streamed_body_over_the_limit_is_413(
    serve_config: tuple[list[str], dict[str, str]],
) -> None:
    """A chunked body (no Content-Length) is cut off at max_body_bytes too."""
    args, env = serve_config
    env = {**env, "DOCSTREAM_MAX_BODY_BYTES": "4096"}
    with run_server(args, env) as server, httpx.Client(base_url=server.url, timeout=30) as http:

        def chunks() -> Iterator[bytes]:
            yield b'{"email": "big@example.com", "password": "'
            for _ in range(100):
                yield b"x" * 100
            yield b'"}'

        response = http.post(
            "/auth/register", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert response.headers["x-request-id"]
        small = http.post(
            "/auth/register", json={"email": "small@example.com", "password": PASSWORD}
        )
        assert small.status_code == 201


def test_sqlite_defaults_keep_the_secret_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with run_server(["--data-dir", str(data_dir)]) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = _register(http, "keeper@example.com")
        assert server.stop() == 0
    secret_file = data_dir / "jwt_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert (data_dir / "docstream.sqlite3").exists()
    secret = secret_file.read_text()
    with (
        run_server(["--data-dir", str(data_dir)]) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        me = http.get("/auth/me", headers=token)
        assert me.status_code == 200 and me.json()["email"] == "keeper@example.com"
    assert secret_file.read_text() == secret


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_postgres_without_a_secret_refuses_to_start(tmp_path: Path, secret: str | None) -> None:
    env = server_env({"DOCSTREAM_JWT_SECRET": secret} if secret else {})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "docstream",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
        ],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result
    assert b"JWT_SECRET" in result.stderr and b"32 bytes" in result.stderr, result.stderr
    assert b"Traceback" not in result.stderr


async def test_sigterm_lets_in_flight_requests_finish(
    serve_config: tuple[list[str], dict[str, str]],
) -> None:
    """20 registrations (argon2id at the default cost) in flight when SIGTERM arrives."""
    args, env = serve_config
    with run_server(args, env) as server:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
            tasks = [
                asyncio.create_task(
                    http.post(
                        "/auth/register",
                        json={"email": f"burst{i}@example.com", "password": PASSWORD},
                    )
                )
                for i in range(20)
            ]
            # As soon as the first one is answered, every request has been sent and most are
            # still queued behind the hashing cap.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            in_flight = sum(not t.done() for t in tasks)
            signalled = time.monotonic()
            server.send_signal(signal.SIGTERM)
            results = await asyncio.gather(*tasks, return_exceptions=True)
        code = await asyncio.to_thread(server.wait, 10.0)
        elapsed = time.monotonic() - signalled
    statuses = [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in results]
    print(
        f"\nSIGTERM with {in_flight} of 20 requests in flight: exit {code} after "
        f"{elapsed:.2f} s; statuses {statuses}"
    )
    assert in_flight >= 5, "the test needs requests in flight when the signal arrives"
    assert statuses == [201] * 20, statuses
    assert code == 0
    assert elapsed < 10
    bodies = [json.loads(r.content) for r in results if isinstance(r, httpx.Response)]
    assert len({b["user"]["id"] for b in bodies}) == 20
