"""Fixtures of the packaging tests (``pytest -m packaging``): the built bundle and its helpers.

A missing prerequisite (PyInstaller, the built web UI, Xvfb, pywebview with Qt, the Compose
binary) is a skip with the reason locally and a failure when ``CI`` is set
(``testkit.prerequisites``). The bundles are built once per session into ``dist/`` unless an
up-to-date one is there already (``testkit.bundles``; ``make bundle`` builds the same file).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.bundles import ARTIFACTS, build_bundle


@pytest.fixture(scope="session")
def server_bundle() -> Path:
    return build_bundle("server")


@pytest.fixture(scope="session")
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS
