"""``GET /search`` over HTTP on both backends: the leak test, hostile queries, plain-text snippets.

The documents here are created and indexed through the app's own store (thousands of them, without
events, so the indexer leaves them as written); the indexing itself is tested against real servers
in ``test_indexing.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.storage.base import DocumentStore
from tests.web.api import Account, assert_error, register

Client = AsyncTestClient[Litestar]
T = TypeVar("T")


async def on_app(client: Client, fn: Callable[[DocumentStore], Awaitable[T]]) -> T:
    """Run ``fn(store)`` on the app's own event loop (the store's pool lives there)."""
    store: DocumentStore = client.app.state.services.store

    async def call() -> T:
        return await fn(store)

    return await asyncio.to_thread(client.blocking_portal.call, call)


async def seed(client: Client, owner: Account, docs: list[tuple[str, str]]) -> list[str]:
    """Create and index ``(title, text)`` documents of ``owner``; their ids."""

    async def run(store: DocumentStore) -> list[str]:
        ids = []
        for title, body in docs:
            doc = await store.create_document(owner.id, title)
            assert await store.index_for_search(doc.id, title, body, 0)
            ids.append(doc.id)
        return ids

    return await on_app(client, run)


async def search(client: Client, who: Account, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/search", params={"q": q, **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    page: dict[str, Any] = response.json()
    return page


async def test_thousands_of_inaccessible_matches_hide_nothing_and_leak_nothing(
    client: Client,
) -> None:
    ann, bob, carol = await register(client), await register(client), await register(client)
    # Bob's documents say "zebra" far more often: they would all outrank Ann's.
    hidden = set(
        await seed(
            client, bob, [(f"Zebra secret {i:04d}", "zebra " * 50 + "stripes") for i in range(3000)]
        )
    )
    mine = await seed(client, ann, [(f"Mine {i}", f"one zebra here, item {i}") for i in range(3)])
    public = (await seed(client, bob, [("Public zebra", "zebra zebra")]))[0]
    trashed = (await seed(client, ann, [("Trashed zebra", "zebra")]))[0]
    shared = (await seed(client, bob, [("Shared zebra", "zebra for ann")]))[0]

    async def arrange(store: DocumentStore) -> None:
        await store.set_public_sharing(public, True, "editor")
        await store.trash_document(trashed, ann.id)
        await store.set_permission(shared, ann.id, "viewer")

    await on_app(client, arrange)
    hidden.add(public)
    visible = {*mine, shared}

    for q, params in [
        ("zebra", {}),
        ("zebra", {"limit": 50}),
        ("ZEBRA", {"limit": 2}),
        ("zeb", {"limit": 50}),
        ("zebra stripes", {}),
        ("secret", {}),
    ]:
        seen: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            response = await client.get(
                "/search", params={"q": q, "offset": offset, **params}, headers=ann.headers
            )
            assert response.status_code == 200, response.text
            page = response.json()
            seen += page["results"]
            offset = page["next_offset"]
            # Nothing about Bob's hidden documents: no id, no title, no text, no count.
            assert not any(doc_id in response.text for doc_id in hidden)
            assert "secret" not in response.text.lower() and "stripes" not in response.text
            assert trashed not in response.text
            assert not {k.lower() for k in response.headers} & {"x-total-count", "content-range"}
        expected = visible if q.lower().startswith("zeb") and q != "zebra stripes" else set()
        assert {r["id"] for r in seen} == expected, q
        assert len(seen) == len(expected)  # each once
    roles = {r["id"]: r["role"] for r in (await search(client, ann, "zebra"))["results"]}
    assert roles == {**dict.fromkeys(mine, "owner"), shared: "viewer"}
    assert (await search(client, carol, "zebra"))["results"] == []
    bobs = await search(client, bob, "zebra", limit=50)
    assert len(bobs["results"]) == 50 and bobs["next_offset"] == 50
    assert {r["id"] for r in bobs["results"]} <= hidden | {shared}


async def test_hostile_queries_are_plain_words_or_a_clear_400(client: Client) -> None:
    ann = await register(client)
    stranger = await register(client)
    [doc] = await seed(client, ann, [("Quoted title", 'near or not and "quoted" body text')])
    await seed(client, stranger, [("Other", "near quoted body text title")])
    plain = [
        '"quoted"',
        "NEAR(near body)",
        "near NEAR body",
        "title:quoted",
        "{title body}: quoted",
        "body*",
        "^quoted",
        "(near OR not) AND body",
        "near AND NOT body",
        "near & !body",
        "near | body",
        "near <-> body",
        "'near':* & body",
        "near\\ body'",
        "near\x00body",
        "%near%",
        "near' OR 'body'='body",
    ]
    for q in plain:
        page = await search(client, ann, q)
        assert [r["id"] for r in page["results"]] == [doc], q
    # Syntax that would widen the match if it were run is only words that do not all match.
    for q in [
        "zz OR near",
        "zz | near",
        "near AND NOT zz",
        "-zz near",
        "(near OR zz)",
        "near; DROP TABLE documents; --",
        "*",
        '"',
        "()",
        "\x00",
        "   ",
        "",
    ]:
        assert (await search(client, ann, q))["results"] == [], q

    for q, why in [
        ("near " * 101, "at most 500 characters"),
        (" ".join(f"w{i}" for i in range(17)), "at most 16 words"),
    ]:
        body = assert_error(await client.get("/search", params={"q": q}, headers=ann.headers), 400)
        assert why in body["error"]["message"] or "q" in body["error"]["message"], body
    for params in [{"limit": 0}, {"limit": 51}, {"offset": -1}, {"offset": 1001}, {"limit": "x"}]:
        assert_error(
            await client.get("/search", params={"q": "near", **params}, headers=ann.headers),
            400,
            "VALIDATION_ERROR",
        )
    assert_error(await client.get("/search", params={"q": "near"}), 401)
    # A browser navigating to /search gets the web UI (the search page), not JSON.
    page = await client.get("/search?q=near", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


async def test_snippets_are_plain_text_with_utf16_match_ranges(client: Client) -> None:
    ann = await register(client)
    hostile = '<img src=x onerror="alert(1)"> Émoji 😀 then the needle &amp; <b>needles</b>'
    [doc] = await seed(client, ann, [("<script>needle</script>", "intro " * 40 + hostile)])
    [result] = (await search(client, ann, "needle"))["results"]
    assert result["id"] == doc
    assert result["title"] == "<script>needle</script>"  # the title as is: text, not markup
    assert result["title_matches"] == [[8, 14]]
    snippet = result["snippet"]
    assert snippet.startswith("…") and snippet.endswith("&amp; <b>needles</b>")  # verbatim
    assert 'onerror="alert(1)">' in snippet
    utf16 = snippet.encode("utf-16-le")
    words = [utf16[2 * s : 2 * e].decode("utf-16-le") for s, e in result["matches"]]
    assert words == ["needle", "needles"]
