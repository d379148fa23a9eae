"""The administration REST API and the sign-up policy, in process, on SQLite and PostgreSQL:
the first account administers the server, who may sign up, disabled accounts, the last
administrator, deleting accounts (by an administrator and by their owner), and the audit events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.collab.extensions import ActionTaken, Extension
from docstream.storage.base import NewLogEntry
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import PASSWORD, Account, assert_error, bearer, create_document, register

Client = AsyncTestClient[Litestar]


class Recorder(Extension):
    name = "recorder"

    def __init__(self) -> None:
        self.actions: list[ActionTaken] = []

    async def action_taken(self, event: ActionTaken) -> None:
        self.actions.append(event)

    def named(self, action: str) -> list[ActionTaken]:
        return [a for a in self.actions if a.action == action]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def _client(app: Litestar, recorder: Recorder) -> AsyncIterator[Client]:
    async with AsyncTestClient(app) as client:
        app.state.services.documents.extensions.add(recorder)
        yield client


@pytest.fixture
async def admin_client(make_settings: SettingsFactory, recorder: Recorder) -> AsyncIterator[Client]:
    async for client in _client(create_app(make_settings()), recorder):
        yield client


@pytest.fixture
async def invite_only(make_settings: SettingsFactory, recorder: Recorder) -> AsyncIterator[Client]:
    app = create_app(make_settings(host="0.0.0.0"))  # on the network: invite-only by default
    async for client in _client(app, recorder):
        yield client


async def me(client: Client, account: Account) -> dict[str, Any]:
    response = await client.get("/auth/me", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def change(client: Client, admin: Account, user_id: str, **body: bool) -> Any:
    return await client.patch(f"/admin/users/{user_id}", json=body, headers=admin.headers)


# --- the first administrator ------------------------------------------------------------------


async def test_the_first_account_administers_the_server(admin_client: Client) -> None:
    first = await register(admin_client, name="Ann")
    second = await register(admin_client, name="Bob")
    assert (await me(admin_client, first))["is_admin"] is True
    assert (await me(admin_client, second))["is_admin"] is False
    signup = (await admin_client.get("/auth/signup")).json()
    assert signup == {"policy": "open", "first_account": False}


async def test_concurrent_first_sign_ups_make_exactly_one_administrator(
    admin_client: Client,
) -> None:
    assert (await admin_client.get("/auth/signup")).json()["first_account"] is True
    accounts = await asyncio.gather(*(register(admin_client) for _ in range(6)))
    flags = [(await me(admin_client, a))["is_admin"] for a in accounts]
    assert sum(flags) == 1


# --- the sign-up policy -------------------------------------------------------------------------


async def test_invite_only_refuses_strangers_but_not_the_first_account(
    invite_only: Client, recorder: Recorder
) -> None:
    assert (await invite_only.get("/auth/signup")).json() == {
        "policy": "invite-only",
        "first_account": True,
    }
    admin = await register(invite_only)  # the very first account is always allowed
    refused = await invite_only.post(
        "/auth/register", json={"email": "eve@example.com", "password": PASSWORD}
    )
    body = assert_error(refused, 403, "FORBIDDEN")
    assert "by invitation only" in body["error"]["message"]
    (event,) = recorder.named("auth.sign_up_refused")
    assert ("email", "eve@example.com") in event.detail and event.actor_id is None
    assert recorder.named("auth.sign_up")[0].actor_id == admin.id


async def test_a_server_invitation_lets_its_address_sign_up_once(
    invite_only: Client, recorder: Recorder
) -> None:
    admin = await register(invite_only)
    made = await invite_only.post(
        "/admin/invitations", json={"email": "Bob@Example.com"}, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    invitation = made.json()
    assert invitation["email"] == "bob@example.com"
    token = invitation["url"].split("invitation=")[1]
    assert invitation["url"].endswith(f"/signup?invitation={token}")
    preview = await invite_only.get(f"/auth/signup/invitations/{token}")
    assert preview.json()["email"] == "bob@example.com"
    listed = (await invite_only.get("/admin/invitations", headers=admin.headers)).json()
    assert [i["id"] for i in listed] == [invitation["id"]] and "url" not in listed[0]
    # Another address is still refused; the invited one gets in, once.
    assert_error(
        await invite_only.post(
            "/auth/register", json={"email": "eve@example.com", "password": PASSWORD}
        ),
        403,
    )
    bob = await register(invite_only, email="bob@example.com")
    assert (await me(invite_only, bob))["is_admin"] is False
    assert (await invite_only.get("/admin/invitations", headers=admin.headers)).json() == []
    assert_error(await invite_only.get(f"/auth/signup/invitations/{token}"), 404)
    assert recorder.named("admin.invitation_created")[0].actor_id == admin.id


async def test_a_revoked_server_invitation_lets_nobody_in(invite_only: Client) -> None:
    admin = await register(invite_only)
    made = await invite_only.post(
        "/admin/invitations", json={"email": "bob@example.com"}, headers=admin.headers
    )
    inv = made.json()
    gone = await invite_only.delete(f"/admin/invitations/{inv['id']}", headers=admin.headers)
    assert gone.status_code == 204
    assert_error(
        await invite_only.delete(f"/admin/invitations/{inv['id']}", headers=admin.headers), 404
    )
    assert_error(
        await invite_only.post(
            "/auth/register", json={"email": "bob@example.com", "password": PASSWORD}
        ),
        403,
    )
    # An address that already has an account needs no invitation.
    assert_error(
        await invite_only.post(
            "/admin/invitations", json={"email": admin.email}, headers=admin.headers
        ),
        409,
    )


async def test_an_invitation_to_a_document_also_lets_its_address_sign_up(
    invite_only: Client,
) -> None:
    admin = await register(invite_only)
    doc = await create_document(invite_only, admin)
    shared = await invite_only.post(
        f"/documents/{doc['id']}/share",
        json={"email": "dan@example.com", "role": "viewer"},
        headers=admin.headers,
    )
    assert shared.status_code == 200, shared.text
    await register(invite_only, email="dan@example.com")


async def test_the_admin_page_policy_wins_over_the_setting_and_can_be_reset(
    invite_only: Client, recorder: Recorder
) -> None:
    admin = await register(invite_only)
    policy = (await invite_only.get("/admin/signup-policy", headers=admin.headers)).json()
    assert policy == {"policy": "invite-only", "configured": "invite-only", "overridden": False}
    opened = await invite_only.put(
        "/admin/signup-policy", json={"policy": "open"}, headers=admin.headers
    )
    assert opened.json() == {"policy": "open", "configured": "invite-only", "overridden": True}
    assert (await invite_only.get("/auth/signup")).json()["policy"] == "open"
    await register(invite_only)
    await invite_only.put("/admin/signup-policy", json={"policy": "closed"}, headers=admin.headers)
    # Closed: not even an invitation helps.
    await invite_only.post(
        "/admin/invitations", json={"email": "bob@example.com"}, headers=admin.headers
    )
    refused = await invite_only.post(
        "/auth/register", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert "closed" in assert_error(refused, 403)["error"]["message"]
    reset = await invite_only.put(
        "/admin/signup-policy", json={"policy": None}, headers=admin.headers
    )
    assert reset.json()["overridden"] is False
    await register(invite_only, email="bob@example.com")
    assert_error(
        await invite_only.put(
            "/admin/signup-policy", json={"policy": "everyone"}, headers=admin.headers
        ),
        400,
    )
    changed = recorder.named("admin.signup_policy_changed")
    assert [dict(e.detail)["policy"] for e in changed][:2] == ["open", "closed"]


# --- disabled accounts and the last administrator ---------------------------------------------


async def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop_working(
    admin_client: Client, recorder: Recorder
) -> None:
    admin = await register(admin_client)
    bob = await register(admin_client)
    disabled = await change(admin_client, admin, bob.id, disabled=True)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    assert_error(await admin_client.get("/auth/me", headers=bob.headers), 401)
    refreshed = await admin_client.post("/auth/refresh", json={"refresh_token": bob.refresh_token})
    assert_error(refreshed, 401)
    login = await admin_client.post("/auth/login", json={"email": bob.email, "password": PASSWORD})
    assert "disabled" in assert_error(login, 403)["error"]["message"]
    wrong = await admin_client.post("/auth/login", json={"email": bob.email, "password": "x" * 9})
    assert_error(wrong, 401)  # without the password, nobody learns the account is disabled
    enabled = await change(admin_client, admin, bob.id, disabled=False)
    assert enabled.json()["disabled"] is False
    login = await admin_client.post("/auth/login", json={"email": bob.email, "password": PASSWORD})
    assert login.status_code == 200
    actions = [a.action for a in recorder.actions if a.action.startswith("admin.")]
    assert actions == ["admin.user_disabled", "admin.user_enabled"]
    assert recorder.named("admin.user_disabled")[0].subject_id == bob.id


async def test_the_last_administrator_is_never_demoted_disabled_or_deleted(
    admin_client: Client, recorder: Recorder
) -> None:
    ann = await register(admin_client)
    bob = await register(admin_client)
    for body in ({"is_admin": False}, {"disabled": True}):
        assert_error(await change(admin_client, ann, ann.id, **body), 409, "CONFLICT")
    delete_me = await admin_client.request(
        "DELETE",
        "/auth/me",
        json={"password": PASSWORD, "documents": "delete"},
        headers=ann.headers,
    )
    assert_error(delete_me, 409)
    promoted = await change(admin_client, ann, bob.id, is_admin=True)
    assert promoted.json()["is_admin"] is True
    assert (await me(admin_client, bob))["is_admin"] is True
    # Still not themselves; but one administrator may demote the other.
    assert_error(await change(admin_client, ann, ann.id, is_admin=False), 409)
    demoted = await change(admin_client, bob, ann.id, is_admin=False)
    assert demoted.json()["is_admin"] is False
    assert_error(await admin_client.get("/admin/overview", headers=ann.headers), 403)
    assert [a.action for a in recorder.actions if a.action.startswith("admin.")] == [
        "admin.user_promoted",
        "admin.user_demoted",
    ]
    assert_error(await change(admin_client, bob, bob.id, disabled=True), 409)
    assert_error(await change(admin_client, bob, "not-a-user", disabled=True), 404)
    assert_error(
        await admin_client.patch(f"/admin/users/{ann.id}", json={}, headers=bob.headers), 400
    )


# --- deleting accounts ------------------------------------------------------------------------


async def test_an_administrator_deletes_an_account_handing_its_documents_over(
    admin_client: Client, recorder: Recorder
) -> None:
    admin = await register(admin_client)
    bob = await register(admin_client, name="Bob")
    cy = await register(admin_client, name="Cy")
    doc = await create_document(admin_client, bob, "Bob's plan")
    response = await admin_client.request(
        "DELETE",
        f"/admin/users/{bob.id}",
        json={"documents": "transfer", "transfer_to": cy.email},
        headers=admin.headers,
    )
    assert response.status_code == 204, response.text
    assert_error(await admin_client.get("/auth/me", headers=bob.headers), 401)
    got = await admin_client.get(f"/documents/{doc['id']}", headers=cy.headers)
    assert got.status_code == 200 and got.json()["role"] == "owner"
    (event,) = recorder.named("admin.user_deleted")
    assert event.subject_id == bob.id and event.detail == (("documents", "transferred"),)
    listed = (await admin_client.get("/admin/users", headers=admin.headers)).json()
    assert bob.id not in [u["id"] for u in listed["users"]]


async def test_an_administrator_deletes_an_account_and_its_documents(
    admin_client: Client,
) -> None:
    admin = await register(admin_client)
    bob = await register(admin_client)
    doc = await create_document(admin_client, bob)
    await admin_client.post(
        f"/documents/{doc['id']}/share",
        json={"email": admin.email, "role": "editor"},
        headers=bob.headers,
    )
    # Bad choices first: nothing is deleted.
    for body, status in (
        ({"documents": "transfer"}, 400),
        ({"documents": "transfer", "transfer_to": bob.id}, 409),
        ({"documents": "transfer", "transfer_to": "nobody@example.com"}, 404),
        ({"documents": "delete", "transfer_to": admin.id}, 400),
        ({"documents": "keep"}, 400),
    ):
        response = await admin_client.request(
            "DELETE", f"/admin/users/{bob.id}", json=body, headers=admin.headers
        )
        assert_error(response, status)
    assert (
        await admin_client.get(f"/documents/{doc['id']}", headers=admin.headers)
    ).status_code == 200
    response = await admin_client.request(
        "DELETE", f"/admin/users/{bob.id}", json={"documents": "delete"}, headers=admin.headers
    )
    assert response.status_code == 204
    assert_error(await admin_client.get(f"/documents/{doc['id']}", headers=admin.headers), 404)
    again = await admin_client.request(
        "DELETE", f"/admin/users/{bob.id}", json={"documents": "delete"}, headers=admin.headers
    )
    assert_error(again, 404)
    yourself = await admin_client.request(
        "DELETE", f"/admin/users/{admin.id}", json={"documents": "delete"}, headers=admin.headers
    )
    assert_error(yourself, 409)


async def test_deleting_your_own_account(admin_client: Client, recorder: Recorder) -> None:
    admin = await register(admin_client)
    bob = await register(admin_client)
    doc = await create_document(admin_client, bob)
    wrong = await admin_client.request(
        "DELETE",
        "/auth/me",
        json={"password": "not my password", "documents": "delete"},
        headers=bob.headers,
    )
    assert_error(wrong, 403)
    done = await admin_client.request(
        "DELETE",
        "/auth/me",
        json={"password": PASSWORD, "documents": "transfer", "transfer_to": admin.email},
        headers=bob.headers,
    )
    assert done.status_code == 204, done.text
    assert_error(await admin_client.get("/auth/me", headers=bob.headers), 401)
    login = await admin_client.post("/auth/login", json={"email": bob.email, "password": PASSWORD})
    assert_error(login, 401)
    owned = await admin_client.get(f"/documents/{doc['id']}", headers=admin.headers)
    assert owned.json()["role"] == "owner"
    (event,) = recorder.named("account.deleted")
    assert event.actor_id == bob.id and event.detail == (("documents", "transferred"),)
    # Signed out (no token): nothing to delete.
    assert_error(
        await admin_client.request(
            "DELETE", "/auth/me", json={"password": PASSWORD, "documents": "delete"}
        ),
        401,
    )


# --- the list and the overview ------------------------------------------------------------------


async def test_users_are_listed_searched_and_paged(admin_client: Client) -> None:
    admin = await register(admin_client, name="Admin")
    for name in ("Alpha", "Beta", "Gamma"):
        await register(admin_client, name=name)
    bob = await register(admin_client, name="Bob Builder")
    await create_document(admin_client, bob)
    page = (await admin_client.get("/admin/users?limit=2", headers=admin.headers)).json()
    assert page["total"] == 5 and len(page["users"]) == 2 and page["limit"] == 2
    found = (await admin_client.get("/admin/users?q=builder", headers=admin.headers)).json()
    (row,) = found["users"]
    assert row["id"] == bob.id and row["documents"] == 1 and row["is_admin"] is False
    assert row["last_sign_in"] is not None and row["disabled"] is False
    assert_error(await admin_client.get("/admin/users?limit=1000", headers=admin.headers), 400)


async def test_the_overview(admin_client: Client, backend: str) -> None:
    admin = await register(admin_client)
    await create_document(admin_client, admin)
    body = (await admin_client.get("/admin/overview", headers=admin.headers)).json()
    assert body["storage"] == ("PostgreSQL" if backend == "postgres" else "SQLite")
    assert body["redis"] == "disabled"
    assert (body["users"], body["documents"], body["open_documents"]) == (1, 1, 0)
    assert body["version"]


# --- attacks: every admin route refuses everyone but an enabled administrator ---------------------

ADMIN_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/admin/overview", None),
    ("GET", "/admin/users", None),
    ("PATCH", "/admin/users/{victim}", {"is_admin": True}),
    ("DELETE", "/admin/users/{victim}", {"documents": "delete"}),
    ("GET", "/admin/invitations", None),
    ("POST", "/admin/invitations", {"email": "mallory@example.com"}),
    ("DELETE", "/admin/invitations/{invitation}", None),
    ("GET", "/admin/signup-policy", None),
    ("PUT", "/admin/signup-policy", {"policy": "open"}),
]


async def test_every_admin_route_refuses_non_administrators(admin_client: Client) -> None:
    admin = await register(admin_client)
    victim = await register(admin_client)
    user = await register(admin_client)
    fallen = await register(admin_client)  # an administrator, then disabled
    await change(admin_client, admin, fallen.id, is_admin=True)
    fallen_login = await admin_client.post(
        "/auth/login", json={"email": fallen.email, "password": PASSWORD}
    )
    fallen_token = fallen_login.json()["access_token"]
    await change(admin_client, admin, fallen.id, disabled=True)
    doc = await create_document(admin_client, admin)
    public = await admin_client.post(
        f"/documents/{doc['id']}/share/public",
        json={"enabled": True, "role": "editor"},
        headers=admin.headers,
    )
    assert public.status_code == 200, public.text
    link = public.json()["link_token"]
    inv = (
        await admin_client.post(
            "/admin/invitations", json={"email": "x@example.com"}, headers=admin.headers
        )
    ).json()
    admin_client.cookies.clear()
    callers: list[tuple[str, dict[str, str], int]] = [
        ("a user", user.headers, 403),
        ("a disabled administrator", bearer(fallen_token), 401),
        ("a guest with a public link", {"X-DocStream-Link": link}, 401),
        ("a signed-out session", victim.headers, 401),
        ("nobody", {}, 401),
    ]
    await admin_client.post("/auth/logout", headers=victim.headers)
    for method, path, body in ADMIN_ROUTES:
        url = path.format(victim=victim.id, invitation=inv["id"])
        for who, headers, status in callers:
            response = await admin_client.request(method, url, json=body, headers=headers)
            assert response.status_code == status, (who, method, url, response.text)
            assert_error(response, status)
    # Nothing changed.
    listed = (await admin_client.get("/admin/users", headers=admin.headers)).json()
    flags = {u["id"]: u["is_admin"] for u in listed["users"]}
    assert flags[victim.id] is False and victim.id in flags
    assert len((await admin_client.get("/admin/invitations", headers=admin.headers)).json()) == 1


async def test_the_history_shows_a_deleted_authors_edits_as_a_deleted_user(
    admin_client: Client,
) -> None:
    admin = await register(admin_client, name="Admin")
    bob = await register(admin_client, name="Bob")
    doc = await create_document(admin_client, admin)
    store = admin_client.app.state.services.store
    await store.append_ops(doc["id"], [NewLogEntry(bob.id, "r-bob", b"\x01[]", preview="hi")])
    await store.append_ops(doc["id"], [NewLogEntry("guest-abcd", "r-guest", b"\x01[]")])
    gone = await admin_client.request(
        "DELETE", f"/admin/users/{bob.id}", json={"documents": "delete"}, headers=admin.headers
    )
    assert gone.status_code == 204
    history = await admin_client.get(f"/documents/{doc['id']}/history", headers=admin.headers)
    assert history.status_code == 200, history.text
    names = {e["author"]: e["user_name"] for e in history.json()}
    assert names == {bob.id: "Deleted user", "guest-abcd": "Guest"}


async def test_the_admin_page_path_serves_the_web_ui(admin_client: Client) -> None:
    page = await admin_client.get("/admin")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_error(await admin_client.get("/admin/nothing-here"), 404)
