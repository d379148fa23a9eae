"""The typeahead routes over HTTP on both backends: the title leak test, roles, input bounds."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.web.api import Account, LoopbackPeer, assert_error, create_document, register

Client = AsyncTestClient[Litestar]


async def flush_titles(client: Client) -> None:
    """Wait for the title writer (it runs on the app's own event loop, in the portal thread)."""
    titles = client.app.state.services.titles
    await asyncio.to_thread(client.blocking_portal.call, titles.flush)


async def titles(client: Client, who: Account, q: str, limit: int = 10) -> list[dict[str, Any]]:
    response = await client.get(
        "/suggest/titles", params={"q": q, "limit": limit}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_thousand_inaccessible_titles_hide_nothing_and_leak_nothing(
    client: Client,
) -> None:
    ann, bob, carol = await register(client), await register(client), await register(client)
    hidden = set()
    for i in range(1000):  # Bob's, ranked before Ann's under the shared prefix
        hidden.add((await create_document(client, bob, f"Secret plan {i:04d}"))["id"])
    mine = [(await create_document(client, ann, f"Secret plan zz{i}"))["id"] for i in range(3)]
    await flush_titles(client)

    # The whole title's prefix ("secret") and a later word's ("plan", "zz": mid-title).
    for q, match, limit in [
        ("secret", [0, 6], 10),
        ("secret", [0, 6], 50),
        ("secret", [0, 6], 3),
        ("plan", [7, 11], 10),
        ("PLAN ZZ", [7, 14], 3),
    ]:
        response = await client.get(
            "/suggest/titles", params={"q": q, "limit": limit}, headers=ann.headers
        )
        assert response.status_code == 200
        body = response.json()
        assert body == [
            {"word": f"Secret plan zz{i}", "frequency": 1, "doc_id": doc_id, "match": match}
            for i, doc_id in enumerate(mine)
        ]
        # Nothing else about Bob's documents: no id, no title, no count, anywhere.
        assert not any(doc_id in response.text for doc_id in hidden)
        assert "Secret plan 0" not in response.text  # none of Bob's titles
        assert not {k.lower() for k in response.headers} & {"x-total-count", "content-range"}
    assert await titles(client, carol, "secret", 50) == []
    assert await titles(client, carol, "plan", 50) == []
    assert len(await titles(client, bob, "secret", 50)) == 50
    assert {t["doc_id"] for t in await titles(client, bob, "secret plan 09", 50)} <= hidden


async def test_titles_follow_create_rename_and_delete(client: Client) -> None:
    ann = await register(client)
    doc = await create_document(client, ann, "Holiday plans")
    await flush_titles(client)
    assert [t["word"] for t in await titles(client, ann, "holi")] == ["Holiday plans"]
    response = await client.patch(
        f"/documents/{doc['id']}", json={"title": "Vacation plans"}, headers=ann.headers
    )
    assert response.status_code == 200
    await flush_titles(client)
    assert await titles(client, ann, "holi") == []
    assert [t["doc_id"] for t in await titles(client, ann, "VACA")] == [doc["id"]]
    assert (await client.delete(f"/documents/{doc['id']}", headers=ann.headers)).status_code == 204
    await flush_titles(client)
    assert await titles(client, ann, "vaca") == []


async def test_title_queries_are_bounded_and_need_a_user(client: Client) -> None:
    ann = await register(client)
    assert_error(await client.get("/suggest/titles", params={"q": "a"}), 401, "UNAUTHORIZED")
    for params in ({"q": "a", "limit": 0}, {"q": "a", "limit": 51}, {"q": "a", "limit": "x"}):
        response = await client.get("/suggest/titles", params=params, headers=ann.headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    too_long = await client.get("/suggest/titles", params={"q": "a" * 101}, headers=ann.headers)
    assert_error(too_long, 400, "VALIDATION_ERROR")
    assert await titles(client, ann, "a" * 100) == []
    assert (await client.get("/suggest/titles", headers=ann.headers)).json() == []  # no q


async def shared_document(client: Client) -> tuple[Account, Account, Account, str]:
    owner = await register(client, name="Olivia Owner")
    viewer = await register(client, name="Victor Viewer")
    stranger = await register(client, name="Sam Stranger")
    doc = await create_document(client, owner, "Team notes")
    response = await client.post(
        f"/documents/{doc['id']}/share",
        json={"email": viewer.email, "role": "viewer"},
        headers=owner.headers,
    )
    assert response.status_code == 200
    return owner, viewer, stranger, doc["id"]


async def test_mentions_for_viewers_ranked_by_selection(client: Client) -> None:
    owner, viewer, stranger, doc_id = await shared_document(client)
    suggest = f"/documents/{doc_id}/mentions/suggest"
    select = f"/documents/{doc_id}/mentions/select"

    response = await client.get(suggest, params={"q": "@"}, headers=viewer.headers)
    assert response.json() == [
        {"word": "Olivia Owner", "frequency": 1},
        {"word": "Victor Viewer", "frequency": 1},
    ]
    response = await client.post(select, json={"word": "@victor viewer"}, headers=viewer.headers)
    assert response.status_code == 200
    assert response.json() == {"word": "Victor Viewer", "frequency": 2}
    response = await client.get(suggest, params={"q": "@", "limit": 1}, headers=owner.headers)
    assert response.json() == [{"word": "Victor Viewer", "frequency": 2}]
    response = await client.get(suggest, params={"q": "OLI"}, headers=owner.headers)
    assert response.json() == [{"word": "Olivia Owner", "frequency": 1}]

    # Only collaborators can be picked; strangers and anonymous callers learn nothing.
    response = await client.post(select, json={"word": "Sam Stranger"}, headers=owner.headers)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert_error(await client.post(select, json={}, headers=owner.headers), 400)
    assert_error(await client.get(suggest, headers=stranger.headers), 404, "NOT_FOUND")
    assert_error(await client.post(select, json={"word": "x"}, headers=stranger.headers), 404)
    assert_error(await client.get(suggest), 401, "UNAUTHORIZED")
    bogus = "/documents/not-a-uuid/mentions/suggest"
    assert_error(await client.get(bogus, headers=owner.headers), 404, "NOT_FOUND")

    # Unsharing removes the collaborator at once.
    response = await client.delete(f"/documents/{doc_id}/share/{viewer.id}", headers=owner.headers)
    assert response.status_code == 204
    response = await client.get(suggest, params={"q": "v"}, headers=owner.headers)
    assert response.json() == []


async def test_word_completion_needs_read_access_only(client: Client) -> None:
    owner, viewer, stranger, doc_id = await shared_document(client)
    path = f"/documents/{doc_id}/suggest"
    response = await client.get(path, params={"q": "he"}, headers=viewer.headers)
    assert response.status_code == 200 and response.json() == []  # an empty document
    assert_error(await client.get(path, params={"q": "he"}, headers=stranger.headers), 404)
    assert_error(await client.get(path, params={"q": "he"}), 401)
    assert_error(
        await client.get(path, params={"q": "he", "limit": 51}, headers=owner.headers), 400
    )
    response = await client.post(
        f"/documents/{doc_id}/share/public",
        json={"enabled": True, "role": "viewer"},
        headers=owner.headers,
    )
    assert response.status_code == 200
    link = {"X-DocStream-Link": response.json()["link_token"]}
    assert (await client.get(path, params={"q": "he"})).status_code == 401  # the id is not enough
    assert (await client.get(path, params={"q": "he"}, headers=link)).status_code == 200


async def test_health_reports_typeahead_counters_but_no_counts_of_documents(
    client: Client,
) -> None:
    ann = await register(client)
    await create_document(client, ann, "Counted")
    await flush_titles(client)
    # Details are for requests from this host only: make this one come from loopback.
    client.app.asgi_handler = LoopbackPeer(client.app.asgi_handler)  # type: ignore[assignment]
    details = (await client.get("/health")).json()["details"]["typeahead"]
    assert details == {
        "failed_writes": 0,
        "pending_writes": 0,
        "stale": False,
        "snapshot_failures": 0,
    }


async def test_the_longest_name_can_be_picked_with_its_at_sign(client: Client) -> None:
    name = "N" * 100
    owner = await register(client, name=name)
    doc = await create_document(client, owner, "Long names")
    response = await client.post(
        f"/documents/{doc['id']}/mentions/select", json={"word": f"@{name}"}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"word": name, "frequency": 2}
    response = await client.post(
        f"/documents/{doc['id']}/mentions/select",
        json={"word": "@" + "N" * 101},
        headers=owner.headers,
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_public_documents_of_others_are_not_discoverable_by_title_search(
    make_settings: Any,
) -> None:
    """A public link makes a document openable by whoever has the link, not searchable by all."""
    from docstream.web.app import create_app

    async with AsyncTestClient(create_app(make_settings())) as client:

        async def sign_up(email: str) -> dict[str, str]:
            r = await client.post("/auth/register", json={"email": email, "password": "pw123456"})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        owner, stranger = await sign_up("own@example.com"), await sign_up("str@example.com")
        doc = (await client.post("/documents", json={"title": "Zebra plans"}, headers=owner)).json()
        public = await client.post(
            f"/documents/{doc['id']}/share/public",
            json={"enabled": True, "role": "viewer"},
            headers=owner,
        )
        linked = {**stranger, "X-DocStream-Link": public.json()["link_token"]}
        assert (await client.get(f"/documents/{doc['id']}", headers=linked)).status_code == 200
        mine = await client.get("/suggest/titles", params={"q": "zeb"}, headers=owner)
        theirs = await client.get("/suggest/titles", params={"q": "zeb"}, headers=stranger)
        assert [s["doc_id"] for s in mine.json()] == [doc["id"]]
        assert theirs.json() == []
