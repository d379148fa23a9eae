"""The editing traces (``shared/traces``, CC BY 4.0, see its README) the CRDT tests replay and the
benchmarks measure.

The traces live next to the checkout, not in it: ``DOCSTREAM_TRACES`` names their folder, else the
first ``shared/traces`` found walking up from the repository (a checkout and its worktrees share
one copy).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

#: One edit of a trace: (position, characters deleted, text inserted).
Patch = tuple[int, int, str]


def _traces_dir() -> Path:
    configured = os.environ.get("DOCSTREAM_TRACES")
    if configured:
        return Path(configured)
    root = Path(__file__).resolve().parents[1]
    for base in (root, *root.parents):
        candidate = base / "shared" / "traces"
        if candidate.is_dir():
            return candidate
    return root.parent / "shared" / "traces"


TRACES_DIR = _traces_dir()


def names() -> list[str]:
    """The sequential traces, by name."""
    return sorted(p.name.removesuffix(".json.gz") for p in TRACES_DIR.glob("*.json.gz"))


def load_trace(name: str, *, ascii_only: bool = False) -> dict[str, Any]:
    """``{"startContent", "endContent", "txns": [{"patches": [[pos, del, text], ...]}]}``."""
    path = TRACES_DIR / ("ascii_only" if ascii_only else "") / f"{name}.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        trace: dict[str, Any] = json.load(f)
    return trace


def load(name: str, *, ascii_only: bool = False, prefix: int | None = None) -> list[Patch]:
    """The trace's patches as flat tuples (the first ``prefix`` of them when given)."""
    trace = load_trace(name, ascii_only=ascii_only)
    patches = [(p[0], p[1], p[2]) for txn in trace["txns"] for p in txn["patches"]]
    return patches[:prefix] if prefix else patches
