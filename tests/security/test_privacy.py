"""Privacy: e-mail addresses for the owner and editors only; names that show what they say.

Attacks: a viewer, a public-link holder and a link guest harvesting collaborators' addresses (the
collaborators list, @mention suggestions, presence and ``welcome`` on the WebSocket, history,
versions); reading an address's local part out of a default display name or an invited user's
name; and spoofing a name or a title with bidi overrides, isolates and zero-width characters.
Every test runs on both backends.
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.settings import Settings
from docstream.storage import migrate
from docstream.storage.base import DocumentStore, NewLogEntry
from testkit.accounts import Users
from testkit.config import SettingsFactory
from testkit.processes import ServerProcess
from testkit.raw import RawPeer
from tests.web.api import PASSWORD, Account, assert_error, create_document, register

Client = AsyncTestClient[Litestar]


def local_parts(*emails: str) -> list[str]:
    return [e.split("@", 1)[0] for e in emails]


def leaks(payload: Any, emails: list[str]) -> list[str]:
    """Which addresses, or their local parts, appear anywhere in ``payload``."""
    text = json.dumps(payload).lower()
    return [part for part in emails + local_parts(*emails) if part.lower() in text]


async def team(client: Client) -> dict[str, Any]:
    """An owner, an editor, a viewer (registered without names), an invited address, a public
    link (viewer role) and a signed-in stranger holding it."""
    tag = secrets.token_hex(3)
    people = {
        role: await register(client, f"{role}.{tag}.secret@example.com")
        for role in ("owner", "editor", "viewer", "stranger")
    }
    doc = await create_document(client, people["owner"], "Team notes")
    invited = f"invited.{tag}.secret@example.com"
    for email, role in (
        (people["editor"].email, "editor"),
        (people["viewer"].email, "viewer"),
        (invited, "viewer"),
    ):
        response = await client.post(
            f"/documents/{doc['id']}/share",
            json={"email": email, "role": role},
            headers=people["owner"].headers,
        )
        assert response.status_code == 200, response.text
    public = await client.post(
        f"/documents/{doc['id']}/share/public",
        json={"enabled": True, "role": "viewer"},
        headers=people["owner"].headers,
    )
    link = {"X-DocStream-Link": public.json()["link_token"]}
    emails = [a.email for a in people.values()] + [invited]
    return {"doc": doc, "people": people, "link": link, "emails": emails}


async def test_viewers_and_link_holders_see_names_not_addresses(client: Client) -> None:
    t = await team(client)
    path = f"/documents/{t['doc']['id']}/collaborators"
    people: dict[str, Account] = t["people"]
    for reader in (people["viewer"].headers, {**people["stranger"].headers, **t["link"]}):
        response = await client.get(path, headers=reader)
        assert response.status_code == 200, response.text
        listed = response.json()
        # Owner, editor, viewer; the pending invitation is shown to the owner and editors only.
        assert len(listed) == 3 and all(c["email"] is None for c in listed)
        assert leaks(listed, t["emails"]) == []
    # The owner and editors manage sharing: they see the addresses.
    for manager in (people["owner"], people["editor"]):
        listed = (await client.get(path, headers=manager.headers)).json()
        assert {c["email"] for c in listed} == set(t["emails"]) - {people["stranger"].email}


async def test_no_name_is_ever_made_from_an_address(client: Client) -> None:
    t = await team(client)
    people: dict[str, Account] = t["people"]
    me = (await client.get("/auth/me", headers=people["viewer"].headers)).json()
    assert me["name"] and leaks(me["name"], [people["viewer"].email]) == []
    listed = (
        await client.get(
            f"/documents/{t['doc']['id']}/collaborators", headers=people["viewer"].headers
        )
    ).json()
    names = [c["name"] for c in listed]
    assert leaks(names, t["emails"]) == []
    assert not [c for c in listed if c["pending"]]  # invitations are not shown to viewers
    managed = (
        await client.get(
            f"/documents/{t['doc']['id']}/collaborators", headers=people["owner"].headers
        )
    ).json()
    assert [c["name"] for c in managed if c["pending"]] == [""]  # the invited address: no name


async def test_mention_suggestions_never_offer_addresses_or_their_local_parts(
    client: Client,
) -> None:
    t = await team(client)
    path = f"/documents/{t['doc']['id']}/mentions/suggest"
    people: dict[str, Account] = t["people"]
    for reader in (people["viewer"].headers, {**people["stranger"].headers, **t["link"]}):
        for q in ("", "@", "o", "e", "v", "i", "owner", "invited", "secret", "@inv"):
            response = await client.get(path, params={"q": q, "limit": 50}, headers=reader)
            assert response.status_code == 200, response.text
            assert leaks(response.json(), t["emails"]) == [], q
    # Picking an invited address's local part as a mention is refused too.
    local = local_parts(t["emails"][-1])[0]
    picked = await client.post(
        f"/documents/{t['doc']['id']}/mentions/select",
        json={"word": local},
        headers=people["viewer"].headers,
    )
    assert_error(picked, 400, "VALIDATION_ERROR")


async def test_history_and_versions_name_authors_without_their_addresses(client: Client) -> None:
    t = await team(client)
    doc_id = t["doc"]["id"]
    people: dict[str, Account] = t["people"]
    named = await client.post(
        f"/documents/{doc_id}/versions", json={"label": "v1"}, headers=people["editor"].headers
    )
    assert named.status_code == 201, named.text
    for reader in (people["viewer"].headers, t["link"]):
        for suffix in ("history", "versions"):
            response = await client.get(f"/documents/{doc_id}/{suffix}", headers=reader)
            assert response.status_code == 200, response.text
            assert leaks(response.json(), t["emails"]) == []


async def test_presence_and_welcome_show_names_not_address_parts(
    users: Users, server: ServerProcess
) -> None:
    owner = users.anonymous()
    email = f"ann.{secrets.token_hex(3)}.private@example.com"
    await owner.register(email, "password123")  # no name given
    doc = await owner.create_document("Presence")
    public = await owner.set_public(doc["id"], True, "viewer")
    async with owner.open(doc["id"]) as live:
        live.insert(0, "hello")
        await live.synced()
        guest = await RawPeer.open(
            server.url, doc["id"], headers={"X-DocStream-Link": public["link_token"]}
        )
        welcome = await guest.hello(secrets.token_urlsafe(9))
        assert [p["user_id"] for p in welcome["peers"]] == [owner.user["id"]]  # type: ignore[index]
        live.set_cursor(2)
        cursor = await guest.recv_type("cursor")
        await guest.close()
    assert leaks([welcome, cursor], [email]) == []
    history = await owner.request("GET", f"/documents/{doc['id']}/history")
    assert leaks(history, [email]) == []


# --- names and titles that do not show what they say -----------------------------------------

SPOOFS = [
    "Ann\u202eetoN",  # right-to-left override: reads "AnnNote"
    "\u202aAnn\u202c",  # left-to-right embedding / pop
    "Ann\u2066Bob\u2069",  # isolates
    "Ann\u200fB",  # right-to-left mark
    "A\u200bnn",  # zero-width space: "Ann" that is not "Ann"
    "Ann\u2060",  # word joiner
    "\ufeffAnn",  # byte order mark
    "An\u00adn",  # soft hyphen
    "Ann\u200d",  # a joiner with nothing to join
    "\u3164",  # Hangul filler: looks blank
    "Ann\U000e0041\U000e0042",  # tag characters (hidden text)
    "Ann\u2028Bob",  # line separator
]


@pytest.mark.parametrize("spoof", SPOOFS, ids=lambda s: s.encode("unicode_escape").decode())
async def test_spoofing_characters_in_names_are_refused(client: Client, spoof: str) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": f"s{secrets.token_hex(4)}@example.com", "password": PASSWORD, "name": spoof},
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "name must" in body["error"]["message"]
    account = await register(client, name="Plain")
    renamed = await client.patch("/auth/me", json={"name": spoof}, headers=account.headers)
    assert_error(renamed, 400, "VALIDATION_ERROR")
    me = await client.get("/auth/me", headers=account.headers)
    assert me.json()["name"] == "Plain"


@pytest.mark.parametrize("spoof", SPOOFS, ids=lambda s: s.encode("unicode_escape").decode())
async def test_spoofing_characters_in_titles_are_refused(client: Client, spoof: str) -> None:
    owner = await register(client)
    created = await client.post("/documents", json={"title": spoof}, headers=owner.headers)
    body = assert_error(created, 400, "VALIDATION_ERROR")
    assert "title must" in body["error"]["message"]
    doc = await create_document(client, owner, "Plain")
    renamed = await client.patch(
        f"/documents/{doc['id']}", json={"title": spoof}, headers=owner.headers
    )
    assert_error(renamed, 400, "VALIDATION_ERROR")
    listed = (await client.get("/documents", headers=owner.headers)).json()
    assert [d["title"] for d in listed] == ["Plain"]


@pytest.mark.parametrize(
    "text",
    [
        "Zoë Ångström",
        "محمد",
        "می\u200cخواهم",  # Persian: a zero-width non-joiner between letters
        "क्\u200dष",  # Devanagari: a joiner after a virama
        "Team \U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji family (joiners)
        "Scotland \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "\u2764\ufe0f\u200d\U0001f525 notes",
        "日本語のメモ",
    ],
)
async def test_real_names_and_titles_in_any_script_are_accepted(client: Client, text: str) -> None:
    account = await register(client, name=text)
    assert (await client.get("/auth/me", headers=account.headers)).json()["name"] == text
    doc = await create_document(client, account, text)
    assert doc["title"] == text


async def test_a_name_that_is_an_address_is_refused_and_names_can_be_changed(
    client: Client,
) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "ann@example.com", "password": PASSWORD, "name": "ann@example.com"},
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    account = await register(client, name="Ann")
    changed = await client.patch("/auth/me", json={"name": "  Ann B.  "}, headers=account.headers)
    assert changed.status_code == 200 and changed.json()["name"] == "Ann B."
    for bad in ("", "   ", "x" * 101, "bob@example.org"):
        refused = await client.patch("/auth/me", json={"name": bad}, headers=account.headers)
        assert_error(refused, 400, "VALIDATION_ERROR")
    assert_error(await client.patch("/auth/me", json={"name": "Eve"}), 401, "UNAUTHORIZED")


# --- an existing install: the migration --------------------------------------------------------


async def raw(store: DocumentStore, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run SQL on the store's own connection (test-only: the data of an older version)."""
    if store.dialect == "sqlite":
        return await store._write(lambda conn: conn.execute(sql, params).fetchall())  # type: ignore[attr-defined]
    pg_sql = sql.replace("?", "%s")
    async with store._conn() as conn:  # type: ignore[attr-defined]
        cur = await conn.execute(pg_sql.encode(), params)
        return await cur.fetchall() if cur.description else []


