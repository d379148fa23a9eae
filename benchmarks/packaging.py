"""The packaging suite: ``python -m benchmarks packaging [--quick]``.

The bundle builder, the desktop launcher and the virtual screen are ``testkit``'s, shared with the
packaging tests:

* the server bundle (``dist/docstream``): size (target < 60 MB) and cold start of ``serve`` on a
  fresh data dir to the first ``/health`` answer (target < 2 s);
* the desktop bundle (``dist/docstream-desktop``, Qt WebEngine through PySide6): size, and from
  launch to the document list on screen under Xvfb (target < 4 s), for the first start (creates
  the local profile) and the everyday one (profile there);
* the same start for the installed package (``python -m docstream desktop``), which unpacks
  nothing, to show what the one-file unpacking costs.

Bundles are built first when missing or stale (``make bundle``, ``make bundle-desktop``).
The tests (``make test-packaging``) record single timings as artifacts and assert no time.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import Row
from testkit.bundles import (
    MAX_COLD_START_S,
    MAX_LIST_SHOWN_S,
    MAX_SERVER_BUNDLE_MB,
    build_bundle,
    server_cold_start,
)
from testkit.desktop import launch
from testkit.xdisplay import virtual_display

SUITE = "packaging"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def desktop_start(screen: str, data: Path, command: list[str]) -> float:
    """Seconds from launch to the document list in the window; the app is then stopped."""
    started = time.monotonic()
    with launch(screen, data, command) as desktop:
        page = desktop.page(60)
        page.wait_for("document.querySelector('ul.doc-list') !== null", 60)
        shown = time.monotonic() - started
        page.close()
        desktop.proc.send_signal(signal.SIGTERM)  # the same path as closing the window
        if desktop.proc.wait(30) != 0:
            raise RuntimeError(f"the desktop app stopped with {desktop.proc.returncode}")
    return shown


def _desktop_rows(screen: str, runs: int, label: str, command: list[str]) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="docstream-bench-") as tmp:
        firsts, everyday = [], []
        for attempt in range(runs):
            data = Path(tmp) / str(attempt)
            firsts.append(desktop_start(screen, data, command))
            everyday.append(desktop_start(screen, data, command))
        for name, samples in (("first start", firsts), ("next start", everyday)):
            value = statistics.median(samples)
            rows.append(
                Row(
                    SUITE,
                    f"{label}: launch -> document list on screen ({name})",
                    value,
                    "s",
                    target=f"< {MAX_LIST_SHOWN_S:g} s",
                    met=value < MAX_LIST_SHOWN_S,
                    note=f"{runs} runs, {_load()}",
                    samples=samples,
                )
            )
    return rows


def run(quick: bool) -> list[Row]:
    runs = 3 if quick else 7
    rows: list[Row] = []
    exe = build_bundle("server")
    size = exe.stat().st_size / 1e6
    rows.append(
        Row(
            SUITE,
            "server bundle (dist/docstream): size",
            size,
            "MB",
            target=f"< {MAX_SERVER_BUNDLE_MB} MB",
            met=size < MAX_SERVER_BUNDLE_MB,
        )
    )
    with tempfile.TemporaryDirectory(prefix="docstream-bench-") as tmp:
        starts = [server_cold_start(exe, Path(tmp) / str(i)) for i in range(runs)]
    value = statistics.median(starts)
    rows.append(
        Row(
            SUITE,
            "server bundle: cold start to first /health (fresh data dir)",
            value,
            "s",
            target=f"< {MAX_COLD_START_S:g} s",
            met=value < MAX_COLD_START_S,
            note=f"{runs} runs, {_load()}",
            samples=starts,
        )
    )

    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb): no desktop rows")
    desktop = build_bundle("desktop")
    rows.append(
        Row(
            SUITE,
            "desktop bundle (dist/docstream-desktop, Qt WebEngine via PySide6): size",
            desktop.stat().st_size / 1e6,
            "MB",
        )
    )
    with virtual_display() as screen:
        rows += _desktop_rows(screen, runs, "desktop bundle", [str(desktop), "desktop"])
        installed = [sys.executable, "-m", "docstream", "desktop"]
        rows += _desktop_rows(screen, runs, "installed package", installed)
    return rows


def main() -> None:
    from benchmarks.report import print_table

    print_table(run("--quick" in sys.argv))


if __name__ == "__main__":
    main()
