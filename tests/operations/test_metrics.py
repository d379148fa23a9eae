"""``GET /metrics`` against real servers: the counts add up across granian workers, route labels
are templates (never ids), refused frames are counted by code, and the route is closed to
strangers unless they hold the metrics token."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from testkit.accounts import Users
from testkit.config import BASE_ENV
from testkit.processes import ServerFactory, run_server
from testkit.raw import RawPeer
from testkit.typists import Typist

FORWARDED = {"X-Forwarded-For": "203.0.113.9"}  # what a request from elsewhere looks like


def scrape(url: str, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"{url}/metrics", headers=headers or {}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_two_workers_count_every_committed_edit_once(pg_dsn: str, redis_url: str) -> None:
    args = ["--database-url", pg_dsn, "--redis-url", redis_url, "--workers", "2"]
    with run_server(args, BASE_ENV) as server:
        users = Users(server.url)
        owner = await users.new("owner")
        doc = await owner.create_document("Counted")
        clients = [owner]
        for i in range(3):
            member = await users.new(f"m{i}")
            await owner.share(doc["id"], member.user["email"], "editor")  # type: ignore[index]
            clients.append(member)
        lives = [c.open(doc["id"]) for c in clients]  # connections spread over both workers
        typists: list[Typist] = []
        try:
            for live in lives:
                await live.start()
            typists = [Typist(live, seed) for seed, live in enumerate(lives)]
            await asyncio.gather(*(t.type_for(1.5, pause=0.01) for t in typists))
            for live in lives:
                await live.synced(timeout=30)
            acked = sum(len(t.acked) for t in typists)
            await asyncio.sleep(1.5)  # the sampler's next look at the open rooms
            samples = await asyncio.to_thread(scrape, server.url)
            # Every ack counted once, whichever worker sent it; every stored entry once (a
            # message that changed nothing, such as deleting what another typist deleted, is
            # acknowledged but not stored).
            assert value(samples, "docstream_acks_total") == acked
            assert value(samples, "docstream_edits_committed_total") == lives[0].seq
            assert value(samples, "docstream_open_sockets") == len(lives)
            assert value(samples, "docstream_open_rooms") >= 1
            assert value(samples, "docstream_commit_seconds_count") >= 1
            groups = value(samples, "docstream_commit_group_size_sum")
            assert groups == lives[0].seq  # the group sizes add up to the entries
            route = "/documents/{doc_id}/share"
            shares = value(
                samples,
                "docstream_http_request_seconds_count",
                method="POST",
                route=route,
                status="200",
            )
            assert shares == 3
            assert not any(doc["id"] in str(labels) for _, labels in samples)
        finally:
            for t in typists:
                await t.stop()
            await asyncio.gather(*(live.close() for live in lives))
            await users.close()


async def test_refused_frames_are_counted_by_code(start_server: ServerFactory) -> None:
    with start_server() as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Refusals")
            peer = await RawPeer.open(server.url, doc["id"], ann.access_token)
            await peer.hello("replica-one")
            for _ in range(3):
                await peer.send("not json")
                assert (await peer.recv_type("error"))["code"] == "bad_message"
            await peer.close()
        finally:
            await users.close()
        samples = await asyncio.to_thread(scrape, server.url)
        assert value(samples, "docstream_refused_frames_total", code="bad_message") == 3


def test_metrics_are_closed_to_strangers_without_the_token(start_server: ServerFactory) -> None:
    with start_server() as server:
        refused = httpx.get(f"{server.url}/metrics", headers=FORWARDED, timeout=10)
        assert refused.status_code == 403
        assert "metrics_token" in refused.json()["error"]["message"]
        assert "docstream_" not in refused.text
    with start_server(env={"DOCSTREAM_METRICS_TOKEN": "s3cret-scrape-token"}) as server:
        for headers in ({}, {"Authorization": "Bearer wrong"}, FORWARDED):
            response = httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)
            assert response.status_code == 401, (headers, response.status_code)
        good = {**FORWARDED, "Authorization": "Bearer s3cret-scrape-token"}
        assert (
            "docstream_http_request_seconds"
            in httpx.get(f"{server.url}/metrics", headers=good, timeout=10).text
        )
