"""The one-file bundles (``make bundle``, ``make bundle-desktop``): built when missing or stale, and
started. The packaging tests check them; the packaging benchmark times them.

``build_bundle`` rebuilds ``dist/docstream`` (server) or ``dist/docstream-desktop`` with
PyInstaller when a source is newer than the file, and skips (fails in CI) when PyInstaller or the
built web UI is missing.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from testkit.ports import free_port
from testkit.prerequisites import unavailable
from testkit.processes import server_env

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docstream" / "web" / "static"
SPEC = ROOT / "packaging" / "docstream.spec"
ARTIFACTS = ROOT / "test-artifacts"

#: The bundle's targets (README "Download and run").
MAX_SERVER_BUNDLE_MB = 60
MAX_COLD_START_S = 2.0
MAX_LIST_SHOWN_S = 4.0


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
    if importlib.util.find_spec("PyInstaller") is None:
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


def server_cold_start(exe: Path, data: Path) -> float:
    """Seconds from ``serve`` on an empty data dir to the first ``/health`` answer; the server is
    then stopped with SIGTERM and must exit 0 (the packaging test uses this too)."""
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe), "serve", "--data-dir", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=server_env(),
        start_new_session=True,
    )
    try:
        while True:
            assert proc.poll() is None, f"the bundle exited with {proc.returncode}"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                return time.monotonic() - started
            except OSError:
                time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, f"the bundle stopped with {proc.returncode} after SIGTERM"
