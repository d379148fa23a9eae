"""Personal API tokens: shown once, hashed, scoped, revocable; what a token may not do; tokens
of disabled accounts and of other users."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.services.api_tokens import secret_hash
from testkit.accounts import bearer
from tests.web.api import Account, assert_error, create_document, register
from tests.web.recovery_kit import record_audit, services_of

Client = AsyncTestClient[Litestar]


async def new_token(
    client: Client, owner: Account, scope: str = "read-write", **extra: Any
) -> dict[str, Any]:
    reply = await client.post(
        "/auth/tokens", json={"name": "script", "scope": scope, **extra}, headers=owner.headers
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_a_token_is_shown_once_listed_without_secret_and_works_as_a_bearer(
    client: Client,
) -> None:
    audit = record_audit(client)
    ann = await register(client)
    created = await new_token(client, ann, expires_in_days=30)
    secret = created["secret"]
    assert re.fullmatch(r"dst_[A-Za-z0-9_-]{43}", secret)
    assert created["token"]["scope"] == "read-write" and created["token"]["expires_at"]
    listed = (await client.get("/auth/tokens", headers=ann.headers)).json()
    assert [t["id"] for t in listed] == [created["token"]["id"]]
    assert secret not in str(listed) and listed[0]["last_used_at"] is None
    # The store keeps the hash only.
    store = services_of(client).store
    assert await store.get_api_token(secret) is None
    assert await store.get_api_token(secret_hash(secret)) is not None
    # As a bearer, wherever an access token works: read and write.
    me = await client.get("/auth/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["id"] == ann.id
    doc = await client.post("/documents", json={"title": "From a script"}, headers=bearer(secret))
    assert doc.status_code == 201
    listed = (await client.get("/auth/tokens", headers=ann.headers)).json()
    assert listed[0]["last_used_at"] is not None
    created_event = next(e for e in audit.events if e.action == "auth.token_created")
    assert created_event.actor_id == ann.id
    assert dict(created_event.detail) == {"name": "script", "scope": "read-write"}


async def test_a_read_token_reads_but_changes_nothing(client: Client) -> None:
    ann = await register(client)
    doc = await create_document(client, ann, "Plans")
    secret = (await new_token(client, ann, "read"))["secret"]
    headers = bearer(secret)
    assert (await client.get(f"/documents/{doc['id']}", headers=headers)).status_code == 200
    assert (await client.get("/documents", headers=headers)).status_code == 200
    refused = [
        await client.post("/documents", json={"title": "x"}, headers=headers),
        await client.patch(f"/documents/{doc['id']}", json={"title": "y"}, headers=headers),
        await client.delete(f"/documents/{doc['id']}", headers=headers),
        await client.patch("/auth/me", json={"name": "Mallory"}, headers=headers),
        await client.post(
            f"/documents/{doc['id']}/share",
            json={"email": "x@example.com", "role": "editor"},
            headers=headers,
        ),
    ]
    for reply in refused:
        assert_error(reply, 403)
    assert (await client.get(f"/documents/{doc['id']}", headers=ann.headers)).json()[
        "title"
    ] == "Plans"


async def test_a_token_cannot_manage_tokens_sessions_password_or_the_account(
    client: Client,
) -> None:
    ann = await register(client)
    created = await new_token(client, ann)
    headers = bearer(created["secret"])
    assert_error(await client.get("/auth/tokens", headers=headers), 403)
    assert_error(
        await client.post(
            "/auth/tokens", json={"name": "more", "scope": "read-write"}, headers=headers
        ),
        403,
    )
    assert_error(
        await client.delete(f"/auth/tokens/{created['token']['id']}", headers=headers), 403
    )
    assert_error(
        await client.post(
            "/auth/password",
            json={"current_password": ann.password, "new_password": "another password"},
            headers=headers,
        ),
        403,
    )
    assert_error(await client.post("/auth/logout-all", headers=headers), 403)
    assert_error(
        await client.request(
            "DELETE",
            "/auth/me",
            json={"password": ann.password, "documents": "delete"},
            headers=headers,
        ),
        403,
    )
    # Nothing happened: the session still works, the account and the token too.
    assert (await client.get("/auth/me", headers=ann.headers)).status_code == 200
    assert (await client.get("/documents", headers=headers)).status_code == 200


async def test_a_revoked_token_stops_working(client: Client) -> None:
    audit = record_audit(client)
    ann = await register(client)
    created = await new_token(client, ann)
    revoked = await client.delete(f"/auth/tokens/{created['token']['id']}", headers=ann.headers)
    assert revoked.status_code == 204
    assert_error(await client.get("/auth/me", headers=bearer(created["secret"])), 401)
    assert (await client.get("/auth/tokens", headers=ann.headers)).json() == []
    assert_error(
        await client.delete(f"/auth/tokens/{created['token']['id']}", headers=ann.headers), 404
    )
    assert "auth.token_revoked" in audit.actions()


async def test_nobody_revokes_or_sees_another_users_tokens(client: Client) -> None:
    ann = await register(client)
    mallory = await register(client)
    created = await new_token(client, ann)
    assert (await client.get("/auth/tokens", headers=mallory.headers)).json() == []
    assert_error(
        await client.delete(f"/auth/tokens/{created['token']['id']}", headers=mallory.headers),
        404,
    )
    assert (await client.get("/auth/me", headers=bearer(created["secret"]))).status_code == 200


async def test_a_token_of_a_disabled_account_is_refused(client: Client) -> None:
    ann = await register(client)
    secret = (await new_token(client, ann))["secret"]
    await services_of(client).store.set_disabled(ann.id, True)
    assert_error(await client.get("/auth/me", headers=bearer(secret)), 401)
    await services_of(client).store.set_disabled(ann.id, False)
    assert (await client.get("/auth/me", headers=bearer(secret))).status_code == 200


async def test_an_expired_token_is_refused(client: Client) -> None:
    from docstream.storage.base import utcnow

    ann = await register(client)
    secret = "dst_" + "e" * 43
    await services_of(client).store.create_api_token(
        ann.id, "old", "read", secret_hash(secret), utcnow(), 10
    )
    assert_error(await client.get("/auth/me", headers=bearer(secret)), 401)


async def test_forged_or_malformed_tokens_are_refused(client: Client) -> None:
    for secret in ("dst_", "dst_" + "a" * 43, "dst_../../x", "dst_" + "a" * 500):
        assert_error(await client.get("/auth/me", headers=bearer(secret)), 401)


async def test_a_password_change_keeps_tokens(client: Client) -> None:
    ann = await register(client)
    secret = (await new_token(client, ann))["secret"]
    changed = await client.post(
        "/auth/password",
        json={"current_password": ann.password, "new_password": "another password"},
        headers=ann.headers,
    )
    assert changed.status_code == 200
    client.cookies.clear()
    assert (await client.get("/auth/me", headers=bearer(secret))).status_code == 200


async def test_bad_token_requests_are_clear_errors(make_settings: Any) -> None:
    from docstream.web.app import create_app

    async with AsyncTestClient(create_app(make_settings(max_api_tokens=2))) as client:
        ann = await register(client)
        for body in (
            {"name": "x", "scope": "admin"},
            {"name": "", "scope": "read"},
            {"name": "x", "scope": "read", "expires_in_days": 0},
            {"name": "x", "scope": "read", "expires_in_days": 99999},
            {"name": "x\u0000y", "scope": "read"},
        ):
            assert_error(await client.post("/auth/tokens", json=body, headers=ann.headers), 400)
        await new_token(client, ann)
        await new_token(client, ann)
        assert_error(
            await client.post(
                "/auth/tokens", json={"name": "third", "scope": "read"}, headers=ann.headers
            ),
            403,
            "QUOTA_EXCEEDED",
        )
        assert_error(await client.get("/auth/tokens"), 401)


async def test_a_token_is_accepted_only_in_the_authorization_header(client: Client) -> None:
    ann = await register(client)
    secret = (await new_token(client, ann))["secret"]
    client.cookies.set("docstream_access", secret)
    try:
        assert_error(await client.get("/auth/me"), 401)
    finally:
        client.cookies.clear()
    assert_error(await client.get("/auth/me", headers={"Authorization": f"Token {secret}"}), 401)
