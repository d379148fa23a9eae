"""Sessions and tokens, against a real server: a refresh token works once and its reuse signs the
session out; signing out ends the access token and the open sockets too; sign out everywhere;
password change; sockets whose token expires are closed and the clients recover without losing
an edit."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from docstream.client import ApiError, DocStreamClient
from testkit.accounts import Users
from testkit.config import JWT_SECRET
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer, replica

PASSWORD = "password123"


async def status(client: DocStreamClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client._http.request(method, path, headers=headers, json={})
    return response.status_code


async def refresh_status(client: DocStreamClient, refresh_token: str | None) -> int:
    response = await client._http.post("/auth/refresh", json={"refresh_token": refresh_token})
    return response.status_code


async def signed_in_twice(users: Users) -> tuple[DocStreamClient, DocStreamClient]:
    """One user on two devices (two sessions)."""
    first = await users.new("twice")
    assert first.user is not None
    second = DocStreamClient(users.url)
    users.clients.append(second)
    await second.login(first.user["email"], PASSWORD)
    return first, second


async def test_a_stolen_refresh_token_used_after_its_owner_signs_the_session_out(
    users: Users,
) -> None:
    victim = await users.new("victim")
    stolen = victim.refresh_token
    await victim.refresh()  # the victim's app rotates: the stolen copy is used up
    assert victim.refresh_token != stolen
    # The thief tries the copy: refused, and the whole session is signed out, so the victim
    # (who may be the one holding the stale copy) must sign in again, and the thief's
    # access to the session ends for good.
    assert await refresh_status(victim, stolen) == 401
    assert await refresh_status(victim, victim.refresh_token) == 401
    assert await status(victim, "GET", "/auth/me", victim.access_token) == 401


async def test_a_refresh_token_used_by_a_thief_first_locks_the_thief_out(users: Users) -> None:
    victim = await users.new("victim")
    thief = DocStreamClient(users.url)
    users.clients.append(thief)
    thief.refresh_token = victim.refresh_token
    await thief.refresh()  # the thief wins the race
    assert await status(thief, "GET", "/auth/me", thief.access_token) == 200
    with pytest.raises(ApiError) as refused:
        await victim.refresh()  # the victim's app refreshes with its (now used) token
    assert refused.value.status == 401
    assert await status(thief, "GET", "/auth/me", thief.access_token) == 401
    assert await refresh_status(thief, thief.refresh_token) == 401


async def test_signing_out_ends_the_access_token_and_not_other_sessions(users: Users) -> None:
    first, second = await signed_in_twice(users)
    access, refresh = first.access_token, first.refresh_token
    assert await status(first, "GET", "/auth/me", access) == 200
    await first.logout()
    assert await status(first, "GET", "/auth/me", access) == 401
    assert await status(first, "POST", "/documents", access) == 401
    assert await refresh_status(first, refresh) == 401
    assert await status(second, "GET", "/auth/me", second.access_token) == 200


async def test_signing_out_everywhere_ends_every_session(users: Users) -> None:
    first, second = await signed_in_twice(users)
    tokens = [(c.access_token, c.refresh_token) for c in (first, second)]
    await second.logout_all()
    for access, refresh in tokens:
        assert await status(first, "GET", "/auth/me", access) == 401
        assert await refresh_status(first, refresh) == 401


async def test_changing_the_password_signs_out_the_other_sessions(users: Users) -> None:
    first, second = await signed_in_twice(users)
    assert first.user is not None
    email = first.user["email"]
    with pytest.raises(ApiError) as wrong:
        await first.change_password("not the password", "a new password")
    assert wrong.value.status == 403
    with pytest.raises(ApiError) as short:
        await first.change_password(PASSWORD, "short")
    assert short.value.status == 400
    old_access = first.access_token
    await first.change_password(PASSWORD, "a new password")
    assert await status(first, "GET", "/auth/me", first.access_token) == 200
    assert await refresh_status(first, first.refresh_token) == 200
    assert await status(second, "GET", "/auth/me", second.access_token) == 401
    assert await refresh_status(second, second.refresh_token) == 401
    assert await status(first, "GET", "/auth/me", old_access) == 401
    login = await first._http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    login = await first._http.post(
        "/auth/login", json={"email": email, "password": "a new password"}
    )
    assert login.status_code == 200


async def test_tokens_without_a_session_are_refused(users: Users) -> None:
    user = await users.new("legacy")
    assert user.user is not None
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user.user["id"],
        "iat": now,
        "exp": now + 600,
        "iss": "docstream",
        "aud": "docstream",
        "jti": uuid.uuid4().hex,
    }
    access = jwt.encode({**claims, "typ": "access"}, JWT_SECRET, algorithm="HS256")
    refresh = jwt.encode({**claims, "typ": "refresh"}, JWT_SECRET, algorithm="HS256")
    assert await status(user, "GET", "/auth/me", access) == 401
    assert await refresh_status(user, refresh) == 401
    bogus = jwt.encode(
        {**claims, "typ": "access", "sid": str(uuid.uuid4())}, JWT_SECRET, algorithm="HS256"
    )
    assert await status(user, "GET", "/auth/me", bogus) == 401


async def test_signing_out_closes_the_sessions_open_sockets_within_a_second(
    server: ServerProcess, users: Users
) -> None:
    first, second = await signed_in_twice(users)
    doc = await first.create_document("Signed out")
    mine = await RawPeer.open(server.url, doc["id"], first.access_token)
    await mine.hello(replica())
    other = await RawPeer.open(server.url, doc["id"], second.access_token)
    await other.hello(replica())
    started = time.monotonic()
    await first.logout()
    code, _ = await mine.closed(timeout=1.0)
    assert code == 4401 and time.monotonic() - started < 1.0
    # The user's other session keeps its socket (it only hears the first one leave).
    left = await other.recv_type("presence", timeout=2.0)
    assert left["action"] == "leave"
    with pytest.raises(TimeoutError):
        await other.recv(timeout=0.5)
    await other.close()


async def test_a_socket_opened_with_a_signed_out_token_is_refused(
    server: ServerProcess, users: Users
) -> None:
    user = await users.new("late")
    doc = await user.create_document("Too late")
    access = user.access_token
    await user.logout()
    peer = await RawPeer.open(server.url, doc["id"], access)
    code, _ = await peer.closed(timeout=2.0)
    assert code == 4401


@pytest.fixture(scope="module")
def short_tokens(start_server: ServerFactory) -> Any:
    """A server whose access tokens live 2 seconds."""
    with start_server(env={"DOCSTREAM_ACCESS_TOKEN_TTL": "2"}) as proc:
        yield proc


async def test_a_socket_is_closed_when_its_access_token_expires(
    short_tokens: ServerProcess,
) -> None:
    users = Users(short_tokens.url)
    try:
        user = await users.new("expiring")
        doc = await user.create_document("Expiry")
        peer = await RawPeer.open(short_tokens.url, doc["id"], user.access_token)
        await peer.hello(replica())
        started = time.monotonic()
        code, _ = await peer.closed(timeout=5.0)
        assert code == 4401 and time.monotonic() - started < 3.5
    finally:
        await users.close()


async def test_the_python_client_refreshes_and_keeps_every_edit_across_expiries(
    short_tokens: ServerProcess,
) -> None:
    users = Users(short_tokens.url)
    try:
        user = await users.new("writer")
        doc = await user.create_document("Long session")
        # Two live documents on one client: both lose their token at the same moment and must
        # refresh once between them (a second use of the refresh token would sign them out).
        async with user.open(doc["id"]) as first, user.open(doc["id"]) as second:
            deadline = time.monotonic() + 6.5  # three token lifetimes
            n = 0
            while time.monotonic() < deadline:
                (first if n % 2 else second).insert(0, f"{n} ")
                n += 1
                await asyncio.sleep(0.1)
            await first.synced(timeout=15)
            await second.synced(timeout=15)
            await first.wait_for(lambda d: d.seq == second.seq, timeout=15)
            assert first.connects >= 3 and second.connects >= 3
            assert first.text == second.text
            assert sorted(first.text.split(), key=int) == [str(i) for i in range(n)]
        async with httpx.AsyncClient(base_url=short_tokens.url) as http:
            stored = await http.get(
                f"/documents/{doc['id']}",
                headers={"Authorization": f"Bearer {user.access_token}"},
            )
        if stored.status_code == 401:  # this token expired too in the meantime
            await user.refresh()
            stored = await user._http.get(
                f"/documents/{doc['id']}",
                headers={"Authorization": f"Bearer {user.access_token}"},
            )
        assert stored.json()["text"] == first.text
    finally:
        await users.close()
