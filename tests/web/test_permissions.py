"""The permission matrix of docs/protocol.md §4 and the sharing rules of ``services/documents.py``.

Rules under test: a document the caller cannot open answers 404 (401 for anonymous callers), a
visible document with too low a role answers 403; the effective role is the higher of the
caller's own role and the public role; anonymous callers (guests) only read; only the owner
deletes, changes public sharing, grants or revokes editors and revokes anyone; editors invite
viewers; sharing needs an own role (a public link is not enough).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.web.api import Account, assert_error, create_document, register, unique_email

Client = AsyncTestClient[Litestar]

# Who calls, and how the document is shared. "@public" = public sharing enabled with role viewer,
# "@public-editor" = enabled with role editor; these callers present the link token.
# "guest" = no credentials at all (only the link).
ACTORS = (
    "owner",
    "editor",
    "viewer",
    "stranger",
    "anonymous",
    "guest@public",
    "stranger@public",
    "guest@public-editor",
    "stranger@public-editor",
    "viewer@public-editor",
)

# fmt: off
# Columns: O owner, E editor, V viewer, S stranger, A anonymous, G guest@public, SP stranger@public,
#          GE guest@public-editor, SE stranger@public-editor, VE viewer@public-editor
MATRIX: dict[str, tuple[int, ...]] = {
    #                                        O    E    V    S    A    G    SP   GE   SE   VE
    "GET /documents":                      (200, 200, 200, 200, 401, 401, 200, 401, 200, 200),
    "POST /documents":                     (201, 201, 201, 201, 401, 401, 201, 401, 201, 201),
    "GET /documents/{id}":                 (200, 200, 200, 404, 401, 200, 200, 200, 200, 200),
    "PATCH /documents/{id}":               (200, 200, 403, 404, 401, 401, 403, 401, 200, 200),
    "DELETE /documents/{id}":              (204, 403, 403, 404, 401, 401, 403, 401, 403, 403),
    "GET /documents/{id}/collaborators":   (200, 200, 200, 404, 401, 401, 200, 401, 200, 200),
    "POST /documents/{id}/share viewer":   (200, 200, 403, 404, 401, 401, 403, 401, 403, 403),
    "POST /documents/{id}/share editor":   (200, 403, 403, 404, 401, 401, 403, 401, 403, 403),
    "DELETE /documents/{id}/share/{user}": (204, 403, 403, 404, 401, 401, 403, 401, 403, 403),
    "POST /documents/{id}/share/public":   (200, 403, 403, 404, 401, 401, 403, 401, 403, 403),
    # history, versions and export (the collaboration routes, here since they exist)
    "GET /documents/{id}/history":         (200, 200, 200, 404, 401, 200, 200, 200, 200, 200),
    "GET /documents/{id}/versions":        (200, 200, 200, 404, 401, 200, 200, 200, 200, 200),
    "GET /documents/{id}/versions/{v}":    (200, 200, 200, 404, 401, 200, 200, 200, 200, 200),
    "POST /documents/{id}/versions":       (201, 201, 403, 404, 401, 401, 403, 401, 201, 201),
    "POST /documents/{id}/versions/{v}/restore":
                                           (200, 200, 403, 404, 401, 401, 403, 401, 200, 200),
    "GET /documents/{id}/export":          (200, 200, 200, 404, 401, 200, 200, 200, 200, 200),
    # the audit log: a document's activity is its owner's
    "GET /documents/{id}/activity":        (200, 403, 403, 404, 401, 401, 403, 401, 403, 403),
    # trash, transfer, leave, duplicate (docs/documents.md)
    "POST /documents/{id}/duplicate":      (201, 201, 201, 404, 401, 401, 201, 401, 201, 201),
    "POST /documents/{id}/transfer":       (200, 403, 403, 404, 401, 401, 403, 401, 403, 403),
    "DELETE /documents/{id}/access/me":     (409, 204, 204, 404, 401, 401, 404, 401, 404, 204),
    "POST /trash/{id}/restore":            (200, 404, 404, 404, 401, 401, 404, 401, 404, 404),
}
# fmt: on
CODES = {
    200: None,
    201: None,
    204: None,
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
}


@dataclass
class World:
    owner: Account
    editor: Account
    viewer: Account
    stranger: Account
    target: Account  # a second viewer, the one revoked


async def make_world(client: Client) -> World:
    return World(
        *[
            await register(client, unique_email(role))
            for role in ("owner", "editor", "viewer", "stranger", "target")
        ]
    )


async def share(client: Client, doc_id: str, by: Account, email: str, role: str) -> None:
    response = await client.post(
        f"/documents/{doc_id}/share", json={"email": email, "role": role}, headers=by.headers
    )
    assert response.status_code == 200, response.text


async def shared_document(client: Client, world: World, public: str | None) -> dict[str, Any]:
    """A fresh document of ``world.owner`` with an editor, two viewers and the given public role."""
    doc = await create_document(client, world.owner, "Plans")
    await share(client, doc["id"], world.owner, world.editor.email, "editor")
    await share(client, doc["id"], world.owner, world.viewer.email, "viewer")
    await share(client, doc["id"], world.owner, world.target.email, "viewer")
    if public:
        response = await client.post(
            f"/documents/{doc['id']}/share/public",
            json={"enabled": True, "role": public},
            headers=world.owner.headers,
        )
        assert response.status_code == 200, response.text
        doc["link_token"] = response.json()["link_token"]
    return doc


async def named_version(client: Client, doc: dict[str, Any], world: World) -> int:
    response = await client.post(
        f"/documents/{doc['id']}/versions", json={"label": "v1"}, headers=world.owner.headers
    )
    assert response.status_code == 201, response.text
    version: int = response.json()["version"]
    return version


def _caller(world: World, actor: str) -> tuple[dict[str, str], str | None]:
    """Headers for ``actor`` and the public role the document gets."""
    who, _, sharing = actor.partition("@")
    public = {"": None, "public": "viewer", "public-editor": "editor"}[sharing]
    if who in ("anonymous", "guest"):
        return {}, public
    account: Account = getattr(world, who)
    return account.headers, public


async def _call(
    client: Client, route: str, doc: dict[str, Any], world: World, headers: dict[str, str]
) -> Any:
    doc_path = f"/documents/{doc['id']}"
    match route:
        case "GET /documents":
            return await client.get("/documents", headers=headers)
        case "POST /documents":
            return await client.post("/documents", json={"title": "Mine"}, headers=headers)
        case "GET /documents/{id}":
            return await client.get(doc_path, headers=headers)
        case "PATCH /documents/{id}":
            return await client.patch(doc_path, json={"title": "Renamed"}, headers=headers)
        case "DELETE /documents/{id}":
            return await client.delete(doc_path, headers=headers)
        case "GET /documents/{id}/collaborators":
            return await client.get(f"{doc_path}/collaborators", headers=headers)
        case "POST /documents/{id}/share viewer" | "POST /documents/{id}/share editor":
            role = route.rsplit(" ", 1)[1]
            return await client.post(
                f"{doc_path}/share",
                headers=headers,
                json={"email": unique_email("invitee"), "role": role},
            )
        case "DELETE /documents/{id}/share/{user}":
            return await client.delete(f"{doc_path}/share/{world.target.id}", headers=headers)
        case "POST /documents/{id}/share/public":
            return await client.post(
                f"{doc_path}/share/public",
                headers=headers,
                json={"enabled": True, "role": "editor"},
            )
        case "GET /documents/{id}/history" | "GET /documents/{id}/versions":
            return await client.get(f"{doc_path}/{route.rsplit('/', 1)[1]}", headers=headers)
        case "GET /documents/{id}/activity":
            return await client.get(f"{doc_path}/activity", headers=headers)
        case "GET /documents/{id}/export":
            return await client.get(f"{doc_path}/export", params={"format": "txt"}, headers=headers)
        case "POST /documents/{id}/versions":
            return await client.post(
                f"{doc_path}/versions", json={"label": "Draft"}, headers=headers
            )
        case "GET /documents/{id}/versions/{v}":
            version = await named_version(client, doc, world)
            return await client.get(f"{doc_path}/versions/{version}", headers=headers)
        case "POST /documents/{id}/versions/{v}/restore":
            version = await named_version(client, doc, world)
            return await client.post(f"{doc_path}/versions/{version}/restore", headers=headers)
        case "POST /documents/{id}/duplicate":
            return await client.post(f"{doc_path}/duplicate", headers=headers)
        case "POST /documents/{id}/transfer":
            body = {"user_id": world.target.id}
            return await client.post(f"{doc_path}/transfer", json=body, headers=headers)
        case "DELETE /documents/{id}/access/me":
            return await client.delete(f"{doc_path}/access/me", headers=headers)
        case "POST /trash/{id}/restore":
            trashed = await client.delete(doc_path, headers=world.owner.headers)
            assert trashed.status_code == 204, trashed.text
            return await client.post(f"/trash/{doc['id']}/restore", headers=headers)
    raise AssertionError(route)


def test_the_matrix_covers_every_actor() -> None:
    assert all(len(row) == len(ACTORS) for row in MATRIX.values())


@pytest.mark.parametrize("route", list(MATRIX))
async def test_permission_matrix(client: Client, route: str) -> None:
    world = await make_world(client)
    mismatches = []
    for actor, expected in zip(ACTORS, MATRIX[route], strict=True):
        headers, public = _caller(world, actor)
        doc = await shared_document(client, world, public)
        if public:
            headers = {**headers, "X-DocStream-Link": doc["link_token"]}
        response = await _call(client, route, doc, world, headers)
        if response.status_code != expected:
            mismatches.append(
                f"{actor}: expected {expected}, got {response.status_code} {response.text[:200]}"
            )
        elif expected >= 400:
            assert_error(response, expected, CODES[expected])
    assert not mismatches, f"{route}:\n  " + "\n  ".join(mismatches)


# --- what the allowed calls do, and what the refused ones do not ---------------------------------


async def test_hidden_and_missing_documents_look_the_same(client: Client) -> None:
    world = await make_world(client)
    doc = await shared_document(client, world, None)
    missing = "00000000-0000-4000-8000-000000000000"
    for suffix, method in (
        ("", "GET"),
        ("", "PATCH"),
        ("", "DELETE"),
        ("/collaborators", "GET"),
        ("/share", "POST"),
        ("/share/public", "POST"),
        (f"/share/{world.target.id}", "DELETE"),
        ("/duplicate", "POST"),
        ("/access/me", "DELETE"),
    ):
        body = {"title": "x", "email": "a@example.com", "role": "viewer", "enabled": True}
        kwargs: dict[str, Any] = {"headers": world.stranger.headers}
        if method in ("POST", "PATCH"):
            kwargs["json"] = body
        hidden = await client.request(method, f"/documents/{doc['id']}{suffix}", **kwargs)
        absent = await client.request(method, f"/documents/{missing}{suffix}", **kwargs)
        assert_error(hidden, 404, "NOT_FOUND")
        assert hidden.content == absent.content, (method, suffix)
        kwargs.pop("headers")
        anon_hidden = await client.request(method, f"/documents/{doc['id']}{suffix}", **kwargs)
        anon_absent = await client.request(method, f"/documents/{missing}{suffix}", **kwargs)
        assert_error(anon_hidden, 401, "UNAUTHORIZED")
        assert anon_hidden.content == anon_absent.content, (method, suffix)


async def test_refused_calls_change_nothing(client: Client) -> None:
    world = await make_world(client)
    doc = await shared_document(client, world, "viewer")
    path = f"/documents/{doc['id']}"
    await client.patch(path, json={"title": "Hacked"}, headers=world.viewer.headers)
    await client.delete(path, headers=world.editor.headers)
    await client.post(
        f"{path}/share",
        json={"email": world.stranger.email, "role": "editor"},
        headers=world.editor.headers,
    )
    await client.post(
        f"{path}/share",
        json={"email": world.stranger.email, "role": "viewer"},
        headers=world.stranger.headers,
    )
    await client.delete(f"{path}/share/{world.target.id}", headers=world.editor.headers)
    await client.post(
        f"{path}/share/public",
        json={"enabled": False, "role": "viewer"},
        headers=world.editor.headers,
    )
    after = (await client.get(path, headers=world.owner.headers)).json()
    assert after["title"] == "Plans"
    assert after["public_sharing_enabled"] is True and after["public_sharing_role"] == "viewer"
    people = (await client.get(f"{path}/collaborators", headers=world.owner.headers)).json()
    assert {(p["email"], p["role"]) for p in people} == {
        (world.owner.email, "owner"),
        (world.editor.email, "editor"),
        (world.viewer.email, "viewer"),
        (world.target.email, "viewer"),
    }


async def test_allowed_calls_take_effect(client: Client) -> None:
    world = await make_world(client)
    doc = await shared_document(client, world, None)
    path = f"/documents/{doc['id']}"
    renamed = await client.patch(path, json={"title": "  Roadmap  "}, headers=world.editor.headers)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Roadmap"
    assert renamed.json()["role"] == "editor"
    await share(client, doc["id"], world.editor, world.stranger.email, "viewer")
    listed = (await client.get("/documents", headers=world.stranger.headers)).json()
    assert [(d["id"], d["role"]) for d in listed] == [(doc["id"], "viewer")]
    revoked = await client.delete(f"{path}/share/{world.stranger.id}", headers=world.owner.headers)
    assert revoked.status_code == 204
    assert_error(await client.get(path, headers=world.stranger.headers), 404, "NOT_FOUND")
    assert (await client.get("/documents", headers=world.stranger.headers)).json() == []
    # Owner upgrades a viewer to editor, and back.
    await share(client, doc["id"], world.owner, world.viewer.email, "editor")
    assert (await client.get(path, headers=world.viewer.headers)).json()["role"] == "editor"
    # An editor may not demote another editor.
    demote = await client.post(
        f"{path}/share",
        headers=world.editor.headers,
        json={"email": world.viewer.email, "role": "viewer"},
    )
    assert_error(demote, 403, "FORBIDDEN")
    deleted = await client.delete(path, headers=world.owner.headers)
    assert deleted.status_code == 204
    for account in (world.owner, world.editor, world.viewer):
        assert_error(await client.get(path, headers=account.headers), 404, "NOT_FOUND")


async def test_public_sharing_admits_and_then_stops_admitting(client: Client) -> None:
    world = await make_world(client)
    doc = await shared_document(client, world, "viewer")
    path = f"/documents/{doc['id']}"
    link = {"X-DocStream-Link": doc["link_token"]}
    guest = await client.get(path, headers=link)
    assert guest.status_code == 200 and guest.json()["role"] == "viewer"
    stranger = {**world.stranger.headers, **link}
    assert (await client.get(path, headers=stranger)).json()["role"] == "viewer"
    # A public link does not put the document into the stranger's list.
    assert (await client.get("/documents", headers=world.stranger.headers)).json() == []
    off = await client.post(
        f"{path}/share/public",
        json={"enabled": False, "role": "viewer"},
        headers=world.owner.headers,
    )
    assert off.status_code == 200 and off.json()["public_sharing_enabled"] is False
    assert_error(await client.get(path, headers=link), 401, "UNAUTHORIZED")
    assert_error(await client.get(path, headers=stranger), 404, "NOT_FOUND")


async def test_owner_cannot_be_shared_or_revoked(client: Client) -> None:
    world = await make_world(client)
    doc = await shared_document(client, world, None)
    path = f"/documents/{doc['id']}"
    for role in ("viewer", "editor"):
        response = await client.post(
            f"{path}/share",
            headers=world.owner.headers,
            json={"email": world.owner.email, "role": role},
        )
        assert_error(response, 400, "VALIDATION_ERROR")
    assert_error(
        await client.delete(f"{path}/share/{world.owner.id}", headers=world.owner.headers),
        400,
        "VALIDATION_ERROR",
    )
    assert (await client.get(path, headers=world.owner.headers)).json()["role"] == "owner"


async def test_revoking_someone_without_access_is_404(client: Client) -> None:
    world = await make_world(client)
    doc = await shared_document(client, world, None)
    path = f"/documents/{doc['id']}/share"
    for user_id in (world.stranger.id, "00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        assert_error(
            await client.delete(f"{path}/{user_id}", headers=world.owner.headers), 404, "NOT_FOUND"
        )


# --- invitations to addresses without an account ------------------------------------------------


def _token(url: str) -> str:
    return url.rsplit("/invite/", 1)[1]


async def test_inviting_an_unknown_email_gives_a_single_use_link(client: Client) -> None:
    owner = await register(client, unique_email("owner"))
    doc = await create_document(client, owner, "Invitation")
    path = f"/documents/{doc['id']}"
    invited = unique_email("newcomer")
    response = await client.post(
        f"{path}/share",
        headers=owner.headers,
        json={"email": f"  {invited.upper()} ", "role": "editor"},
    )
    assert response.status_code == 200, response.text
    pending = response.json()
    assert (pending["email"], pending["pending"], pending["role"]) == (invited, True, "editor")
    assert pending["user_id"] is None and "/invite/" in pending["invite_url"]
    assert pending["emailed"] is False  # no SMTP configured: the inviter sends the link
    people = (await client.get(f"{path}/collaborators", headers=owner.headers)).json()
    listed = next(p for p in people if p["email"] == invited)
    assert listed["pending"] is True and listed["invitation_id"] == pending["invitation_id"]
    assert listed["expires_at"] and "invite_url" not in listed

    newcomer = await register(client, invited.capitalize())
    assert (await client.get("/documents", headers=newcomer.headers)).json() == []
    accepted = await client.post(
        f"/invitations/{_token(pending['invite_url'])}/accept", headers=newcomer.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"doc_id": doc["id"], "role": "editor"}
    listed = (await client.get("/documents", headers=newcomer.headers)).json()
    assert [(d["id"], d["role"]) for d in listed] == [(doc["id"], "editor")]
    people = (await client.get(f"{path}/collaborators", headers=owner.headers)).json()
    assert [p["pending"] for p in people if p["email"] == invited] == [False]
    # Registering the same email again is a conflict, not a second activation.
    again = await client.post("/auth/register", json={"email": invited, "password": "other pass 1"})
    assert_error(again, 409, "CONFLICT")


async def test_an_address_invited_twice_to_one_document_has_one_invitation(client: Client) -> None:
    owner = await register(client, unique_email("owner"))
    doc = await create_document(client, owner, "One")
    invited = unique_email("twice")
    links = []
    for role in ("viewer", "editor"):
        response = await client.post(
            f"/documents/{doc['id']}/share",
            headers=owner.headers,
            json={"email": invited, "role": role},
        )
        links.append(response.json()["invite_url"])
    people = await client.get(f"/documents/{doc['id']}/collaborators", headers=owner.headers)
    assert [(p["email"], p["role"]) for p in people.json() if p["pending"]] == [(invited, "editor")]
    newcomer = await register(client, invited)
    stale = await client.post(f"/invitations/{_token(links[0])}/accept", headers=newcomer.headers)
    assert_error(stale, 404, "NOT_FOUND")
    fresh = await client.post(f"/invitations/{_token(links[1])}/accept", headers=newcomer.headers)
    assert fresh.json()["role"] == "editor"
