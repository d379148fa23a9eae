"""Typeahead engine in process: suggest/fuzzy_suggest latency over 100,000 titles, WAL appends.

The titles are deterministic pseudo-random multi-word titles (fixed seed, a word list built here,
a few accented and CJK words), stored the way the titles service stores them: one entry per word
(``entries_for``: ``<title>|<doc id>`` and ``<rest>\x1f<head>|<doc id>`` for each later word) with a
32-hex-digit id, so common titles ("Meeting notes", "Untitled
document") repeat under many ids and short prefixes cover tens of thousands of entries. One entry
in ten is selected a Zipf-like number of times, so frequencies differ. Queries are prefixes of 1 to
8 characters of stored titles, in the stored case or lower case; fuzzy queries of 3 or more
characters carry one random typo half of the time (substitution, insertion, deletion or
transposition).

Latency: ``cache_limit=0`` rows rank every query from scratch (the bound a query pays right after a
write touched its prefix); the cached row makes one pass over the same stream with the default
per-node cache starting empty. Each latency is the median over several passes, to damp the noise of
a shared machine.

WAL appends: single-record ``DurableTrie.insert`` calls, each fsynced, on this machine's disk, in a
temporary directory under ``.bench/`` in the repository (not tmpfs), with snapshots pushed away.
"""

from __future__ import annotations

import os
import random
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Row
from docstream.services.typeahead.title_entries import entries_for
from docstream.typeahead import DurableTrie, Op, Trie

SEED = 20240611
LIMIT = 10


def _words(text: str) -> list[str]:
    return text.split()


_NOUNS = _words(
    """
report plan review notes budget roadmap design spec proposal draft summary agenda minutes memo
strategy analysis forecast retrospective postmortem checklist guide handbook policy contract
invoice brief outline timeline milestone release launch campaign survey interview research
experiment prototype architecture migration integration deployment incident outage backlog sprint
estimate requirements feedback onboarding training workshop offsite hiring budget pipeline
dashboard metrics audit compliance security privacy pricing partnership vendor customer account
renewal expansion newsletter blog post announcement press kit pitch deck demo script tutorial
recipe story chapter poem essay thesis lecture syllabus homework assignment quiz exam letter
application resume inventory schedule itinerary trip wedding party birthday garden kitchen
renovation house move
"""
)
_ADJECTIVES = _words(
    """
quarterly annual weekly monthly daily final initial revised updated new old internal external
public private shared team company product engineering marketing sales finance legal support
customer mobile web desktop backend frontend platform data cloud infrastructure mobile global
regional european asian north south east west spring summer autumn winter urgent important
"""
)
_TOPICS = _words(
    """
Apollo Artemis Borealis Cascade Cobalt Delta Ember Falcon Galaxy Harbor Horizon Indigo Jupiter
Kestrel Lighthouse Meridian Nebula Nimbus Orion Pegasus Phoenix Quasar Redwood Sapphire Sierra
Titan Umbra Vega Voyager Willow Zephyr Zürich Café Crème Naïve Señor 東京 大阪 Ünïcode Straße
"""
)
_FIXED = ["Untitled document", "Meeting notes", "TODO", "Shopping list", "Ideas", "Scratch"]


def make_titles(count: int, rng: random.Random) -> list[str]:
    """``count`` entries ``<title>|<id>``; deterministic for a given ``rng`` state."""
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.08:
            title = rng.choice(_FIXED)
        elif kind < 0.35:
            title = f"{rng.choice(_ADJECTIVES).capitalize()} {rng.choice(_NOUNS)}"
            if rng.random() < 0.5:
                title += f" {rng.choice(['Q1', 'Q2', 'Q3', 'Q4'])} {rng.randint(2015, 2026)}"
        elif kind < 0.6:
            title = f"{rng.choice(_TOPICS)} {rng.choice(_NOUNS)} {rng.choice(_NOUNS)}"
        elif kind < 0.8:
            title = f"{rng.choice(_NOUNS).capitalize()} for {rng.choice(_TOPICS)}"
            if rng.random() < 0.3:
                title += f" v{rng.randint(1, 9)}"
        else:
            n = rng.randint(2, 6)
            title = " ".join(rng.choice(_NOUNS + _ADJECTIVES) for _ in range(n)).capitalize()
        out.append(f"{title}|{rng.getrandbits(128):032x}")
    return out


