"""The one-file bundle (``make bundle``): serve, edit, SIGTERM, restart, the text is there.

Every test runs the built executable itself (``dist/docstream``), never the source tree, so what is
checked is what a person downloads: the web UI and the migrations inside, found the same way the
installed package finds them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from docstream.client import DocStreamClient
from testkit.bundles import MAX_SERVER_BUNDLE_MB, server_cold_start
from testkit.ports import free_port
from testkit.processes import ServerProcess, server_env

pytestmark = pytest.mark.packaging


@contextlib.contextmanager
def run_bundle(exe: Path, data_dir: Path, port: int | None = None) -> Iterator[ServerProcess]:
    port = port or free_port()
    log_path = data_dir.parent / f"{data_dir.name}-{port}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", "--data-dir", str(data_dir), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env(),
            start_new_session=True,
        )
    server = ServerProcess(proc, "127.0.0.1", port, log_path, data_dir)
    try:
        server.wait_ready(60)
        yield server
    finally:
        if server.alive():
            server.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        server.kill()


async def test_bundle_keeps_an_edit_across_sigterm_and_restart(
    server_bundle: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    text = "Hello from the bundle\nsecond line ✓"
    with run_bundle(server_bundle, data) as server:
        index = urllib.request.urlopen(f"{server.url}/", timeout=5).read().decode()
        assert '<div id="app">' in index, "the bundle does not serve the built web UI"
        async with DocStreamClient(server.url) as client:
            await client.register("ann@example.com", "correct horse battery", "Ann")
            doc = await client.create_document("Bundled notes")
            async with client.open(doc["id"]) as live:
                live.insert(0, text)
                await live.synced()
        assert server.stop(signal.SIGTERM, timeout=20) == 0, server.log()[-3000:]

    with run_bundle(server_bundle, data) as server:
        async with DocStreamClient(server.url) as client:
            await client.login("ann@example.com", "correct horse battery")
            async with client.open(doc["id"]) as live:
                assert live.text == text
        assert server.stop(signal.SIGTERM, timeout=20) == 0


def test_bundle_migrate_applies_then_reports_up_to_date(
    server_bundle: Path, tmp_path: Path
) -> None:
    first = subprocess.run(
        [str(server_bundle), "migrate", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    again = subprocess.run(
        [str(server_bundle), "migrate", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )
    assert again.returncode == 0 and "up to date" in again.stdout


def test_server_bundle_is_small_and_answers_health_on_a_fresh_data_dir(
    server_bundle: Path, tmp_path: Path, artifacts: Path
) -> None:
    size_mb = server_bundle.stat().st_size / 1e6
    load_before = os.getloadavg()[0]
    starts = [server_cold_start(server_bundle, tmp_path / str(attempt)) for attempt in range(3)]
    (artifacts / "bundle-server.json").write_text(
        json.dumps(
            {
                "size_mb": round(size_mb, 1),
                "cold_starts_s": [round(s, 2) for s in starts],
                "load_before": load_before,
            }
        )
    )
    assert size_mb < MAX_SERVER_BUNDLE_MB
    # The start times are recorded, not asserted: the 2 s target is measured by the benchmark
    # (python -m benchmarks packaging), with medians, not by a timed test on a shared machine.
