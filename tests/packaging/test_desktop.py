"""``docstream desktop`` in a real window on a virtual X screen (Xvfb), with Qt WebEngine.

The window is driven like a person would: its page is inspected and typed into through Qt
WebEngine's standard DevTools port (``QTWEBENGINE_REMOTE_DEBUGGING``), a screenshot of the whole
screen is checked for the UI and kept in ``test-artifacts/``, and the window is closed the way a
window manager's close button does it (``WM_DELETE_WINDOW``). Then the process must have exited 0,
and the text must be in the database: a ``docstream serve`` on the same data dir reads it back
with the local profile's credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from docstream.client import DocStreamClient
from testkit.bundles import STATIC
from testkit.desktop import desktop_command, launch
from testkit.prerequisites import unavailable
from testkit.processes import run_server, server_env

pytestmark = pytest.mark.packaging


def _prerequisites() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the desktop window test runs on Linux (Xvfb)")
    if shutil.which("Xvfb") is None:
        unavailable("Xvfb is not installed (apt-get install xvfb)")
    try:
        import webview  # noqa: F401
        from qtpy import QtWebEngineWidgets  # noqa: F401
        from Xlib import display  # noqa: F401
    except Exception as exc:  # ImportError, or Qt's own error for a missing system library
        unavailable(f"the desktop extra or python-xlib is not usable: {exc!r}")


def _hook_is_built() -> None:
    """The built UI must contain webui/src/desktop.ts, or the window cannot sign in."""
    assets = STATIC / "assets"
    if not (STATIC / "index.html").is_file():
        unavailable("the web UI is not built (make ui)")
    if not any("__docstreamDesktop" in p.read_text(errors="ignore") for p in assets.glob("*.js")):
        pytest.fail(
            "the built web UI has no desktop hook: webui/src/main.ts must import it first "
            '(import "./desktop";), then rebuild with make ui',
            pytrace=False,
        )


@pytest.fixture(scope="module")
def screen() -> Iterator[str]:
    _prerequisites()
    _hook_is_built()
    from testkit.xdisplay import virtual_display

    with virtual_display() as name:
        yield name


def _light_share(pixels: list[tuple[int, int, int]]) -> float:
    """The share of near-white pixels: the UI's light pages on the black root window of Xvfb."""
    return sum(1 for p in pixels if min(p) >= 235) / len(pixels)


async def test_desktop_window_opens_signed_in_edits_and_closes_with_exit_0(
    screen: str, tmp_path: Path, artifacts: Path
) -> None:
    from testkit.xdisplay import close_window, find_window, screenshot

    data = tmp_path / "data"
    text = "Typed in the desktop window."
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with launch(screen, data) as desktop:
        page = desktop.page()
        # Signed in without a form: the document list is the first screen.
        page.wait_for("document.querySelector('ul.doc-list') !== null && location.pathname === '/'")
        list_shown = time.monotonic() - started
        assert "desktop" not in page.eval("location.href"), "the marker stays out of the address"
        assert page.eval("document.title") == "Documents — DocStream"

        # Create a document through the UI and type into its editor.
        page.eval(
            "([...document.querySelectorAll('button')]"
            ".find(b => b.textContent === 'New document').click(), true)"
        )
        page.wait_for("document.querySelector('.cm-content') !== null")
        saved = "document.querySelector('.conn-status[data-state=\"saved\"]') !== null"
        page.wait_for(saved)  # the document is loaded: typing now edits it
        page.eval("document.querySelector('.cm-content').focus(), true")
        page.type_text(text)
        page.wait_for(f"document.querySelector('.cm-content').textContent === {text!r}")
        page.wait_for(saved)
        on_screen = page.eval(
            "(() => { const r = document.querySelector('.cm-editor').getBoundingClientRect();"
            " return r.width > 100 && r.height > 20 && r.top >= 0"
            " && r.bottom <= window.innerHeight + 1; })()"
        )
        assert on_screen, "the editor is not inside the window"
        doc_id = page.eval("location.pathname.split('/').pop()")
        page.close()

        window = find_window(screen, "DocStream")
        pixels = screenshot(screen, artifacts / "desktop-window.png")
        assert _light_share(pixels) > 0.3, "the window does not show the UI (see the screenshot)"

        close_window(screen, window)
        assert desktop.proc.wait(30) == 0, desktop.output()[-4000:]
        assert not (data / "desktop.json").exists(), "the instance state outlived the window"
        assert "closed cleanly" in desktop.output()

    (artifacts / "desktop-timings.json").write_text(
        json.dumps({"list_shown_s": round(list_shown, 2), "load_before": load_before})
    )
    profile = json.loads((data / "desktop-profile.json").read_text())
    assert (data / "desktop-profile.json").stat().st_mode & 0o077 == 0
    assert profile["password"] not in desktop.output()
    with run_server(["--data-dir", str(data)]) as server:
        async with DocStreamClient(server.url) as client:
            await client.login(profile["email"], profile["password"])
            async with client.open(doc_id) as live:
                assert live.text == text


def test_second_launch_brings_the_first_window_forward_without_a_second_server(
    screen: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with launch(screen, data) as first:
        first.page().wait_for("document.querySelector('ul.doc-list') !== null")
        state = first.state()
        second = subprocess.run(
            [*desktop_command(), "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=server_env({"DISPLAY": screen}),
        )
        assert second.returncode == 0, second.stderr
        assert "already open" in second.stdout
        assert first.state() == state, "the running instance was replaced"
        assert first.proc.poll() is None
        first.proc.send_signal(signal.SIGTERM)  # the same path as closing the window
        assert first.proc.wait(30) == 0
        assert "closed cleanly" in first.output()


async def test_desktop_signs_in_again_on_the_next_start_with_the_same_profile(
    screen: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    for _ in range(2):
        with launch(screen, data) as desktop:
            page = desktop.page()
            page.wait_for("document.querySelector('ul.doc-list') !== null")
            user = page.eval("window.__docstream.api.user.email")
            page.close()
            desktop.proc.send_signal(signal.SIGTERM)
            assert desktop.proc.wait(30) == 0
        profile = json.loads((data / "desktop-profile.json").read_text())
        assert user == profile["email"]


def test_desktop_bundle_opens_the_document_list_and_closes_with_exit_0(
    screen: str, tmp_path: Path, artifacts: Path
) -> None:
    """The downloadable desktop executable (``make bundle-desktop``), Qt WebEngine inside."""
    from testkit.bundles import build_bundle
    from testkit.xdisplay import close_window, find_window, screenshot

    exe = build_bundle("desktop")
    data = tmp_path / "data"
    timings = []
    for _ in range(2):  # the first start creates the profile; the second is the everyday one
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        with launch(screen, data, [str(exe), "desktop"]) as desktop:
            page = desktop.page(60)
            page.wait_for("document.querySelector('ul.doc-list') !== null", 60)
            timings.append((time.monotonic() - started, load_before))
            page.close()
            window = find_window(screen, "DocStream")
            pixels = screenshot(screen, artifacts / "desktop-bundle-window.png")
            assert _light_share(pixels) > 0.3, "the window does not show the UI"
            close_window(screen, window)
            assert desktop.proc.wait(30) == 0, desktop.output()[-4000:]
    (artifacts / "bundle-desktop.json").write_text(
        json.dumps(
            {
                "size_mb": round(exe.stat().st_size / 1e6, 1),
                "list_shown_s": [round(t, 2) for t, _ in timings],
                "load_before": [load for _, load in timings],
            }
        )
    )
