from __future__ import annotations

import pytest

from docstream.crdt import local, rga, runindex, sequence


@pytest.fixture
def tiny_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 runs, runs of 3 chars, index chunks of 2 keys: every split happens early."""
    for module in (sequence, local, rga):
        if hasattr(module, "BLOCK_MAX"):
            monkeypatch.setattr(module, "BLOCK_MAX", 4)
        if hasattr(module, "RUN_MAX"):
            monkeypatch.setattr(module, "RUN_MAX", 3)
    monkeypatch.setattr(runindex, "_CHUNK", 2)
