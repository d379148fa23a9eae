"""``docstream admin reset-password EMAIL``, run as a process: it prints a one-time link that
resets the password through the REST API; an unknown address is a clear error (exit code 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from litestar.testing import AsyncTestClient

import docstream
from docstream.bootstrap import make_store
from docstream.settings import Settings
from docstream.storage.records import AuditFilter
from docstream.web.app import create_app
from testkit.config import PG_SECRET, SettingsFactory
from tests.web.api import assert_error, register, unique_email
from tests.web.recovery_kit import token_of_link

ROOT = Path(docstream.__file__).resolve().parents[1]


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        flags += ["--database-url", settings.database_url]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCSTREAM_")},
        "PYTHONPATH": str(ROOT),
        "DOCSTREAM_PUBLIC_URL": "https://docs.example.com",
    }
    if settings.database_url:
        env["DOCSTREAM_JWT_SECRET"] = PG_SECRET
    return subprocess.run(
        [sys.executable, "-m", "docstream", "admin", "reset-password", *args, *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_the_command_prints_a_link_that_resets_the_password(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    async with AsyncTestClient(create_app(settings)) as client:
        ann = await register(client)
    done = run_cli(settings, ann.email.upper())
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("https://docs.example.com/reset/"), done.stdout
    assert "works once" in done.stderr
    async with make_store(settings) as store:
        logged = await store.list_audit(AuditFilter(action="admin.password_reset_link"))
    assert [(e.subject_id, e.actor_id, e.ip, e.detail) for e in logged] == [
        (ann.id, None, None, {"via": "command line"})
    ]
    async with AsyncTestClient(create_app(settings)) as client:
        reset = await client.post(
            "/auth/password-reset/confirm",
            json={"token": token_of_link(link), "password": "the new passphrase"},
        )
        assert reset.status_code == 200, reset.text
        assert reset.json()["user"]["id"] == ann.id
        again = await client.post(
            "/auth/password-reset/confirm",
            json={"token": token_of_link(link), "password": "the new passphrase"},
        )
        assert_error(again, 400)


async def test_an_unknown_or_invited_address_is_a_clear_error(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    async with make_store(settings) as store:
        await store.migrate()
        invited = unique_email("invited")
        await store.get_or_create_pending_user(invited)
    for email in (unique_email("nobody"), invited):
        done = run_cli(settings, email)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert done.stdout == ""
        assert "no account has the address" in done.stderr
        assert "Traceback" not in done.stderr
    bad = run_cli(settings, "not-an-address")
    assert bad.returncode == 1 and "valid email" in bad.stderr
