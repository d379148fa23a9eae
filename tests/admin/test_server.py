"""Administration against real server processes (both backends): the start-up log names the
administrators (or says the first account will be one), the policy flag, and a disabled or
deleted account's open sockets close at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from testkit.accounts import PASSWORD, Account, register
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer, replica


@pytest.fixture(scope="module")
def logged(start_server: ServerFactory) -> Iterator[ServerProcess]:
    with start_server(env={"DOCSTREAM_LOG_LEVEL": "info"}) as proc:
        yield proc


def _wait_for(server: ServerProcess, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log():
        if time.monotonic() > deadline:
            raise server.failure(f"the log never said {text!r}")
        time.sleep(0.1)


def _doc(server: ServerProcess, owner: Account) -> str:
    response = httpx.post(
        f"{server.url}/documents", json={"title": "Live"}, headers=owner.headers, timeout=10
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_start_up_log_disabled_and_deleted_accounts_lose_their_sockets(
    logged: ServerProcess, start_server: ServerFactory
) -> None:
    _wait_for(logged, "no administrator yet: the first account created becomes one")
    admin = register(logged.url, email="root@example.com")
    bob = register(logged.url)
    cy = register(logged.url)
    bob_doc, cy_doc = _doc(logged, bob), _doc(logged, cy)
    bob_peer = await RawPeer.open(logged.url, bob_doc, bob.access_token)
    await bob_peer.hello(replica())
    cy_peer = await RawPeer.open(logged.url, cy_doc, cy.access_token)
    await cy_peer.hello(replica())

    started = time.monotonic()
    disabled = httpx.patch(
        f"{logged.url}/admin/users/{bob.id}",
        json={"disabled": True},
        headers=admin.headers,
        timeout=10,
    )
    assert disabled.status_code == 200, disabled.text
    code, _ = await bob_peer.closed(timeout=2.0)
    assert code == 4401 and time.monotonic() - started < 2.0
    refused = await RawPeer.open(logged.url, bob_doc, bob.access_token)
    code, _ = await refused.closed(timeout=2.0)
    assert code == 4401

    deleted = httpx.request(
        "DELETE",
        f"{logged.url}/admin/users/{cy.id}",
        json={"documents": "delete"},
        headers=admin.headers,
        timeout=10,
    )
    assert deleted.status_code == 204, deleted.text
    code, _ = await cy_peer.closed(timeout=2.0)
    assert code in (4401, 4404)

    # Another process on the same database names the administrator, and takes the policy flag.
    with start_server(
        args=["--data-dir", str(logged.data_dir), "--signup-policy", "closed"],
        env={"DOCSTREAM_LOG_LEVEL": "info"},
    ) as second:
        _wait_for(second, "administered by root@example.com")
        policy = httpx.get(f"{second.url}/auth/signup", timeout=10).json()
        assert policy == {"policy": "closed", "first_account": False}
        refused_signup = httpx.post(
            f"{second.url}/auth/register",
            json={"email": "late@example.com", "password": PASSWORD},
            timeout=10,
        )
        assert refused_signup.status_code == 403
