"""``docstream desktop`` launched on a (virtual) X screen, its page reached through Qt WebEngine's
DevTools port: shared by the desktop window test and the packaging benchmark.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from testkit.cdp import Page, find_page
from testkit.ports import free_port
from testkit.processes import server_env


class Desktop:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path, devtools: int, data: Path):
        self.proc, self.log, self.devtools, self.data = proc, log, devtools, data

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def state(self) -> dict[str, object]:
        state: dict[str, object] = json.loads((self.data / "desktop.json").read_text())
        return state

    def page(self, timeout: float = 30.0) -> Page:
        """The DocStream page (not the "Starting…" placeholder)."""
        return find_page(self.devtools, lambda t: t["url"].startswith("http://127.0.0.1:"), timeout)


def desktop_command() -> list[str]:
    return [sys.executable, "-m", "docstream", "desktop"]


@contextlib.contextmanager
def launch(screen: str, data: Path, command: list[str] | None = None) -> Iterator[Desktop]:
    devtools = free_port()
    log = data.parent / f"desktop-{devtools}.log"
    data.parent.mkdir(parents=True, exist_ok=True)
    env = server_env({"DISPLAY": screen, "QTWEBENGINE_REMOTE_DEBUGGING": str(devtools)})
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*(command or desktop_command()), "--data-dir", str(data)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    desktop = Desktop(proc, log, devtools, data)
    try:
        yield desktop
    except BaseException as exc:
        exc.add_note(f"--- desktop log ---\n{desktop.output()[-6000:]}")
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
