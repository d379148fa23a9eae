"""Fixtures of the packaging tests (``pytest -m packaging``): the built bundle and its helpers.

A missing prerequisite (PyInstaller, the built web UI, Xvfb, pywebview with Qt, the Compose
binary) is a skip with the reason locally and a failure when ``CI`` is set (STYLE.md: in CI a
missing service is a failure). The bundles are built once per session into ``dist/`` unless an
up-to-date one is there already (``make bundle`` builds the same file).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "docstream" / "web" / "static"
SPEC = ROOT / "packaging" / "docstream.spec"
ARTIFACTS = ROOT / "test-artifacts"


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where every prerequisite must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"packaging test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _newest(*folders: Path) -> float:
    return max(
        (p.stat().st_mtime for folder in folders for p in folder.rglob("*") if p.is_file()),
        default=0.0,
    )


def build_bundle(kind: str) -> Path:
    """``dist/docstream`` (server) or ``dist/docstream-desktop``, rebuilt when sources changed."""
    name = "docstream" if kind == "server" else "docstream-desktop"
    exe = ROOT / "dist" / (name + (".exe" if sys.platform == "win32" else ""))
    sources = _newest(ROOT / "docstream", ROOT / "migrations", STATIC, ROOT / "packaging")
    if exe.is_file() and exe.stat().st_mtime >= sources:
        return exe
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        unavailable("PyInstaller is not installed (pip install -e '.[bundle]')")
    if not (STATIC / "index.html").is_file():
        unavailable("the web UI is not built (cd webui && npm ci && npm run build)")
    log = ARTIFACTS / f"bundle-{kind}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", str(SPEC)],
            cwd=ROOT,
            env={**os.environ, "DOCSTREAM_BUNDLE": kind},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    assert done.returncode == 0, f"PyInstaller failed; see {log}:\n{log.read_text()[-4000:]}"
    return exe


@pytest.fixture(scope="session")
def server_bundle() -> Path:
    return build_bundle("server")


@pytest.fixture(scope="session")
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS
