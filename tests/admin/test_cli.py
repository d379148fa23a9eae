"""``docstream admin``: the real command line in a subprocess, on SQLite and PostgreSQL; the
accounts it makes are then used through a server built on the same database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from docstream.web.app import create_app
from testkit.config import PG_SECRET, SettingsFactory
from tests.web.api import PASSWORD, register

ROOT = Path(__file__).resolve().parents[2]
Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def admin_cli(data_dir: Path, database_url: str | None) -> Cli:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSTREAM_")}
        env["PYTHONPATH"] = str(ROOT)
        storage = ["--data-dir", str(data_dir)]
        if database_url is not None:
            storage += ["--database-url", database_url]
            env["DOCSTREAM_JWT_SECRET"] = PG_SECRET
        return subprocess.run(
            [sys.executable, "-m", "docstream", "admin", args[0], *storage, *args[1:]],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    return run


async def test_create_user_set_admin_and_list_users(
    admin_cli: Cli, make_settings: SettingsFactory
) -> None:
    made = admin_cli(
        "create-user",
        "Root@Example.com",
        "--name",
        "Root",
        "--admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created root@example.com (administrator)" in made.stdout
    bob = admin_cli("create-user", "bob@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert bob.returncode == 0 and "(user)" in bob.stdout, bob.stderr
    again = admin_cli("create-user", "bob@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = admin_cli("create-user", "cy@example.com", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    # No terminal and no --password-stdin: refused, nothing is created.
    blind = admin_cli("create-user", "dan@example.com", stdin="")
    assert blind.returncode == 1 and "--password-stdin" in blind.stderr

    promoted = admin_cli("set-admin", "bob@example.com")
    assert promoted.returncode == 0 and "is an administrator" in promoted.stdout
    assert admin_cli("set-admin", "bob@example.com", "--revoke").returncode == 0
    last = admin_cli("set-admin", "root@example.com", "--revoke")
    assert last.returncode == 1 and "last administrator" in last.stderr
    unknown = admin_cli("set-admin", "nobody@example.com")
    assert unknown.returncode == 1 and "no account" in unknown.stderr

    listed = admin_cli("list-users")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["EMAIL", "NAME", "ROLE", "STATE", "DOCUMENTS", "CREATED"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"bob@example.com", "root@example.com"}
    assert "admin" in rows["root@example.com"].split() and "user" in rows["bob@example.com"].split()

    # The server sees them: the CLI's administrator signs in and administers; the next account
    # registered over the web is not an administrator (the CLI one counts).
    async with AsyncTestClient(create_app(make_settings())) as client:
        login = await client.post(
            "/auth/login", json={"email": "root@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200 and login.json()["user"]["is_admin"] is True
        token = login.json()["access_token"]
        client.cookies.clear()
        overview = await client.get("/admin/overview", headers={"Authorization": f"Bearer {token}"})
        assert overview.json()["users"] == 2
        # What the command line changed is in the audit log, from no one and nowhere.
        audit = await client.get(
            "/admin/audit?action=admin.", headers={"Authorization": f"Bearer {token}"}
        )
        assert audit.status_code == 200, audit.text
        logged = [
            (e["action"], e["subject_id"], e["actor_id"], e["ip"], e["detail"]["via"])
            for e in reversed(audit.json()["entries"])
        ]
        cli = ("command line",)
        root_id, bob_id = (out.stdout.split()[-1] for out in (made, bob))
        assert logged == [
            ("admin.user_created", root_id, None, None, *cli),
            ("admin.user_created", bob_id, None, None, *cli),
            ("admin.user_promoted", bob_id, None, None, *cli),
            ("admin.user_demoted", bob_id, None, None, *cli),
        ]
        newcomer = await register(client)
        me = await client.get("/auth/me", headers=newcomer.headers)
        assert me.json()["is_admin"] is False


def test_admin_needs_a_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "docstream", "admin"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "required" in result.stderr, result.stderr
