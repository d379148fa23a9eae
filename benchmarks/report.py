"""A benchmark row and the table ``make bench`` prints."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One measured quantity: ours, optionally a peer's from the same run, and a target."""

    suite: str
    measure: str
    ours: float
    unit: str
    peer: float | None = None
    peer_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> str:
        if self.peer is None or self.ours == 0:
            return ""
        return f"{self.peer / self.ours:.2f}x"


def median_of(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """Run ``fn`` ``runs`` times; return the median wall time in seconds and every sample."""
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), samples


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value >= 0.1 else f"{value * 1000:.1f} ms"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "KB":
        return f"{value:.1f} KB"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit in ("ops/s", "1/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:g} {unit}"


def print_table(rows: list[Row]) -> None:
    headers = ["suite", "measure", "ours (median)", "peer (same run)", "peer/ours", "target", "met"]
    body = [
        [
            r.suite,
            r.measure,
            fmt(r.ours, r.unit),
            f"{r.peer_name} {fmt(r.peer, r.unit)}" if r.peer is not None else "",
            r.ratio,
            r.target,
            "" if r.met is None else ("yes" if r.met else "NO"),
        ]
        for r in rows
    ]
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) + " |")
    notes = [r for r in rows if r.note]
    for r in notes:
        print(f"  {r.suite} / {r.measure}: {r.note}")
