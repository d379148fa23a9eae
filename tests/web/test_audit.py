"""The audit log over REST, on SQLite and PostgreSQL: every audited action produces exactly the
entry expected (who, from where through a trusted proxy, on what), only a document's owner reads
its activity, only administrators read the whole log (JSON and CSV), and the CSV is safe to open
in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.bootstrap import Services
from docstream.storage.base import AuditFilter, NewAuditEntry, utcnow
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import (
    Account,
    PeerFromHeader,
    assert_error,
    create_document,
    register,
    unique_email,
)

Client = AsyncTestClient[Litestar]
PROXY = "10.0.0.1"


def via(ip: str, account: Account | None = None) -> dict[str, str]:
    """Headers of a request that reached us through the trusted proxy on behalf of ``ip``."""
    headers = {"X-Test-Peer": PROXY, "X-Forwarded-For": ip}
    return {**headers, **(account.headers if account else {})}


@pytest.fixture
async def client(make_settings: SettingsFactory) -> AsyncIterator[Client]:
    app = create_app(make_settings(trusted_proxies=(PROXY,)))
    app.asgi_handler = PeerFromHeader(app.asgi_handler)
    async with AsyncTestClient(app) as test_client:
        yield test_client


def services(client: Client) -> Services:
    found: Services = client.app.state.services
    return found


async def entries(client: Client, **where: Any) -> list[Any]:
    return list(reversed(await services(client).store.list_audit(AuditFilter(**where))))


async def admin(client: Client) -> Account:
    account = await register(client, unique_email("admin"), name="Root")
    await services(client).store.set_admin(account.id, True)
    return account


async def test_sign_in_success_failure_and_sign_out_everywhere(client: Client) -> None:
    ann = await register(client, unique_email("ann"), name="Ann")
    ok = await client.post(
        "/auth/login", json={"email": ann.email, "password": ann.password}, headers=via("1.2.3.4")
    )
    assert ok.status_code == 200
    client.cookies.clear()
    wrong = await client.post(
        "/auth/login", json={"email": ann.email, "password": "nope-nope"}, headers=via("1.2.3.5")
    )
    assert_error(wrong, 401)
    typed = "=CMD()" + "x" * 300 + "@example.com"
    unknown = await client.post(
        "/auth/login", json={"email": typed, "password": "whatever1"}, headers=via("1.2.3.6")
    )
    assert_error(unknown, 401)
    out = await client.post("/auth/logout-all", headers=via("1.2.3.7", ann))
    assert out.status_code == 204
    got = [(e.action, e.actor_id, e.ip, e.detail) for e in await entries(client, action="auth.")]
    assert got[0][:2] == ("auth.sign_up", ann.id)  # registering is audited too
    assert got[1:] == [
        ("auth.sign_in", ann.id, "1.2.3.4", {"method": "password"}),
        (
            "auth.sign_in_failed",
            ann.id,
            "1.2.3.5",
            {"email": ann.email, "reason": "wrong_password"},
        ),
        (
            "auth.sign_in_failed",
            None,
            "1.2.3.6",
            {"email": typed[:120], "reason": "unknown_account"},
        ),
        ("auth.signed_out_everywhere", ann.id, "1.2.3.7", {}),
    ]


async def test_every_document_action_is_recorded_once(client: Client) -> None:
    ann = await register(client, unique_email("ann"), name="Ann")
    bob = await register(client, unique_email("bob"), name="Bob")
    h = via("203.0.113.7", ann)
    doc = (await client.post("/documents", json={"title": "Plans"}, headers=h)).json()
    d = f"/documents/{doc['id']}"
    assert (await client.patch(d, json={"title": "Plans 2"}, headers=h)).status_code == 200
    share = {"email": bob.email, "role": "viewer"}
    assert (await client.post(f"{d}/share", json=share, headers=h)).status_code == 200
    assert (await client.post(f"{d}/share", json=share, headers=h)).status_code == 200  # no-op
    editor = {"user_id": bob.id, "role": "editor"}
    assert (await client.post(f"{d}/share", json=editor, headers=h)).status_code == 200
    assert (await client.delete(f"{d}/share/{bob.id}", headers=h)).status_code == 204
    invite = {"email": "carol@example.com", "role": "viewer"}
    invited = (await client.post(f"{d}/share", json=invite, headers=h)).json()
    assert (
        await client.delete(f"{d}/invitations/{invited['invitation_id']}", headers=h)
    ).status_code == 204
    public = {"enabled": True, "role": "editor"}
    assert (await client.post(f"{d}/share/public", json=public, headers=h)).status_code == 200
    assert (await client.post(f"{d}/share/public/reset", headers=h)).status_code == 200
    version = (await client.post(f"{d}/versions", json={"label": "v"}, headers=h)).json()
    restored = await client.post(f"{d}/versions/{version['version']}/restore", headers=h)
    assert restored.status_code == 200
    got = [(e.action, e.subject_id, e.detail) for e in await entries(client, doc_id=doc["id"])]
    assert got == [
        ("document.created", None, {}),
        ("document.renamed", None, {"title": "Plans 2"}),
        ("document.shared", bob.id, {"role": "viewer"}),
        ("document.role_changed", bob.id, {"role": "editor", "previous": "viewer"}),
        ("document.access_removed", bob.id, {}),
        ("document.invited", None, {"email": "carol@example.com", "role": "viewer"}),
        ("document.invitation_withdrawn", None, {"email": "carol@example.com"}),
        ("document.public_link_changed", None, {"enabled": "true", "role": "editor"}),
        ("document.public_link_reset", None, {}),
        ("document.version_restored", None, {"version": str(version["version"])}),
    ]
    every = await entries(client, doc_id=doc["id"])
    assert {(e.actor_id, e.actor_name, e.ip) for e in every} == {(ann.id, "Ann", "203.0.113.7")}
    assert every[2].subject_name == "Bob" and every[2].doc_title == "Plans 2"


async def test_a_nul_in_what_was_typed_is_recorded_on_every_backend(client: Client) -> None:
    response = await client.post(
        "/auth/login", json={"email": "a\u0000b@example.com", "password": "whatever1"}
    )
    assert_error(response, 401)
    [failed] = await entries(client, action="auth.sign_in_failed")
    assert failed.detail == {"email": "a\ufffdb@example.com", "reason": "unknown_account"}
    assert services(client).audit.failures == 0


async def test_refused_actions_and_untrusted_forwarding_are_recorded_as_they_are(
    client: Client,
) -> None:
    ann = await register(client, unique_email("ann"))
    eve = await register(client, unique_email("eve"))
    doc = await create_document(client, ann)
    refused = await client.post(
        f"/documents/{doc['id']}/share/public",
        json={"enabled": True, "role": "editor"},
        headers=eve.headers,
    )
    assert_error(refused, 404)
    assert [e.action for e in await entries(client, doc_id=doc["id"])] == ["document.created"]
    # A peer that is not a trusted proxy cannot choose the address recorded.
    spoof = {"X-Test-Peer": "198.51.100.9", "X-Forwarded-For": "1.1.1.1", **ann.headers}
    await client.patch(f"/documents/{doc['id']}", json={"title": "X"}, headers=spoof)
    [renamed] = await entries(client, action="document.renamed")
    assert renamed.ip == "198.51.100.9"


async def test_only_the_owner_reads_a_documents_activity(client: Client) -> None:
    ann = await register(client, unique_email("ann"), name="Ann")
    bob = await register(client, unique_email("bob"), name="Bob")
    eve = await register(client, unique_email("eve"))
    doc = await create_document(client, ann, "Mine")
    other = await create_document(client, bob, "Bob's")
    d = f"/documents/{doc['id']}"
    await client.post(
        f"{d}/share", json={"email": bob.email, "role": "editor"}, headers=ann.headers
    )
    link = (
        await client.post(
            f"{d}/share/public", json={"enabled": True, "role": "editor"}, headers=ann.headers
        )
    ).json()["link_token"]
    mine = await client.get(f"{d}/activity", headers=ann.headers)
    assert mine.status_code == 200
    body = mine.json()
    assert [e["action"] for e in body["entries"]] == [
        "document.public_link_changed",
        "document.shared",
        "document.created",
    ]
    assert body["next_before"] is None
    assert {e["doc_id"] for e in body["entries"]} == {doc["id"]}  # not Bob's document's
    assert all(e["actor_email"] == "" for e in body["entries"])  # names, not addresses
    assert body["entries"][1]["subject_name"] == "Bob"
    assert_error(await client.get(f"{d}/activity", headers=bob.headers), 403)
    assert_error(await client.get(f"{d}/activity", headers=eve.headers), 404)
    assert_error(
        await client.get(f"{d}/activity", headers={**eve.headers, "X-DocStream-Link": link}), 403
    )
    assert_error(await client.get(f"{d}/activity", headers={"X-DocStream-Link": link}), 401)
    assert_error(await client.get(f"{d}/activity"), 401)
    assert_error(await client.get(f"/documents/{other['id']}/activity", headers=ann.headers), 404)
    assert_error(await client.get("/documents/not-a-uuid/activity", headers=ann.headers), 404)


async def test_activity_pages_newest_first(client: Client) -> None:
    ann = await register(client, unique_email("ann"))
    doc = await create_document(client, ann, "T0")
    for i in range(1, 6):
        await client.patch(f"/documents/{doc['id']}", json={"title": f"T{i}"}, headers=ann.headers)
    seen: list[str] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"before": before} if before else {})}
        page = await client.get(
            f"/documents/{doc['id']}/activity", params=params, headers=ann.headers
        )
        assert page.status_code == 200
        seen += [e["detail"].get("title", e["action"]) for e in page.json()["entries"]]
        before = page.json()["next_before"]
        if before is None:
            break
    assert seen == ["T5", "T4", "T3", "T2", "T1", "document.created"]
    for bad in ({"limit": 0}, {"limit": 201}, {"before": 0}, {"before": "x"}):
        response = await client.get(
            f"/documents/{doc['id']}/activity", params=bad, headers=ann.headers
        )
        assert_error(response, 400)


async def test_only_enabled_administrators_read_the_whole_log(client: Client) -> None:
    root = await admin(client)
    ann = await register(client, unique_email("ann"), name="Ann")
    for path in ("/admin/audit", "/admin/audit.csv"):
        assert_error(await client.get(path, headers=ann.headers), 403)
        assert_error(await client.get(path), 401)
        assert_error(await client.get(path, headers={"Authorization": "Bearer nope"}), 401)
    doc = await create_document(client, ann, "Plans")
    response = await client.get(
        "/admin/audit", params={"action": "document."}, headers=root.headers
    )
    assert response.status_code == 200
    [created] = response.json()["entries"]
    assert created["action"] == "document.created" and created["actor_email"] == ann.email
    assert doc["id"] == created["doc_id"]
    await services(client).store.set_disabled(root.id, True)
    refused = await client.get("/admin/audit", headers=root.headers)
    assert refused.status_code in (401, 403), refused.text  # a disabled one is none


async def test_admin_filters_and_pages(client: Client) -> None:
    root = await admin(client)
    ann = await register(client, unique_email("ann"), name="Ann")
    bob = await register(client, unique_email("bob"), name="Bob")
    a = await create_document(client, ann, "A")
    b = await create_document(client, bob, "B")
    await client.patch(f"/documents/{a['id']}", json={"title": "A2"}, headers=ann.headers)
    await client.post("/auth/logout-all", headers=bob.headers)

    async def actions(**params: Any) -> list[str]:
        response = await client.get("/admin/audit", params=params, headers=root.headers)
        assert response.status_code == 200, response.text
        return [f"{e['action']}:{e['actor_name']}" for e in response.json()["entries"]]

    assert await actions(actor=ann.id) == [
        "document.renamed:Ann",
        "document.created:Ann",
        "auth.sign_up:Ann",
    ]
    assert await actions(actor=bob.email.upper()) == [
        "auth.signed_out_everywhere:Bob",
        "document.created:Bob",
        "auth.sign_up:Bob",
    ]
    assert await actions(action="auth.signed_out") == ["auth.signed_out_everywhere:Bob"]
    assert await actions(action="auth.sign_up") == [
        "auth.sign_up:Bob",
        "auth.sign_up:Ann",
        "auth.sign_up:Root",
    ]
    assert await actions(doc=b["id"]) == ["document.created:Bob"]
    assert await actions(doc=b["id"], actor=ann.id) == []
    future = (utcnow() + timedelta(days=1)).isoformat()
    past = (utcnow() - timedelta(days=1)).isoformat()
    assert await actions(since=future) == []
    assert len(await actions(since=past, until=future)) == 7  # 4 above and 3 sign-ups
    first = await client.get("/admin/audit", params={"limit": 4}, headers=root.headers)
    rest = await client.get(
        "/admin/audit", params={"before": first.json()["next_before"]}, headers=root.headers
    )
    ids = [e["id"] for e in first.json()["entries"] + rest.json()["entries"]]
    assert len(ids) == 7 and ids == sorted(ids, reverse=True)
    assert rest.json()["next_before"] is None
    for bad in (
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"since": future, "until": past},
        {"actor": "x" * 400},
    ):
        assert_error(await client.get("/admin/audit", params=bad, headers=root.headers), 400)


async def test_csv_export_has_the_filters_and_defuses_formulas(client: Client) -> None:
    root = await admin(client)
    mallory = await register(client, unique_email("mallory"), name='=HYPERLINK("http://x")')
    await create_document(client, mallory, "+SUM(A1:A9)")
    await create_document(client, mallory, "@cmd")
    other = await register(client, unique_email("other"))
    await create_document(client, other, "-2+3")
    response = await client.get(
        "/admin/audit.csv",
        params={"actor": mallory.id, "action": "document."},
        headers=root.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["id", "at", "action"]
    assert len(rows) == 3  # the header and mallory's two documents, not the other's
    titles = {r[8] for r in rows[1:]}
    assert titles == {"'+SUM(A1:A9)", "'@cmd"}
    assert {r[5] for r in rows[1:]} == {'\'=HYPERLINK("http://x")'}
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert_error(
        await client.get("/admin/audit.csv", params={"since": "x"}, headers=root.headers), 400
    )


async def test_csv_streams_every_page(client: Client) -> None:
    root = await admin(client)
    store = services(client).store
    for i in range(1203):
        await store.append_audit(NewAuditEntry(action=f"test.{i}"))
    response = await client.get(
        "/admin/audit.csv", params={"action": "test."}, headers=root.headers
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert [r[2] for r in rows[1:]] == [f"test.{i}" for i in reversed(range(1203))]


async def test_a_browser_navigating_to_the_page_gets_the_app(client: Client) -> None:
    page = await client.get("/admin/audit", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_error(await client.get("/admin/audit", headers={"Accept": "application/json"}), 401)
