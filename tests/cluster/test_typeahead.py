"""Typeahead across nodes (real PostgreSQL, real Redis): every node's tries agree within a second,
and a node that starts late reconciles its titles from the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from docstream.client import DocStreamClient
from testkit.accounts import unique_email
from testkit.processes import ServerFactory
from testkit.services import RedisServer
from tests.cluster.proxy import TcpProxy

AGREE_WITHIN = 1.0


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """Poll ``check`` until it holds; return how long it took (fails after ``seconds``)."""
    start = time.monotonic()
    while not await check():
        elapsed = time.monotonic() - start
        assert elapsed < seconds, f"the nodes did not agree within {seconds} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def titles(client: DocStreamClient, q: str) -> list[tuple[str, str]]:
    found = await client.request("GET", "/suggest/titles", params={"q": q})
    return [(t["word"], t["doc_id"]) for t in found]


async def mentions(client: DocStreamClient, doc_id: str) -> list[tuple[str, int]]:
    found = await client.request("GET", f"/documents/{doc_id}/mentions/suggest", params={"q": "@"})
    return [(m["word"], m["frequency"]) for m in found]


def on_node(client: DocStreamClient, url: str) -> DocStreamClient:
    other = DocStreamClient(url, access_token=client.access_token)
    other.user = client.user
    return other


async def test_a_title_created_on_one_node_is_suggested_on_another_within_a_second(
    start_node: ServerFactory,
) -> None:
    with start_node() as node_a, start_node() as node_b:
        async with DocStreamClient(node_a.url) as ann_a:
            await ann_a.register(unique_email("ann"), "password123", "Ann")
            async with on_node(ann_a, node_b.url) as ann_b:
                delays: dict[str, float] = {}
                doc = await ann_a.create_document("Nebula roadmap")

                async def created() -> bool:
                    return await titles(ann_b, "nebula") == [("Nebula roadmap", doc["id"])]

                async def mid_title() -> bool:  # every word is indexed on the other node too
                    return await titles(ann_b, "roadmap") == [("Nebula roadmap", doc["id"])]

                delays["create"] = await within(AGREE_WITHIN, created)
                await within(AGREE_WITHIN, mid_title)

                await ann_a.request("PATCH", f"/documents/{doc['id']}", {"title": "Quasar plan"})

                async def renamed() -> bool:
                    return (
                        await titles(ann_b, "nebula") == []
                        and await titles(ann_b, "roadmap") == []
                        and await titles(ann_b, "quasar") == [("Quasar plan", doc["id"])]
                    )

                delays["rename"] = await within(AGREE_WITHIN, renamed)

                other = await ann_b.create_document("Quasar notes")  # and the other way round

                async def both() -> bool:
                    return {d for _, d in await titles(ann_a, "quasar")} == {doc["id"], other["id"]}

                delays["create on B"] = await within(AGREE_WITHIN, both)
                await ann_a.request("DELETE", f"/documents/{other['id']}")

                async def deleted() -> bool:
                    return await titles(ann_b, "quasar") == [("Quasar plan", doc["id"])]

                delays["delete"] = await within(AGREE_WITHIN, deleted)
                print(f"cluster title agreement delays: {delays}")


async def test_mention_picks_and_sharing_reach_the_other_node(start_node: ServerFactory) -> None:
    with start_node() as node_a, start_node() as node_b:
        async with DocStreamClient(node_a.url) as owner, DocStreamClient(node_a.url) as rae:
            await owner.register(unique_email("owner"), "password123", "Owner")
            await rae.register(unique_email("rae"), "password123", "Rae")
            doc_id = (await owner.create_document("Mentions"))["id"]
            await owner.share(doc_id, rae.user["email"], "editor")  # type: ignore[index]
            async with on_node(owner, node_b.url) as owner_b:
                assert await mentions(owner_b, doc_id) == [("Owner", 1), ("Rae", 1)]  # loaded
                await owner.request("POST", f"/documents/{doc_id}/mentions/select", {"word": "rae"})

                async def picked() -> bool:
                    return await mentions(owner_b, doc_id) == [("Rae", 2), ("Owner", 1)]

                await within(AGREE_WITHIN, picked)
                rae_id = rae.user["id"]  # type: ignore[index]
                await owner.request("DELETE", f"/documents/{doc_id}/share/{rae_id}")

                async def unshared() -> bool:
                    return await mentions(owner_b, doc_id) == [("Owner", 1)]

                await within(AGREE_WITHIN, unshared)


async def test_a_node_that_starts_late_reconciles_its_titles(start_node: ServerFactory) -> None:
    with start_node() as node_a:
        async with DocStreamClient(node_a.url) as ann:
            await ann.register(unique_email("ann"), "password123", "Ann")
            made = {(await ann.create_document(f"Late title {i}"))["id"] for i in range(20)}
            with start_node() as node_c:  # missed every event
                async with on_node(ann, node_c.url) as ann_c:
                    found: list[Any] = await titles(ann_c, "late")
                    assert len(found) == 10
                    all_found = await ann_c.request(
                        "GET", "/suggest/titles", params={"q": "late", "limit": 50}
                    )
                    assert {t["doc_id"] for t in all_found} == made


async def test_titles_missed_while_cut_off_from_redis_arrive_after_the_reconnection(
    start_node: ServerFactory, redis_server: RedisServer
) -> None:
    assert redis_server.port is not None
    cable = await TcpProxy([("127.0.0.1", redis_server.port)]).start()
    try:
        with start_node() as a, start_node(redis=f"redis://127.0.0.1:{cable.port}/0") as b:
            async with DocStreamClient(a.url) as ann_a:
                await ann_a.register(unique_email("ann"), "password123", "Ann")
                async with on_node(ann_a, b.url) as ann_b:
                    cable.cut()  # node b hears nothing from Redis now
                    doc = await ann_a.create_document("Missed while offline")
                    await asyncio.sleep(1.0)
                    assert await titles(ann_b, "missed") == []  # the event was lost
                    cable.restore()

                    async def arrived() -> bool:
                        return await titles(ann_b, "missed") == [
                            ("Missed while offline", doc["id"])
                        ]

                    # The broker notices, reconnects and runs its hooks: a reconciliation.
                    await within(20.0, arrived)
    finally:
        await cable.close()
