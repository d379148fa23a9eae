"""Invitations cannot be squatted: registering an invited address grants nothing; the single-use,
expiring link does, for whoever redeems it signed in; only its hash is stored; old databases keep
no claimable grants; the rules and the quota hold."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.storage import migrate
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from testkit.ports import free_port
from tests.web.api import Account, assert_error, create_document, register, unique_email

Client = AsyncTestClient[Litestar]


def token_of(reply: dict[str, Any]) -> str:
    url: str = reply["invite_url"]
    return url.rsplit("/invite/", 1)[1]


async def share(client: Client, doc_id: str, by: Account, email: str, role: str) -> Any:
    return await client.post(
        f"/documents/{doc_id}/share", json={"email": email, "role": role}, headers=by.headers
    )


async def invite(client: Client, doc_id: str, by: Account, email: str, role: str) -> dict[str, Any]:
    response = await share(client, doc_id, by, email, role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["pending"] is True and body["user_id"] is None
    return body


async def test_registering_an_invited_address_grants_nothing(client: Client) -> None:
    owner = await register(client)
    doc = await create_document(client, owner, "Salaries")
    victim = unique_email("victim")
    await invite(client, doc["id"], owner, victim, "editor")
    # The attacker registers the invited address before its owner does.
    squatter = await register(client, victim)
    assert (await client.get("/documents", headers=squatter.headers)).json() == []
    assert_error(
        await client.get(f"/documents/{doc['id']}", headers=squatter.headers), 404, "NOT_FOUND"
    )
    people = await client.get(f"/documents/{doc['id']}/collaborators", headers=owner.headers)
    assert [p["user_id"] for p in people.json() if p["email"] == victim] == [None]  # still pending


async def test_an_invitation_link_works_once_for_whoever_redeems_it(client: Client) -> None:
    owner = await register(client)
    doc = await create_document(client, owner)
    link = await invite(client, doc["id"], owner, unique_email("friend"), "viewer")
    friend = await register(client)  # any address: the link is the proof
    accepted = await client.post(f"/invitations/{token_of(link)}/accept", headers=friend.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"doc_id": doc["id"], "role": "viewer"}
    opened = await client.get(f"/documents/{doc['id']}", headers=friend.headers)
    assert opened.status_code == 200 and opened.json()["role"] == "viewer"
    # A second person with a copy of the link gets nothing.
    copier = await register(client)
    again = await client.post(f"/invitations/{token_of(link)}/accept", headers=copier.headers)
    assert_error(again, 404, "NOT_FOUND")
    assert (await client.get("/documents", headers=copier.headers)).json() == []
    # Signed out, a link is not redeemable at all.
    other = await invite(client, doc["id"], owner, unique_email("x"), "viewer")
    assert_error(await client.post(f"/invitations/{token_of(other)}/accept"), 401, "UNAUTHORIZED")


async def test_an_expired_invitation_link_is_refused(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings(invitation_ttl=1))) as client:
        owner = await register(client)
        doc = await create_document(client, owner)
        link = await invite(client, doc["id"], owner, unique_email("late"), "editor")
        await asyncio.sleep(1.5)
        late = await register(client)
        response = await client.post(f"/invitations/{token_of(link)}/accept", headers=late.headers)
        assert_error(response, 404, "NOT_FOUND")
        assert_error(await client.get(f"/invitations/{token_of(link)}"), 404, "NOT_FOUND")
        assert (await client.get("/documents", headers=late.headers)).json() == []


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 43, "' OR 1=1 --", "%00", "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "\u00e9" * 30],
    ids=["short", "wellformed-unknown", "sql", "nul", "huge", "path", "unicode"],
)
async def test_guessed_or_malformed_invitation_tokens_are_refused_cleanly(
    client: Client, token: str
) -> None:
    user = await register(client)
    for response in (
        await client.get(f"/invitations/{token}"),
        await client.post(f"/invitations/{token}/accept", headers=user.headers),
    ):
        assert response.status_code in (404, 405), response.text
        assert_error(response, response.status_code)


async def test_only_a_hash_of_the_invitation_token_is_stored(
    client: Client, make_settings: SettingsFactory, backend: str
) -> None:
    owner = await register(client)
    doc = await create_document(client, owner)
    link = await invite(client, doc["id"], owner, unique_email("hash"), "viewer")
    token = token_of(link)
    settings = make_settings()
    if backend == "sqlite":
        with sqlite3.connect(settings.sqlite_path) as conn:
            rows = conn.execute("SELECT * FROM invitations").fetchall()
    else:
        assert settings.database_url is not None
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute("SELECT * FROM invitations").fetchall()
    assert rows, "the invitation is stored"
    assert token not in repr(rows)
    preview = await client.get(f"/invitations/{token}")  # the token still works
    assert preview.status_code == 200 and preview.json()["doc_title"] == doc["title"]


async def test_editors_invite_only_viewers_and_viewers_invite_nobody(client: Client) -> None:
    owner, editor, viewer = [await register(client) for _ in range(3)]
    doc = await create_document(client, owner)
    await share(client, doc["id"], owner, editor.email, "editor")
    await share(client, doc["id"], owner, viewer.email, "viewer")
    assert_error(await share(client, doc["id"], viewer, unique_email(), "viewer"), 403)
    assert_error(await share(client, doc["id"], editor, unique_email(), "editor"), 403)
    by_editor = await invite(client, doc["id"], editor, unique_email("v"), "viewer")
    by_owner = await invite(client, doc["id"], owner, unique_email("e"), "editor")
    # Pending invitations are shown to the owner and editors, not to viewers.
    path = f"/documents/{doc['id']}/collaborators"
    for who, sees in ((owner, 2), (editor, 2), (viewer, 0)):
        people = (await client.get(path, headers=who.headers)).json()
        assert len([p for p in people if p["pending"]]) == sees, who
    # Withdrawing: editors withdraw invitations to view, not to edit; viewers nothing.
    base = f"/documents/{doc['id']}/invitations"
    withdraw = client.delete
    assert_error(
        await withdraw(f"{base}/{by_editor['invitation_id']}", headers=viewer.headers), 403
    )
    assert_error(await withdraw(f"{base}/{by_owner['invitation_id']}", headers=editor.headers), 403)
    done = await withdraw(f"{base}/{by_editor['invitation_id']}", headers=editor.headers)
    assert done.status_code == 204
    done = await withdraw(f"{base}/{by_owner['invitation_id']}", headers=owner.headers)
    assert done.status_code == 204
    assert_error(await withdraw(f"{base}/{uuid.uuid4()}", headers=owner.headers), 404)
    newcomer = await register(client)
    for link in (by_editor, by_owner):  # withdrawn links are dead
        response = await client.post(
            f"/invitations/{token_of(link)}/accept", headers=newcomer.headers
        )
        assert_error(response, 404, "NOT_FOUND")


async def test_an_editor_who_loses_the_role_can_no_longer_bring_people_in(client: Client) -> None:
    owner = await register(client)
    editor = await register(client)
    doc = await create_document(client, owner)
    await share(client, doc["id"], owner, editor.email, "editor")
    link = await invite(client, doc["id"], editor, unique_email("accomplice"), "viewer")
    revoked = await client.delete(
        f"/documents/{doc['id']}/share/{editor.id}", headers=owner.headers
    )
    assert revoked.status_code == 204
    accomplice = await register(client)
    response = await client.post(
        f"/invitations/{token_of(link)}/accept", headers=accomplice.headers
    )
    assert_error(response, 403, "FORBIDDEN")
    assert (await client.get("/documents", headers=accomplice.headers)).json() == []


async def test_pending_invitations_per_user_are_capped(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings(max_pending_invitations=3))) as client:
        owner = await register(client)
        doc = await create_document(client, owner)
        for _ in range(3):
            await invite(client, doc["id"], owner, unique_email("spam"), "viewer")
        refused = await share(client, doc["id"], owner, unique_email("spam"), "viewer")
        body = assert_error(refused, 403, "QUOTA_EXCEEDED")
        assert "pending invitations" in body["error"]["message"]
        # Renewing an invitation to the same address is not a new one; sharing with an existing
        # account is not an invitation at all.
        people = await client.get(f"/documents/{doc['id']}/collaborators", headers=owner.headers)
        first = next(p for p in people.json() if p["pending"])
        await invite(client, doc["id"], owner, first["email"], "editor")
        friend = await register(client)
        assert (await share(client, doc["id"], owner, friend.email, "viewer")).status_code == 200


# --- old databases --------------------------------------------------------------------------------


def _apply_up_to_0002(backend: str, target: str) -> None:
    old = [m for m in migrate.discover(backend) if m.version <= 2]
    if backend == "sqlite":
        with sqlite3.connect(target) as conn:
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for m in old:
                conn.executescript(m.sql)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?, '2024-01-01T00:00:00+00:00')",
                    (m.version, m.name, m.checksum),
                )
        return
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for m in old:
            conn.execute(m.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (m.version, m.name, m.checksum),
            )


def _sql(backend: str, target: str, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    if backend == "sqlite":
        with sqlite3.connect(target) as conn:
            for sql, params in statements:
                conn.execute(sql, params)
        return
    with psycopg.connect(target, autocommit=True) as conn:
        for sql, params in statements:
            conn.execute(sql.replace("?", "%s").encode(), params)


async def test_an_upgraded_database_keeps_no_grant_claimable_by_registration(
    make_settings: SettingsFactory, backend: str
) -> None:
    settings = make_settings()
    target = str(settings.sqlite_path) if backend == "sqlite" else str(settings.database_url)
    if backend == "sqlite":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    _apply_up_to_0002(backend, target)
    owner, pending, doc = (str(uuid.uuid4()) for _ in range(3))
    now = "2024-01-01T00:00:00+00:00"
    victim = unique_email("victim")
    _sql(
        backend,
        target,
        [
            ("INSERT INTO users VALUES (?, ?, 'Owner', 'hash', ?)", (owner, "o@example.com", now)),
            ("INSERT INTO users VALUES (?, ?, 'victim', NULL, ?)", (pending, victim, now)),
            (
                "INSERT INTO documents (id, title, owner_id, created_at, updated_at) "
                "VALUES (?, 'Old secrets', ?, ?, ?)",
                (doc, owner, now, now),
            ),
            (
                "INSERT INTO document_permissions VALUES (?, ?, 'editor', ?)",
                (doc, pending, now),
            ),
        ],
    )
    async with AsyncTestClient(create_app(settings)) as client:  # migrates to the current schema
        squatter = await register(client, victim)
        assert (await client.get("/documents", headers=squatter.headers)).json() == []
        assert_error(await client.get(f"/documents/{doc}", headers=squatter.headers), 404)


# --- e-mail through a real SMTP server ------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, inbox: _Inbox) -> None:
        self.inbox = inbox

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"docstream",
            b"smtp-secret",
        )
        if ok:
            self.inbox.logins.append(data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_Authenticator(inbox),
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def test_an_invitation_is_e_mailed_through_the_configured_smtp_server(
    make_settings: SettingsFactory, smtp_server: tuple[int, _Inbox]
) -> None:
    port, inbox = smtp_server
    settings = make_settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="docstream@example.com",
        smtp_username="docstream",
        smtp_password="smtp-secret",
        smtp_starttls=False,
        public_url="https://docs.example.com",
    )
    async with AsyncTestClient(create_app(settings)) as client:
        owner = await register(client, name="Ann Owner")
        doc = await create_document(client, owner, "Roadmap")
        friend = unique_email("friend")
        link = await invite(client, doc["id"], owner, friend, "editor")
        assert link["emailed"] is True
        assert link["invite_url"].startswith("https://docs.example.com/invite/")
        for _ in range(100):
            if inbox.messages:
                break
            await asyncio.sleep(0.05)
        assert len(inbox.messages) == 1, "the e-mail did not arrive"
        envelope, message = inbox.messages[0]
        assert envelope.rcpt_tos == [friend] and inbox.logins == ["docstream"]
        assert "Roadmap" in str(message["Subject"]) and "Ann Owner" in str(message["From"])
        body = message.get_body()
        assert body is not None and link["invite_url"] in body.get_content()
        newcomer = await register(client)
        accepted = await client.post(
            f"/invitations/{token_of(link)}/accept", headers=newcomer.headers
        )
        assert accepted.json()["role"] == "editor"


async def test_an_unreachable_smtp_server_fails_nothing(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nobody listens
        smtp_from="docstream@example.com",
        smtp_starttls=False,
        smtp_timeout=2.0,
        public_url="http://docs.example.com",
    )
    async with AsyncTestClient(create_app(settings)) as client:
        owner = await register(client)
        doc = await create_document(client, owner)
        link = await invite(client, doc["id"], owner, unique_email(), "viewer")
        assert link["invite_url"].startswith("http://docs.example.com/invite/")
