"""Origins and hosts: CORS without a development default, no ``*``, and no DNS rebinding.

Attacks: a page on the Vite dev server's origin (``http://localhost:5173``, whatever serves it)
calling a production server with the user's cookie; an operator's ``*`` that would let every site
do so; and DNS rebinding — a page of ``attacker.example`` whose name now resolves to 127.0.0.1,
talking to a server on loopback over HTTP and the WebSocket with ``Host: attacker.example``.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from docstream.errors import ConfigurationError
from docstream.settings import Settings
from docstream.web.app import create_app
from testkit.accounts import Users
from testkit.config import SettingsFactory
from testkit.processes import ServerFactory, ServerProcess
from tests.web.api import assert_error

DEV_UI = "http://localhost:5173"


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_the_dev_server_origin_is_not_allowed_by_default(
    make_settings: SettingsFactory,
) -> None:
    assert Settings().allowed_origins == ()
    async with AsyncTestClient(create_app(make_settings())) as client:
        refused = await client.options("/documents", headers=preflight(DEV_UI))
        assert "access-control-allow-origin" not in refused.headers
        actual = await client.get("/health", headers={"Origin": DEV_UI})
        assert "access-control-allow-origin" not in actual.headers


@pytest.mark.parametrize("origins", [("*",), ("https://docs.example.com", "*"), ("null",)])
def test_a_wildcard_or_null_origin_is_refused_at_start(origins: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(allowed_origins=origins).validated()
    assert "allowed_origins" in refused.value.detail
    with pytest.raises(ConfigurationError):
        Settings.from_env({"ALLOWED_ORIGIN": ",".join(origins)})


@pytest.mark.parametrize(
    "setting, value",
    [
        ("allowed_origins", "https://docs.example.com/"),
        ("allowed_origins", "docs.example.com"),
        ("allowed_origins", "https://docs.example.com/app"),
        ("allowed_hosts", "docs.example.com:443"),
        ("allowed_hosts", "https://docs.example.com"),
        ("allowed_hosts", "docs example"),
    ],
)
def test_malformed_origins_and_hosts_are_refused_at_start(setting: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({f"DOCSTREAM_{setting.upper()}": value})
    assert setting in refused.value.detail


def test_docstream_serve_refuses_a_wildcard_origin_with_a_clear_message(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "docstream", "serve", "--data-dir", str(tmp_path), "--port", "9"],
        env={"PATH": "/usr/bin:/bin", "DOCSTREAM_ALLOWED_ORIGINS": "*"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "allowed_origins" in done.stderr and "'*' is refused" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_dns_rebinding_request_to_a_loopback_server_is_refused(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    doc = await owner.create_document("Local")
    auth = {"Authorization": f"Bearer {owner.access_token}"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        for host in ("attacker.example", f"attacker.example:{server.port}", "127.0.0.1.nip.io"):
            for path in ("/health", f"/documents/{doc['id']}", "/", "/auth/me"):
                response = await http.get(path, headers={**auth, "Host": host})
                body = assert_error(response, 400, "VALIDATION_ERROR")
                assert "allowed_hosts" in body["error"]["message"]
        refused = await http.post(
            "/documents", json={"title": "planted"}, headers={**auth, "Host": "attacker.example"}
        )
        assert_error(refused, 400, "VALIDATION_ERROR")
        # Loopback names are the server's own.
        for host in (
            f"127.0.0.1:{server.port}",
            f"localhost:{server.port}",
            "app.localhost",
            "[::1]:8000",
        ):
            response = await http.get(f"/documents/{doc['id']}", headers={**auth, "Host": host})
            assert response.status_code == 200, (host, response.text)
    assert [d["title"] for d in await owner.request("GET", "/documents")] == ["Local"]
    ws_url = server.url.replace("http", "ws", 1) + f"/ws/document/{doc['id']}"
    # A rebinding page is same-origin with itself: Origin and Host both name attacker.example,
    # so the Origin check alone would let it through.
    rebound = f"ws://attacker.example:{server.port}/ws/document/{doc['id']}"
    with pytest.raises(InvalidStatus) as upgrade:
        async with connect(  # attacker.example "resolves" to the server: connect to 127.0.0.1
            rebound,
            host="127.0.0.1",
            port=server.port,
            additional_headers=auth,
            origin="http://attacker.example",  # type: ignore[arg-type]
        ):
            pass
    assert upgrade.value.response.status_code == 400
    assert b"allowed_hosts" in upgrade.value.response.body
    async with connect(ws_url, additional_headers=auth) as ws:  # the real host still works
        await ws.send('{"type": "hello", "replica": "replica0000", "since": 0}')
        assert '"welcome"' in await ws.recv()


async def test_allowed_hosts_names_the_hosts_a_server_answers_to(
    start_server: ServerFactory,
) -> None:
    env = {"DOCSTREAM_ALLOWED_HOSTS": "docs.example.com,.corp.example"}
    with start_server(env=env) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for host, expected in (
                ("docs.example.com", 200),
                ("team.corp.example", 200),
                ("corp.example", 200),
                ("evil-corp.example", 400),
                ("docs.example.com.attacker.example", 400),
                ("attacker.example", 400),
                (f"127.0.0.1:{server.port}", 200),  # health checks from the machine itself
            ):
                response = await http.get("/health", headers={"Host": host})
                assert response.status_code == expected, (host, response.text)


async def test_allowed_hosts_applies_to_every_client_when_set(
    make_settings: SettingsFactory,
) -> None:
    app = create_app(make_settings(allowed_hosts=("docs.example.com",)))
    async with AsyncTestClient(app, base_url="http://docs.example.com") as client:
        assert (await client.get("/health")).status_code == 200
        other = await client.get("/health", headers={"Host": "attacker.example"})
        assert_error(other, 400, "VALIDATION_ERROR")
        # Two Host headers: one allowed, one not; refused whichever a later layer would read.
        twice = await client.get(
            "/health", headers=[("Host", "docs.example.com"), ("Host", "attacker.example")]
        )
        assert_error(twice, 400, "VALIDATION_ERROR")
