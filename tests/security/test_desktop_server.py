"""The desktop's embedded server: the window's credentials go to our server and nobody else.

Attacks by another local program: grab the port the desktop is about to use (the old start probed
a free port, released it, and let granian bind it a moment later), or share it with
``SO_REUSEPORT`` (granian sets it on the sockets it binds), then answer ``/health`` like DocStream
and collect the local profile's e-mail and password from the sign-in that follows; or simply read
the desktop's files. The embedded server runs in this test process, as in ``docstream desktop``.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from docstream.desktop import embedded
from docstream.desktop.embedded import EmbeddedServer
from docstream.desktop.instance import SingleInstance
from docstream.desktop.profile import PROFILE_FILE, sign_in
from docstream.errors import DesktopError
from docstream.settings import Settings


class FakeServer:
    """A program that answers every request like a healthy DocStream and keeps what it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.received.append((self.command, self.path, body))
                reply = json.dumps(
                    {"status": "ok", "access_token": "x", "refresh_token": "y", "user": {}}
                ).encode()
                self.send_response(201 if self.path == "/auth/register" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def saw(self, secret: str) -> bool:
        return any(secret.encode() in body or secret in path for _, path, body in self.received)


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    try:
        yield server
    finally:
        server.close()


def settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, log_level="warning", argon2_memory_kib=1024, argon2_time_cost=1
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(settings(tmp_path / "data"))
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def profile_password(data_dir: Path) -> str:
    password: str = json.loads((data_dir / PROFILE_FILE).read_text())["password"]
    return password


def test_a_program_that_took_the_port_first_never_gets_the_profile_credentials(
    fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    # The race lost: the port the desktop picked is the fake server's by the time it is used.
    monkeypatch.setattr(embedded, "free_port", lambda host="127.0.0.1": fake.port, raising=False)
    server = EmbeddedServer(settings(data_dir))
    server.start()
    try:
        try:  # what shell.py does before handing the window its session
            server.wait_ready()
            sign_in(server.url, data_dir)
        except DesktopError:
            pass
    finally:
        server.stop()
    assert not [r for r in fake.received if r[1].startswith("/auth")], fake.received
    if (data_dir / PROFILE_FILE).exists():
        assert not fake.saw(profile_password(data_dir))
    assert server.port != fake.port


def test_a_server_that_cannot_prove_itself_gets_no_credentials(
    fake: FakeServer, running: EmbeddedServer
) -> None:
    from docstream.desktop.embedded import check_proof

    key = running._key
    # Our server proves itself; the fake one, asked the same way, cannot.
    assert check_proof(running.url, key, running.port)
    with pytest.raises(DesktopError, match="did not prove"):
        check_proof(fake.url, key, fake.port)
    # A relay of our server's answer to another port does not pass either.
    with pytest.raises(DesktopError):
        check_proof(running.url, key, fake.port)
    with pytest.raises(DesktopError):
        check_proof(running.url, b"another key" * 3, running.port)
    assert [r[0] for r in fake.received] == ["GET"]  # one challenge, never a sign-in


def test_no_other_socket_can_share_the_desktop_port(running: EmbeddedServer) -> None:
    for options in ((), (socket.SO_REUSEADDR,), (socket.SO_REUSEADDR, socket.SO_REUSEPORT)):
        intruder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            for option in options:
                intruder.setsockopt(socket.SOL_SOCKET, option, 1)
            with pytest.raises(OSError):
                intruder.bind(("127.0.0.1", running.port))
        finally:
            intruder.close()


def test_the_desktop_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old = os.umask(0o022)
    try:
        instance = SingleInstance(data_dir)
        assert instance.acquire()
        server = EmbeddedServer(settings(data_dir))
        server.start()
        try:
            server.wait_ready()
            tokens = sign_in(server.url, data_dir)
            assert tokens["refresh_token"]
            instance.publish(server.port, lambda: None)
            found = {
                str(p.relative_to(data_dir)): stat.S_IMODE(p.stat().st_mode)
                for p in [data_dir, *data_dir.rglob("*")]
            }
        finally:
            server.stop()
            instance.release()
    finally:
        os.umask(old)
    for name in ("desktop.lock", "desktop.json", PROFILE_FILE, "docstream.sqlite3", "jwt_secret"):
        assert found.get(name) == 0o600, (name, found)
    assert found["."] == 0o700
    assert all(
        mode == (0o700 if (data_dir / name).is_dir() else 0o600) for name, mode in found.items()
    ), found
