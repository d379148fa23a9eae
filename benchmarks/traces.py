"""Loading the editing traces of ../shared/traces (CC BY 4.0, see its README)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

TRACES_DIR = Path(
    os.environ.get("DOCSTREAM_TRACES", Path(__file__).resolve().parents[2] / "shared" / "traces")
)


def load_trace(name: str) -> dict[str, Any]:
    """``{"startContent", "endContent", "txns": [{"patches": [[pos, del, text], ...]}]}``."""
    with gzip.open(TRACES_DIR / f"{name}.json.gz", "rt", encoding="utf-8") as f:
        trace: dict[str, Any] = json.load(f)
    return trace


def patches(trace: dict[str, Any]) -> list[tuple[int, int, str]]:
    return [(p[0], p[1], p[2]) for txn in trace["txns"] for p in txn["patches"]]