async def test_the_migration_fixes_names_and_public_links_of_an_existing_install(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    from docstream.bootstrap import make_store

    settings: Settings = make_settings()
    older = migrate.discover("postgres" if settings.uses_postgres else "sqlite")
    before = [m for m in older if m.version < 4]
    monkeypatch.setattr(migrate, "discover", lambda dialect: before)
    async with make_store(settings) as store:
        await store.migrate()
        # What an older DocStream stored: names made from addresses, a public document. Written
        # in that version's schema (today's store methods read columns it did not have yet).
        ann, kept, invited = (str(uuid.uuid4()) for _ in range(3))
        now = "2026-01-01T00:00:00+00:00"
        for user_id, email, name, password_hash in (
            (ann, "ann.private@example.com", "ann.private", "hash"),
            (kept, "bo@example.com", "Bo", "hash"),
            (invited, "carl.private@example.com", "carl.private", None),
        ):
            await raw(
                store,
                "INSERT INTO users (id, email, name, password_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (user_id, email, name, password_hash, now),
            )
        doc_id = str(uuid.uuid4())
        await raw(
            store,
            "INSERT INTO documents (id, title, owner_id, public_sharing_enabled, "
            "public_sharing_role, created_at, updated_at) VALUES (?, ?, ?, ?, 'viewer', ?, ?)",
            (doc_id, "Old public", ann, True, now, now),
        )
        await store.append_ops(doc_id, [NewLogEntry(ann, "replica01", b"\x01[]")])
        monkeypatch.setattr(migrate, "discover", lambda dialect: older)
        applied = await store.migrate()
        assert [name for name in applied if name.startswith("0004")]
        names = {u: (await store.get_user(u)).name for u in (ann, kept, invited)}  # type: ignore[union-attr]
        assert names[kept] == "Bo"
        assert names[invited] == ""
        assert names[ann].startswith("User ") and "ann" not in names[ann]
        link = await store.get_public_link(doc_id)
        assert link is not None and len(link.token) >= 32 and link.since_seq == 1
