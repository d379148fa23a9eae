"""The desktop window: a pywebview window on the embedded server (or on a remote DocStream).

Start-up, in order (the window toolkit and the server start side by side):

1. Take the data dir's single-instance lock; if another instance holds it, ask it to come to the
   front and exit 0 (``instance.py``).
2. Start the server thread (``embedded.py``) and open the window on a "Starting…" page.
3. Once the server answers and proves it is ours (``embedded.py``: it listens on a socket this
   process bound, and answers a challenge with a key only this process knows): sign the local
   profile in (``profile.py``), arm the one-shot bridge
   with the refresh token, publish the instance state, and load ``http://127.0.0.1:<port>/?desktop``.
   The page's desktop hook (``webui/src/desktop.ts``) sees the marker, calls
   ``pywebview.api.session()`` once, stores the refresh token where the UI keeps it, and boots
   signed in. The token travels through the bridge only: never in a URL, never in a log.

Closing: the first close request is held while the page reports edits the server has not
acknowledged (``window.__docstreamDesktop.unsaved()``), for at most ``desktop_flush_timeout``
seconds; then the window closes, the server stops gracefully (the lifespan shutdown writes the
snapshots and closes the store) and the process exits 0. SIGTERM and SIGINT take the same path.

Linux uses Qt WebEngine (PySide6) by default: the Chromium engine the UI is tested in, installed
from PyPI with the ``desktop`` extra; ``--gui gtk`` selects WebKitGTK instead. macOS and Windows use
their native web views.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docstream.datadir import private_dir
from docstream.desktop.embedded import EmbeddedServer
from docstream.desktop.instance import SingleInstance, focus_running
from docstream.desktop.profile import sign_in
from docstream.errors import DesktopError
from docstream.settings import Settings

log = logging.getLogger("docstream.desktop")

#: The query marker that tells the page it runs in the desktop window (not a secret).
DESKTOP_MARKER = "desktop"
#: What the page answers when asked how many of its edits the server has not acknowledged.
UNSAVED_JS = (
    "(function(){try{var d=window.__docstreamDesktop;return d&&d.unsaved?d.unsaved():0;}"
    "catch(e){return 0;}})()"
)

_PAGE = """<!doctype html><meta charset="utf-8"><title>DocStream</title>
<body style="font:16px system-ui,sans-serif;color:#333;display:grid;place-items:center;
height:90vh;margin:0"><div style="max-width:34em;text-align:center">{body}</div></body>"""
STARTING_HTML = _PAGE.format(body="<p>Starting DocStream…</p>")


def _error_html(message: str) -> str:
    from html import escape

    return _PAGE.format(
        body=f"<h1 style='font-size:1.3em'>DocStream could not start</h1><p>{escape(message)}</p>"
    )


class Bridge:
    """The ``js_api`` of the window: hands the page its session once, to the local origin only.

    pywebview exposes every public method (and public attribute) of this object to the page as
    ``window.pywebview.api.*``, so everything else here is private.
    """

    def __init__(self, origin: str) -> None:
        self._origin = origin
        self._refresh_token: str | None = None
        self._lock = threading.Lock()
        self._window: Any = None

    def _arm(self, origin: str, refresh_token: str, window: Any) -> None:
        with self._lock:
            self._origin = origin
            self._refresh_token = refresh_token
            self._window = window

    def session(self) -> dict[str, str] | None:
        """The refresh token of the local profile, the first time only; then ``None``."""
        url = self._window.get_current_url() if self._window is not None else None
        parsed = urllib.parse.urlsplit(url or "")
        if not self._origin or f"{parsed.scheme}://{parsed.netloc}" != self._origin:
            log.warning("refused the desktop session to a page outside %s", self._origin)
            return None
        with self._lock:
            token, self._refresh_token = self._refresh_token, None
        return {"refresh_token": token} if token else None


class _Closer:
    """Holds the first close request until the page's edits are acknowledged (bounded wait)."""

    def __init__(self, window: Any, timeout: float) -> None:
        self.window = window
        self.timeout = timeout
        self.may_close = False
        self._started = False
        self._lock = threading.Lock()

    def on_closing(self) -> bool:
        log.info("desktop: close requested")
        if self.may_close:
            return True
        self.request()
        return False  # keep the window until _flush_then_close destroys it

    def request(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._flush_then_close, name="docstream-close").start()

    def _unsaved(self) -> int:
        result: list[Any] = []

        def ask() -> None:
            with contextlib.suppress(
                Exception
            ):  # a page that cannot answer has nothing to wait for
                result.append(self.window.evaluate_js(UNSAVED_JS))

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        asker.join(1.0)
        value = result[0] if result else 0
        return value if isinstance(value, int) else 0

    def _flush_then_close(self) -> None:
        deadline = time.monotonic() + self.timeout
        unsaved = self._unsaved()
        while unsaved and time.monotonic() < deadline:
            time.sleep(0.05)
            unsaved = self._unsaved()
        if unsaved:
            log.warning("closing with %d edit(s) not acknowledged by the server", unsaved)
        self.may_close = True
        log.info("desktop: closing the window")
        self.window.destroy()


