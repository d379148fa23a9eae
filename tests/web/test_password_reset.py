"""Password reset: by e-mail through a real SMTP server, by an administrator's link; single use,
expiring, every session signed out; no answer tells whether an address has an account."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.services.resets import token_hash
from docstream.storage.base import utcnow
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import assert_error, register, unique_email
from tests.web.recovery_kit import (
    Inbox,
    make_admin,
    record_audit,
    reset_token_in,
    services_of,
    smtp_inbox,
    smtp_settings,
    token_of_link,
)

Client = AsyncTestClient[Litestar]
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    yield from smtp_inbox()


async def test_forgot_password_mails_a_link_that_resets_once_and_signs_out_everywhere(
    make_settings: SettingsFactory, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    async with AsyncTestClient(create_app(make_settings(**smtp_settings(port)))) as client:
        audit = record_audit(client)
        ann = await register(client)
        asked = await client.post("/auth/password-reset", json={"email": ann.email.upper()})
        assert asked.status_code == 202, asked.text
        assert asked.json()["emailed"] is True
        await inbox.wait_for(1)
        envelope, message = inbox.messages[0]
        assert envelope.rcpt_tos == [ann.email]
        assert "password" in str(message["Subject"]).lower()
        token = reset_token_in(message)
        body = message.get_body()
        assert body is not None and "https://docs.example.com/reset/" in body.get_content()
        # The old session still works until the reset...
        assert (await client.get("/auth/me", headers=ann.headers)).status_code == 200
        done = await client.post(
            "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
        )
        assert done.status_code == 200, done.text
        client.cookies.clear()
        signed_in = done.json()
        assert signed_in["user"]["id"] == ann.id
        me = await client.get(
            "/auth/me", headers={"Authorization": f"Bearer {signed_in['access_token']}"}
        )
        assert me.status_code == 200
        # ...which signs every earlier session out,
        assert_error(await client.get("/auth/me", headers=ann.headers), 401)
        # the new password works and the old one does not,
        login = await client.post(
            "/auth/login", json={"email": ann.email, "password": NEW_PASSWORD}
        )
        assert login.status_code == 200
        client.cookies.clear()
        old = await client.post("/auth/login", json={"email": ann.email, "password": ann.password})
        assert_error(old, 401)
        # and the link works once.
        again = await client.post(
            "/auth/password-reset/confirm", json={"token": token, "password": "yet another one"}
        )
        assert_error(again, 400)
        assert "invalid, expired or already used" in again.json()["error"]["message"]
        requested = [e for e in audit.events if e.action == "auth.password_reset_requested"]
        assert len(requested) == 1 and requested[0].subject_id == ann.id
        assert requested[0].actor_id is None and requested[0].detail == ()
        reset = [e for e in audit.events if e.action == "auth.password_reset"]
        assert len(reset) == 1 and reset[0].subject_id == ann.id


async def test_a_new_link_ends_none_but_using_one_ends_every_other(
    make_settings: SettingsFactory, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    async with AsyncTestClient(create_app(make_settings(**smtp_settings(port)))) as client:
        ann = await register(client)
        for _ in range(2):
            assert (
                await client.post("/auth/password-reset", json={"email": ann.email})
            ).status_code == 202
        await inbox.wait_for(2)
        first, second = (reset_token_in(m) for _, m in inbox.messages)
        assert first != second
        used = await client.post(
            "/auth/password-reset/confirm", json={"token": second, "password": NEW_PASSWORD}
        )
        assert used.status_code == 200
        client.cookies.clear()
        stale = await client.post(
            "/auth/password-reset/confirm", json={"token": first, "password": "another password"}
        )
        assert_error(stale, 400)


async def test_the_answer_is_the_same_for_every_kind_of_address(
    make_settings: SettingsFactory, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    async with AsyncTestClient(create_app(make_settings(**smtp_settings(port)))) as client:
        audit = record_audit(client)
        registered = await register(client)
        disabled = await register(client)
        await services_of(client).store.set_disabled(disabled.id, True)
        invited = unique_email("invited")
        await services_of(client).store.get_or_create_pending_user(invited)
        unknown = unique_email("nobody")
        replies = []
        for email in (registered.email, disabled.email, invited, unknown):
            started = time.perf_counter()
            response = await client.post("/auth/password-reset", json={"email": email})
            replies.append((response.status_code, response.content, time.perf_counter() - started))
        assert {(status, body) for status, body, _ in replies} == {(202, replies[0][1])}
        # The look-up runs after the reply: no reply waits for the database or the mail.
        assert max(elapsed for _, _, elapsed in replies) < 1.0
        await inbox.wait_for(1)
        await asyncio.sleep(0.5)  # anything else on its way would arrive by now
        assert [env.rcpt_tos for env, _ in inbox.messages] == [[registered.email]]
        recorded = [e for e in audit.events if e.action == "auth.password_reset_requested"]
        assert [e.subject_id for e in recorded] == [registered.id]
        assert all(unknown not in str(e) and invited not in str(e) for e in audit.events)


async def test_without_smtp_the_answer_says_to_ask_an_administrator(client: Client) -> None:
    ann = await register(client)
    known = await client.post("/auth/password-reset", json={"email": ann.email})
    unknown = await client.post("/auth/password-reset", json={"email": unique_email()})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert known.json()["emailed"] is False and "administrator" in known.json()["message"]
    assert_error(await client.post("/auth/password-reset", json={"email": "not an address"}), 400)


async def test_an_administrator_issues_a_one_time_link(client: Client) -> None:
    audit = record_audit(client)
    admin = await register(client)
    await make_admin(client, admin.id)
    ann = await register(client)
    issued = await client.post(f"/admin/users/{ann.id}/password-reset", headers=admin.headers)
    assert issued.status_code == 201, issued.text
    link, expires = issued.json()["link"], issued.json()["expires_at"]
    assert "/reset/" in link and expires > utcnow().isoformat()
    token = token_of_link(link)
    # Only the hash is stored: the token itself is nowhere in the database.
    store = services_of(client).store
    assert await store.redeem_password_reset(token, "x") is None
    done = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    client.cookies.clear()
    event = next(e for e in audit.events if e.action == "admin.password_reset_link")
    assert event.actor_id == admin.id and event.subject_id == ann.id
    unknown = await client.post(
        "/admin/users/00000000-0000-0000-0000-000000000000/password-reset", headers=admin.headers
    )
    assert_error(unknown, 404)


async def test_only_an_administrator_may_issue_a_link(client: Client) -> None:
    root = await register(client)  # the first account administers the server
    assert (await services_of(client).store.get_user(root.id)).is_admin  # type: ignore[union-attr]
    mallory = await register(client)
    ann = await register(client)
    assert_error(
        await client.post(f"/admin/users/{ann.id}/password-reset", headers=mallory.headers), 403
    )
    assert_error(await client.post(f"/admin/users/{ann.id}/password-reset"), 401)


async def test_an_expired_link_is_refused(client: Client) -> None:
    ann = await register(client)
    store = services_of(client).store
    await store.create_password_reset(ann.id, token_hash("x" * 43), utcnow())
    expired = await client.post(
        "/auth/password-reset/confirm", json={"token": "x" * 43, "password": NEW_PASSWORD}
    )
    assert_error(expired, 400)
    login = await client.post("/auth/login", json={"email": ann.email, "password": ann.password})
    assert login.status_code == 200  # the password did not change


async def test_a_weak_password_leaves_the_link_usable(client: Client) -> None:
    admin = await register(client)
    await make_admin(client, admin.id)
    ann = await register(client)
    issued = await client.post(f"/admin/users/{ann.id}/password-reset", headers=admin.headers)
    token = token_of_link(issued.json()["link"])
    weak = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert_error(weak, 400)
    assert "at least 8" in weak.json()["error"]["message"]
    ok = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("token", ["", "short", "../../etc", "a" * 150, "x" * 43])
async def test_malformed_or_unknown_tokens_get_the_one_clear_error(
    client: Client, token: str
) -> None:
    reply = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert_error(reply, 400)


async def test_a_link_resets_only_its_own_account(client: Client) -> None:
    admin = await register(client)
    await make_admin(client, admin.id)
    ann = await register(client)
    bob = await register(client)
    issued = await client.post(f"/admin/users/{ann.id}/password-reset", headers=admin.headers)
    token = token_of_link(issued.json()["link"])
    done = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    client.cookies.clear()
    assert done.json()["user"]["id"] == ann.id
    bob_login = await client.post(
        "/auth/login", json={"email": bob.email, "password": bob.password}
    )
    assert bob_login.status_code == 200
    assert (await client.get("/auth/me", headers=bob.headers)).status_code == 200


async def test_a_password_change_is_audited(client: Client) -> None:
    audit = record_audit(client)
    ann = await register(client)
    changed = await client.post(
        "/auth/password",
        json={"current_password": ann.password, "new_password": NEW_PASSWORD},
        headers=ann.headers,
    )
    assert changed.status_code == 200
    event = next(e for e in audit.events if e.action == "auth.password_changed")
    assert event.actor_id == ann.id and event.subject_id == ann.id and event.ip


async def test_reset_requests_are_rate_limited_per_address(make_settings: SettingsFactory) -> None:
    settings = make_settings(auth_rate_limit_per_account=3)
    async with AsyncTestClient(create_app(settings)) as client:
        email = unique_email()
        for _ in range(3):
            reply = await client.post("/auth/password-reset", json={"email": email})
            assert reply.status_code == 202
        assert_error(await client.post("/auth/password-reset", json={"email": email}), 429)


async def test_a_disabled_account_gets_its_password_but_no_session(client: Client) -> None:
    admin = await register(client)
    await make_admin(client, admin.id)
    ann = await register(client)
    issued = await client.post(f"/admin/users/{ann.id}/password-reset", headers=admin.headers)
    await services_of(client).store.set_disabled(ann.id, True)
    refused = await client.post(
        "/auth/password-reset/confirm",
        json={"token": token_of_link(issued.json()["link"]), "password": NEW_PASSWORD},
    )
    assert_error(refused, 403)
    assert "disabled" in refused.json()["error"]["message"]
    assert "set-cookie" not in refused.headers


def test_reset_requests_spend_the_sign_in_budget_per_client_address() -> None:
    from docstream.web.limits import budget_of

    for path in ("/auth/password-reset", "/auth/password-reset/confirm"):
        assert budget_of({"type": "http", "method": "POST", "path": path}) == "auth"
    assert budget_of({"type": "http", "method": "GET", "path": "/auth/password-reset"}) == "api"


async def test_another_site_cannot_use_a_link_to_sign_a_visitor_in(client: Client) -> None:
    admin = await register(client)
    await make_admin(client, admin.id)
    ann = await register(client)
    issued = await client.post(f"/admin/users/{ann.id}/password-reset", headers=admin.headers)
    body = {"token": token_of_link(issued.json()["link"]), "password": NEW_PASSWORD}
    forged = await client.post(
        "/auth/password-reset/confirm", json=body, headers={"Origin": "https://evil.example"}
    )
    assert_error(forged, 403)
    ok = await client.post("/auth/password-reset/confirm", json=body)
    assert ok.status_code == 200  # the refused attempt did not use the link up