def build_trie(titles: list[str], rng: random.Random) -> Trie:
    entries = [e for t in titles for e in entries_for(t.rpartition("|")[2], t.rpartition("|")[0])]
    trie = Trie(len(entries))
    for entry in entries:
        trie.insert(entry)
    for title in rng.sample(titles, len(titles) // 10):
        for _ in range(min(50, int(rng.paretovariate(1.2)))):
            trie.select(title)
    return trie


def typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    kind = rng.randrange(4)
    letter = rng.choice(string.ascii_lowercase)
    if kind == 0:
        return text[:i] + letter + text[i + 1 :]
    if kind == 1:
        return text[:i] + letter + text[i:]
    if kind == 2 and len(text) > 3:
        return text[:i] + text[i + 1 :]
    if i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + letter


def make_queries(titles: list[str], count: int, rng: random.Random, typos: bool) -> list[str]:
    queries = []
    for _ in range(count):
        title = rng.choice(titles).split("|", 1)[0]
        prefix = title[: rng.randint(1, 8)]
        if rng.random() < 0.5:
            prefix = prefix.lower()
        if typos and len(prefix) >= 3 and rng.random() < 0.5:
            prefix = typo(prefix, rng)
        queries.append(prefix)
    return queries


def latencies_ms(
    fn: Callable[[str, int], object], queries: list[str]
) -> tuple[list[float], list[float]]:
    """Wall-clock and thread CPU milliseconds of each call (CPU time leaves out preemption)."""
    wall, cpu = [], []
    for query in queries:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        fn(query, LIMIT)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return wall, cpu


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


class Passes:
    """Several passes over one query stream: medians over passes of each pass's median and p99."""

    def __init__(self, fn: Callable[[str, int], object], queries: list[str], runs: int) -> None:
        medians, self.p99s, cpu_p99s = [], [], []
        for _ in range(runs):
            wall, cpu = latencies_ms(fn, queries)
            medians.append(statistics.median(wall))
            self.p99s.append(p99(wall))
            cpu_p99s.append(p99(cpu))
        self.median = statistics.median(medians)
        self.p99 = statistics.median(self.p99s)
        self.cpu_p99 = statistics.median(cpu_p99s)

    def note(self) -> str:
        each = ", ".join(f"{v:.2f}" for v in self.p99s)
        return f"wall p99 of each pass: {each} ms; CPU-time p99 {self.cpu_p99:.2f} ms"


def wal_appends_per_second(appends: int, runs: int) -> tuple[float, list[float]]:
    rates = []
    base = Path(__file__).resolve().parent.parent / ".bench"
    base.mkdir(exist_ok=True)
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="typeahead-wal-", dir=base) as tmp:
            store = DurableTrie.open(
                tmp, max_words=100_000, snapshot_writes=10**9, snapshot_interval=1e9
            )
            words = [f"word {run} {i}" for i in range(appends)]
            t0 = time.perf_counter()
            for word in words:
                store.insert(word)
            rates.append(appends / (time.perf_counter() - t0))
            store.close(snapshot=False)
    return statistics.median(rates), rates


def durable_rows(trie: Trie, quick: bool) -> list[Row]:
    """Snapshot and recovery times of the 100k-title trie, and single-record WAL appends."""
    base = Path(__file__).resolve().parent.parent / ".bench"
    base.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="typeahead-", dir=base) as tmp:
        store = DurableTrie.open(tmp, max_words=trie.max_words, name="titles")
        store.apply((Op.INSERT, word) for word, _ in trie.items_lru())
        t0 = time.perf_counter()
        store.snapshot()
        snapshot_s = time.perf_counter() - t0
        size_mb = (Path(tmp) / "titles.snapshot").stat().st_size / 1e6
        store.close()
        t0 = time.perf_counter()
        DurableTrie.open(tmp, max_words=trie.max_words, name="titles").close()
        open_s = time.perf_counter() - t0
    rate, rates = wal_appends_per_second(200 if quick else 500, 3 if quick else 5)
    return [
        Row("typeahead", "snapshot 100k titles", snapshot_s, "s", note=f"{size_mb:.1f} MB file"),
        Row("typeahead", "open + recover 100k titles", open_s, "s", note="from the snapshot"),
        Row(
            "typeahead",
            "WAL appends (fsync each)",
            rate,
            "ops/s",
            note="median of runs: " + ", ".join(f"{r:,.0f}" for r in rates),
            samples=rates,
        ),
    ]


def run(quick: bool) -> list[Row]:
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    titles = make_titles(100_000, rng)
    trie = build_trie(titles, rng)
    build_s = time.perf_counter() - t0
    n_queries = 2000 if quick else 5000
    runs = 3 if quick else 5
    prefix_queries = make_queries(titles, n_queries, rng, typos=False)
    fuzzy_queries = make_queries(titles, n_queries, rng, typos=True)

    trie.cache_limit = 0  # every query ranks from scratch
    latencies_ms(trie.suggest, prefix_queries[:300])  # warm up the interpreter
    prefix = Passes(trie.suggest, prefix_queries, runs)
    fuzzy = Passes(trie.fuzzy_suggest, fuzzy_queries, runs)
    trie.cache_limit = 64  # the default: one pass over the stream with the caches starting empty
    cached, _ = latencies_ms(trie.suggest, prefix_queries)
    load = os.getloadavg()[0]

    stream = f"{n_queries} prefixes of 1-8 chars, limit {LIMIT}, median of {runs} passes"
    return [
        Row(
            "typeahead",
            "build 100k-title trie",
            build_s,
            "s",
            note=f"{len(trie):,} entries, {trie.node_count():,} nodes; load average {load:.1f} "
            f"on {os.cpu_count()} CPUs during the latency runs",
        ),
        Row("typeahead", "suggest median (no cache)", prefix.median, "ms", note=stream),
        Row(
            "typeahead",
            "suggest p99 (no cache)",
            prefix.p99,
            "ms",
            target="< 1 ms",
            met=prefix.p99 < 1,
            note=prefix.note(),
            samples=prefix.p99s,
        ),
        Row(
            "typeahead",
            "suggest p99 (cache, 1st pass)",
            p99(cached),
            "ms",
            target="< 1 ms",
            met=p99(cached) < 1,
            note=f"median {statistics.median(cached) * 1000:.1f} us; caches start empty",
        ),
        Row(
            "typeahead",
            "fuzzy_suggest median",
            fuzzy.median,
            "ms",
            note=stream + "; half of those >= 3 chars carry one typo",
        ),
        Row(
            "typeahead",
            "fuzzy_suggest p99",
            fuzzy.p99,
            "ms",
            target="< 5 ms",
            met=fuzzy.p99 < 5,
            note=fuzzy.note(),
            samples=fuzzy.p99s,
        ),
        *durable_rows(trie, quick),
    ]
