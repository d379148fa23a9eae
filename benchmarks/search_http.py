"""``GET /search`` over HTTP against a real ``docstream serve``, on SQLite and on PostgreSQL.

Setup, per backend: a server is started once to apply the migrations and register the caller
(Ann) and another user (Bob), then stopped. The database is then seeded directly with 10,000
documents (quick: 2,000) of about 5 KB of text each, half Ann's and half Bob's, 500 of Bob's
shared with Ann as viewer, so about 55% of every query's matches are Ann's and the rest must be
filtered out in the query. The text is words drawn from a 20,000-word synthetic vocabulary with a
Zipf distribution (as natural language: a few words in every document, most in few), and the
search index rows are written with it (``search_docs``; the indexer finds nothing to catch up on,
the documents' logs are empty). The server is started again.

Measure: sequential requests on one keep-alive connection (httpx), ``limit`` 20: one third single
common words (top 100: they match most documents, the costliest ranking), one third single
mid-frequency words, one third two-word queries, each word cut to a prefix of at least 4
letters half the time. Each pass reports its median and p99 wall-clock latency (client send to
body received); the table shows the median over passes.

``DOCSTREAM_BENCH_SEARCH_BACKENDS`` (default ``sqlite,postgres``) picks the backends.

Same-run floors: the store's own ``search_documents`` call in-process (the SQL statement and the
driver, no HTTP, no snippets) over the same query stream, and ``GET /auth/me`` (an authenticated
trivial route) over the same connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.report import Row
from docstream.storage.base import DocumentStore
from docstream.storage.search import search_terms
from testkit.accounts import register, unique_email
from testkit.processes import run_server
from testkit.services import postgres

SEED = 20261207
LIMIT = 20
DOC_BYTES = 5_000
VOCABULARY = 20_000
JWT_SECRET = "benchmark-secret-" + "x" * 32
ENV = {
    "DOCSTREAM_RATE_LIMIT_PER_MINUTE": "100000000",
    "DOCSTREAM_AUTH_RATE_LIMIT_PER_MINUTE": "100000000",
    "DOCSTREAM_AUTH_RATE_LIMIT_PER_ACCOUNT": "100000000",
    "DOCSTREAM_TYPEAHEAD_RATE_LIMIT_PER_MINUTE": "100000000",
    "DOCSTREAM_LOG_LEVEL": "warning",
    "DOCSTREAM_JWT_SECRET": JWT_SECRET,
}


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def make_vocabulary(rng: random.Random) -> list[str]:
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"] + ["qu", "th", "sh", "ch"]
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        words["".join(rng.choices(syllables, k=rng.randint(2, 4)))] = None
    return list(words)


def make_texts(vocabulary: list[str], count: int, rng: random.Random) -> Iterator[str]:
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    for _ in range(count):
        words = rng.choices(vocabulary, cum_weights=weights, k=DOC_BYTES // 7)
        yield " ".join(words)[:DOC_BYTES]


def queries(vocabulary: list[str], count: int, rng: random.Random) -> list[str]:
    def word(lo: int, hi: int) -> str:
        w = vocabulary[rng.randrange(lo, hi)]
        return w[: rng.randint(4, len(w))] if rng.random() < 0.5 and len(w) > 4 else w

    out = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            out.append(word(0, 100))
        elif kind == 1:
            out.append(word(100, 5_000))
        else:
            out.append(f"{word(0, 1_000)} {word(0, 5_000)}")
    return out


def register_users(args: list[str]) -> dict[str, tuple[str, str]]:
    users = {}
    with run_server(args, ENV) as server:
        for name in ("Ann", "Bob"):
            account = register(server.url, email=unique_email(name.lower()), name=name)
            users[name] = (account.id, account.access_token)
    return users


def rows(ann: str, bob: str, total: int, vocabulary: list[str], rng: random.Random) -> tuple:
    now = datetime.now(UTC).isoformat()
    docs, index, grants = [], [], []
    for i, text in enumerate(make_texts(vocabulary, total, rng)):
        doc_id = str(uuid.uuid4())
        owner = ann if i % 2 == 0 else bob
        title = " ".join(rng.choices(vocabulary[:3000], k=3)).capitalize()
        docs.append((doc_id, title, owner, now, now))
        index.append((doc_id, title, text, now))
        if owner == bob and len(grants) < 500:
            grants.append((doc_id, ann, now))
    return docs, index, grants


def seed_sqlite(path: Path, docs: list, index: list, grants: list) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO documents (id, title, owner_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                docs,
            )
            conn.executemany(
                "INSERT INTO document_permissions (doc_id, user_id, role, created_at) "
                "VALUES (?, ?, 'viewer', ?)",
                grants,
            )
            conn.executemany(
                "INSERT INTO search_docs (doc_id, seq, title, body, indexed_at) "
                "VALUES (?, 0, ?, ?, ?)",
                index,
            )
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()


def seed_postgres(dsn: str, docs: list, index: list, grants: list) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            b"INSERT INTO documents (id, title, owner_id, created_at, updated_at) "
            b"VALUES (%s, %s, %s, %s, %s)",
            docs,
        )
        cur.executemany(
            b"INSERT INTO document_permissions (doc_id, user_id, role, created_at) "
            b"VALUES (%s, %s, 'viewer', %s)",
            grants,
        )
        cur.executemany(
            b"INSERT INTO search_docs (doc_id, seq, title, body, indexed_at) "
            b"VALUES (%s, 0, %s, %s, %s)",
            index,
        )
        conn.commit()
        conn.autocommit = True
        conn.execute(b"VACUUM ANALYZE")


def http_latencies(
    http: httpx.Client, url: str, token: str, stream: list[str], route: str = "/search"
) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for q in stream:
        t0 = time.perf_counter()
        if route == "/search":
            response = http.get(url + route, params={"q": q, "limit": LIMIT}, headers=headers)
        else:
            response = http.get(url + route, headers=headers)
        samples.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{route} answered {response.status_code}: {response.text}")
    return samples


async def store_latencies(store: DocumentStore, user: str, stream: list[str]) -> list[float]:
    samples = []
    for q in stream:
        terms = search_terms(q)
        t0 = time.perf_counter()
        await store.search_documents(user, terms, LIMIT + 1, 0)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def open_store(backend: str, where: str) -> DocumentStore:
    if backend == "sqlite":
        from docstream.storage.sqlite import SqliteDocumentStore

        return SqliteDocumentStore(Path(where))
    from docstream.storage.postgres import PostgresDocumentStore

    return PostgresDocumentStore(where, min_size=1, max_size=2)


async def floor_of_store(backend: str, where: str, user: str, stream: list[str], runs: int):
    async with open_store(backend, where) as store:
        await store_latencies(store, user, stream[:100])  # warm up
        return [await store_latencies(store, user, stream) for _ in range(runs)]


def summary(passes: list[list[float]]) -> tuple[float, float, list[float]]:
    p99s = [p99(s) for s in passes]
    return statistics.median(statistics.median(s) for s in passes), statistics.median(p99s), p99s


def one_backend(backend: str, quick: bool) -> list[Row]:
    rng = random.Random(SEED)
    total = 2_000 if quick else 10_000
    n_queries, runs = (300, 3) if quick else (1_000, 3)
    vocabulary = make_vocabulary(rng)
    base = Path(__file__).resolve().parent.parent / ".bench"
    base.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="search-", dir=base)))
        if backend == "sqlite":
            data_dir = tmp / "data"
            args = ["--data-dir", str(data_dir)]
            where = str(data_dir / "docstream.sqlite3")
        else:
            pg = stack.enter_context(postgres())
            where = pg.dsn_for(pg.create_database())
            args = ["--database-url", where, "--data-dir", str(tmp / "data")]
        users = register_users(args)
        (ann, ann_token), (bob, _) = users["Ann"], users["Bob"]
        docs, index, grants = rows(ann, bob, total, vocabulary, rng)
        t0 = time.perf_counter()
        if backend == "sqlite":
            seed_sqlite(Path(where), docs, index, grants)
        else:
            seed_postgres(where, docs, index, grants)
        seed_s = time.perf_counter() - t0
        stream = queries(vocabulary, n_queries, rng)
        with run_server(args, ENV) as server, httpx.Client() as http:
            http_latencies(http, server.url, ann_token, stream[:200])  # warm up
            found = http.get(
                server.url + "/search",
                params={"q": vocabulary[0], "limit": LIMIT},
                headers={"Authorization": f"Bearer {ann_token}"},
            ).json()
            assert len(found["results"]) == LIMIT, found
            assert {r["role"] for r in found["results"]} <= {"owner", "viewer"}
            search_passes, trivial_passes = [], []
            for _ in range(runs):
                search_passes.append(http_latencies(http, server.url, ann_token, stream))
                trivial_passes.append(
                    http_latencies(http, server.url, ann_token, stream, route="/auth/me")
                )
        store_passes = asyncio.run(floor_of_store(backend, where, ann, stream, runs))
        load = os.getloadavg()[0]
    median, tail, p99s = summary(search_passes)
    store_median, store_tail, _ = summary(store_passes)
    trivial_median, trivial_tail, _ = summary(trivial_passes)
    name = "SQLite FTS5" if backend == "sqlite" else "PostgreSQL tsvector"
    setup = (
        f"{name}; {total:,} documents of {DOC_BYTES // 1000} KB, Ann can open {total // 2:,} own "
        f"+ 500 shared; {n_queries} queries (common, mid-frequency, two words; prefixes), "
        f"limit {LIMIT}, one keep-alive connection, median of {runs} passes; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs; seeding took {seed_s:.1f} s"
    )
    suite = f"search_http[{backend}]"
    return [
        Row(suite, "/search median", median, "ms", note=setup),
        Row(
            suite,
            "/search p99",
            tail,
            "ms",
            target="<= 50 ms",
            met=tail <= 50,
            note="p99 of each pass: " + ", ".join(f"{v:.1f}" for v in p99s) + " ms",
            samples=p99s,
        ),
        Row(
            suite,
            "floor: store query p99 (in-process)",
            store_tail,
            "ms",
            note=f"search_documents(), same stream, no HTTP, no snippets; median "
            f"{store_median:.2f} ms",
        ),
        Row(
            suite,
            "floor: GET /auth/me p99",
            trivial_tail,
            "ms",
            note=f"a trivial authenticated route, same connection; median {trivial_median:.2f} ms",
        ),
    ]


def run(quick: bool) -> list[Row]:
    backends = os.environ.get("DOCSTREAM_BENCH_SEARCH_BACKENDS", "sqlite,postgres").split(",")
    return [row for backend in backends for row in one_backend(backend.strip(), quick)]
