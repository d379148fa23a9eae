from __future__ import annotations

import shutil
from pathlib import Path

import pytest


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def crash_image(src: Path, dst: Path) -> Path:
    """Copy the store's files as they are on disk now: what a crash at this instant leaves.

    Every write is synced before the call that made it returns, so the bytes in the page cache are
    the bytes a power loss would leave; the original store can be closed (or not) afterwards.
    """
    dst.mkdir(parents=True)
    for path in src.iterdir():
        shutil.copyfile(path, dst / path.name)
    return dst
