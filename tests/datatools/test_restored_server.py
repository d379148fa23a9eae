"""A server started on a restored store: people sign in with their passwords, stay signed in
(sessions are copied), open their documents, and title search works (the typeahead files are not
in a backup: the server rebuilds them from the database)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from docstream.datatools.backup import backup, restore
from docstream.datatools.endpoints import SqliteFile
from testkit.accounts import PASSWORD, register, unique_email
from testkit.config import BASE_ENV
from testkit.processes import run_server


def test_a_restored_server_signs_people_in_and_finds_titles(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    email = unique_email("ann")
    with run_server(["--data-dir", str(first)], BASE_ENV) as server:
        ann = register(server.url, email=email, name="Ann")
        headers = {"Authorization": f"Bearer {ann.token}"}
        made = {}
        for title in ("Quarterly roadmap", "Budget draft"):
            r = httpx.post(f"{server.url}/documents", json={"title": title}, headers=headers)
            made[title] = r.json()["id"]
        # A backup taken while the server runs.
        file = tmp_path / "backup.db"
        backup(SqliteFile(first / "docstream.sqlite3"), file)
    restore(file, SqliteFile(second / "docstream.sqlite3"))
    assert not (second / "typeahead").exists()

    with run_server(["--data-dir", str(second)], BASE_ENV) as server:
        login = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        # The session of the first server goes on (same JWT secret, sessions copied).
        refreshed = httpx.post(
            f"{server.url}/auth/refresh", json={"refresh_token": ann.refresh_token}
        )
        assert refreshed.status_code == 200, refreshed.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = httpx.get(f"{server.url}/documents", headers=headers).json()
        assert sorted(d["title"] for d in listed) == sorted(made)
        deadline = time.monotonic() + 15
        while True:
            found = httpx.get(
                f"{server.url}/suggest/titles", params={"q": "quart"}, headers=headers
            ).json()
            if [s["doc_id"] for s in found] == [made["Quarterly roadmap"]]:
                break
            assert time.monotonic() < deadline, found
            time.sleep(0.2)
