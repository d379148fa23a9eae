"""Typeahead through real server processes, on SQLite and PostgreSQL: live word completion, and
titles and mention frequencies across restarts (SIGTERM and SIGKILL)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from docstream.client import DocStreamClient
from testkit.accounts import Users, unique_email
from testkit.processes import ServerFactory, ServerProcess


async def suggest_words(client: DocStreamClient, doc_id: str, q: str) -> list[tuple[str, int]]:
    found = await client.request("GET", f"/documents/{doc_id}/suggest", params={"q": q})
    return [(s["word"], s["frequency"]) for s in found]


async def suggest_titles(client: DocStreamClient, q: str, limit: int = 50) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await client.request(
        "GET", "/suggest/titles", params={"q": q, "limit": limit}
    )
    return found


async def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def open_documents(server: ServerProcess) -> int:
    count: int = httpx.get(f"{server.url}/health").json()["details"]["open_documents"]
    return count


async def test_words_come_from_the_live_room_then_from_the_stored_text(
    users: Users, server: ServerProcess
) -> None:
    ann = await users.new("ann")
    doc_id = (await ann.create_document("Words"))["id"]
    async with ann.open(doc_id) as live:
        live.insert(0, "hello helpful world ")
        await live.synced()
        assert await suggest_words(ann, doc_id, "hel") == [("hello", 1), ("helpful", 1)]
        live.insert(len(live.text), "Hello café Straße naïve hello hello ")
        await live.synced()
        assert await suggest_words(ann, doc_id, "HEL") == [("hello", 4), ("helpful", 1)]
        assert await suggest_words(ann, doc_id, "caf") == [("café", 1)]
        assert await suggest_words(ann, doc_id, "strass") == [("Straße", 1)]
        live.delete(0, len("hello helpful "))
        await live.synced()
        assert await suggest_words(ann, doc_id, "hel") == [("hello", 3)]
    await wait_until(lambda: asyncio.to_thread(lambda: open_documents(server) == 0))
    # Nobody has it open now: the stored text answers the same.
    assert await suggest_words(ann, doc_id, "hel") == [("hello", 3)]
    assert await suggest_words(ann, doc_id, "naï") == [("naïve", 1)]


async def test_titles_never_go_missing_after_kill_9(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "node"
    created: dict[str, str] = {}
    with start_server(args=["--data-dir", str(data_dir)]) as server:
        async with DocStreamClient(server.url) as ann:
            await ann.register(unique_email("ann"), "password123", "Ann")
            token = ann.access_token
            for i in range(40):
                doc = await ann.create_document(f"Crash course {i:02d}")
                created[doc["id"]] = doc["title"]
            renamed = next(iter(created))
            await ann.request("PATCH", f"/documents/{renamed}", {"title": "Renamed course"})
            created[renamed] = "Renamed course"
            deleted = list(created)[1]
            await ann.request("DELETE", f"/documents/{deleted}")
            del created[deleted]
            server.kill()  # SIGKILL right after the last answer: queued writes are lost
    with start_server(args=["--data-dir", str(data_dir)]) as server:
        async with DocStreamClient(server.url, access_token=token) as ann:
            found = {t["doc_id"]: t["word"] for t in await suggest_titles(ann, "c")}
            found.update({t["doc_id"]: t["word"] for t in await suggest_titles(ann, "renamed")})
            assert found == created


async def test_mention_frequencies_survive_a_restart(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "node"
    with start_server(args=["--data-dir", str(data_dir)]) as server:
        async with DocStreamClient(server.url) as owner, DocStreamClient(server.url) as quinn:
            await owner.register(unique_email("owner"), "password123", "Owner")
            await quinn.register(unique_email("quinn"), "password123", "Quinn")
            doc_id = (await owner.create_document("Mentions"))["id"]
            await owner.share(doc_id, quinn.user["email"], "viewer")  # type: ignore[index]
            for _ in range(2):
                await quinn.request(
                    "POST", f"/documents/{doc_id}/mentions/select", {"word": "@quinn"}
                )
            token = owner.access_token
    with start_server(args=["--data-dir", str(data_dir)]) as server:
        async with DocStreamClient(server.url, access_token=token) as owner:
            found = await owner.request(
                "GET", f"/documents/{doc_id}/mentions/suggest", params={"q": "@"}
            )
            assert found == [{"word": "Quinn", "frequency": 3}, {"word": "Owner", "frequency": 1}]