def _import_webview() -> Any:
    try:
        import webview
    except ImportError as exc:
        raise DesktopError(
            "the desktop window needs pywebview and a web view toolkit: "
            "pip install 'docstream[desktop]' (see the README's Desktop section)"
        ) from exc
    return webview


def default_gui(settings: Settings) -> str | None:
    """The pywebview backend: the setting, else Qt on Linux, else the platform's native view."""
    if settings.desktop_gui:
        return settings.desktop_gui
    return "qt" if sys.platform.startswith("linux") else None


def _prepare_toolkit(gui: str | None) -> None:
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        raise DesktopError(
            "no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set): the desktop "
            "window needs one; on a server, run `docstream serve` instead"
        )
    if gui == "qt" and hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to sandbox as root (containers, CI); it needs this flag there.
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _hold_signals() -> bool:
    """Block SIGTERM/SIGINT in this thread and every thread started after it (POSIX only).

    The toolkit's event loop runs in C++, where a Python signal handler would wait for the next
    Python callback, and any thread that leaves the signals unblocked would take the default
    action (death without a flush). Call before starting any thread; :func:`_close_on_signals`
    then waits for the signals in one dedicated thread.
    """
    if not hasattr(signal, "pthread_sigmask"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    return True


def _close_on_signals(close: Callable[[], None]) -> None:
    """SIGTERM/SIGINT close the window like its close button (after :func:`_hold_signals`)."""

    def wait() -> None:
        sig = signal.sigwait(_SIGNALS)
        log.info("%s: closing the window", signal.Signals(sig).name)
        close()

    threading.Thread(target=wait, name="docstream-signals", daemon=True).start()


def run_remote(server: str, settings: Settings) -> int:
    """Open a window on a remote DocStream; its sign-in and offline queue persist per server."""
    parsed = urllib.parse.urlsplit(server)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DesktopError(f"--server needs an http:// or https:// address, got {server!r}")
    gui = default_gui(settings)
    _prepare_toolkit(gui)
    webview = _import_webview()
    # The web view's storage holds the remote server's sign-in: private like the data dir.
    private_dir(settings.data_dir)
    storage = private_dir(settings.data_dir / "webview" / parsed.netloc.replace(":", "_"))
    window = webview.create_window(
        f"DocStream — {parsed.netloc}", url=server, width=1100, height=760, text_select=True
    )
    closer = _Closer(window, settings.desktop_flush_timeout)
    window.events.closing += closer.on_closing
    if _hold_signals():
        _close_on_signals(closer.request)
    webview.start(gui=gui, private_mode=False, storage_path=str(storage))
    return 0


def run_local(settings: Settings) -> int:
    """The desktop editor on the embedded server; returns the exit code."""
    data_dir: Path = settings.data_dir
    instance = SingleInstance(data_dir)
    if not instance.acquire():
        state = focus_running(data_dir)
        print(f"DocStream is already open (pid {state.get('pid')}); brought it to the front.")
        return 0
    try:
        return _run_locked(settings, instance)
    finally:
        instance.release()


def _run_locked(settings: Settings, instance: SingleInstance) -> int:
    held = _hold_signals()  # before the first thread starts
    gui = default_gui(settings)
    _prepare_toolkit(gui)
    webview = _import_webview()
    server = EmbeddedServer(settings)
    started = time.monotonic()
    server.start()
    bridge = Bridge("")
    window = webview.create_window(
        "DocStream",
        html=STARTING_HTML,
        js_api=bridge,
        width=1100,
        height=760,
        min_size=(480, 360),
        text_select=True,
    )
    closer = _Closer(window, settings.desktop_flush_timeout)
    window.events.closing += closer.on_closing
    if held:
        _close_on_signals(closer.request)
    failure: list[BaseException] = []

    def focus() -> None:
        window.restore()
        window.show()

    def open_ui() -> None:
        try:
            server.wait_ready()
            tokens = sign_in(server.url, settings.data_dir)
            bridge._arm(server.url, tokens["refresh_token"], window)
            instance.publish(server.port, focus)
            log.info(
                "desktop: server ready on %s in %.2f s", server.url, time.monotonic() - started
            )
            window.load_url(f"{server.url}/?{DESKTOP_MARKER}")
        except Exception as exc:  # shown in the window and returned as exit code 1
            failure.append(exc)
            log.error("desktop: %s", exc)
            window.load_html(_error_html(getattr(exc, "detail", str(exc))))

    webview.start(open_ui, gui=gui, private_mode=True)
    stopped = server.stop()
    if failure or not stopped:
        return 1
    log.info("desktop: closed cleanly")
    return 0


def run(settings: Settings, server: str | None = None) -> int:
    """``docstream desktop``: the local editor, or a window on ``server``."""
    if server:
        return run_remote(server, settings)
    return run_local(settings)
