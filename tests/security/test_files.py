"""The data dir is private: directories 0700, DocStream's files 0600, old installs tightened.

Attack: another local user of the machine reads the SQLite database (documents, password hashes),
its ``-wal``/``-shm``, the JWT secret (with it they sign in as anyone), or the typeahead files
(titles, collaborators' names). A real ``docstream serve`` runs with the usual umask 022, does
some of everything, and every path under its data dir is checked while it runs and after it
stopped; then an install with loose modes (as older versions left it) is started again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from testkit.accounts import unique_email
from testkit.processes import ServerFactory, ServerProcess


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The umask the server starts with (a child process inherits it)."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    """Every path under ``root`` (``root`` itself as "."), with its permission bits."""
    found = {".": stat.S_IMODE(root.lstat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def loose(found: dict[str, int], root: Path) -> dict[str, str]:
    """The paths whose mode is not 0700 (directories) or 0600 (files)."""
    bad = {}
    for name, mode in found.items():
        wanted = 0o700 if (root / name).is_dir() else 0o600
        if mode != wanted:
            bad[name] = oct(mode)
    return bad


def exercise(server: ServerProcess) -> None:
    """Accounts, documents, edits, sharing and mention picks: every kind of file gets written."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        reply = http.post(
            "/auth/register",
            json={"email": unique_email("files"), "password": "password123", "name": "Fay"},
        ).json()
        auth = {"Authorization": f"Bearer {reply['access_token']}"}
        for title in ("Quarterly numbers", "Salaries"):
            doc = http.post("/documents", json={"title": title}, headers=auth).json()
        shared = http.post(
            f"/documents/{doc['id']}/share",
            json={"email": unique_email("guest"), "role": "viewer"},
            headers=auth,
        )
        assert shared.status_code == 200, shared.text
        picked = http.post(
            f"/documents/{doc['id']}/mentions/select", json={"word": "Fay"}, headers=auth
        )
        assert picked.status_code == 200, picked.text
        named = http.post(f"/documents/{doc['id']}/versions", json={"label": "v"}, headers=auth)
        assert named.status_code == 201, named.text


def test_every_file_of_a_running_server_is_private(
    start_server: ServerFactory, server_backend: list[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    # SQLite: let the server make its own JWT secret file (PostgreSQL needs a configured one).
    env = {} if server_backend else {"DOCSTREAM_JWT_SECRET": ""}
    with umask(0o022), start_server(args=["--data-dir", str(data_dir)], env=env) as server:
        exercise(server)
        running = modes(data_dir)
        assert loose(running, data_dir) == {}, running
    stopped = modes(data_dir)
    assert loose(stopped, data_dir) == {}, stopped
    names = set(stopped)
    assert any(n.startswith("typeahead/mentions-0/") for n in names), names
    assert any(n.startswith("typeahead/titles-0") for n in names), names
    if not server_backend:
        assert {"docstream.sqlite3", "jwt_secret"} <= names, names
        assert "docstream.sqlite3-wal" in running or "docstream.sqlite3-shm" in running, running


def test_an_install_with_loose_modes_is_tightened_on_start(
    start_server: ServerFactory, server_backend: list[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = {} if server_backend else {"DOCSTREAM_JWT_SECRET": ""}
    with umask(0o022), start_server(args=["--data-dir", str(data_dir)], env=env) as server:
        exercise(server)
    # What an older version left behind: everything readable by everyone.
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    foreign = data_dir / "notes.txt"  # not DocStream's: left as it is
    foreign.write_text("mine")
    foreign.chmod(0o644)
    with umask(0o022), start_server(args=["--data-dir", str(data_dir)], env=env) as server:
        found = modes(data_dir)
        exercise(server)
    assert loose({k: v for k, v in found.items() if k != "notes.txt"}, data_dir) == {}, found
    assert found["notes.txt"] == 0o644
    assert loose({k: v for k, v in modes(data_dir).items() if k != "notes.txt"}, data_dir) == {}
