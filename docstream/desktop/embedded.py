"""The DocStream server inside the desktop process: granian's embedded server in one thread.

Why a thread and not a subprocess: the window and the server then live and die together. When the
window closes, :meth:`EmbeddedServer.stop` asks granian to stop from the server's own event loop;
granian stops accepting, then runs the ASGI lifespan shutdown (``bootstrap.build`` closes the hub,
which writes the pending snapshots, and the store, which finishes its writes) before the thread
ends. A crash of either side cannot leave an orphan server holding the database, and no second
copy of Python is started (one process, one extraction of the bundle).

The port is chosen by binding port 0 and releasing it just before granian binds it; if another
program takes it in between, the start is retried on a new port.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Any

from docstream.errors import DesktopError
from docstream.settings import Settings

log = logging.getLogger("docstream.desktop")

#: How many times a start is retried when the chosen port was taken in the meantime.
PORT_ATTEMPTS = 3


def free_port(host: str = "127.0.0.1") -> int:
    """A port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedServer:
    """``create_app(settings)`` served by granian on ``127.0.0.1:<free port>`` in a thread.

    Args:
        settings: the app's settings; ``host``, ``port`` and ``workers`` are replaced (loopback,
            a free port, one worker).
        ready_timeout: seconds :meth:`start` waits for ``GET /health`` to answer.
    """

    def __init__(self, settings: Settings, *, ready_timeout: float = 30.0) -> None:
        self.settings = replace(settings, host="127.0.0.1", workers=1)
        self.ready_timeout = ready_timeout
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self._error: BaseException | None = None
        self._listening = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start serving in the background; return without waiting (see :meth:`wait_ready`)."""
        self.port = free_port()
        self.settings = replace(self.settings, port=self.port)
        self._error = None
        self._listening.clear()
        self._thread = threading.Thread(target=self._run, name="docstream-server", daemon=True)
        self._thread.start()

    def wait_ready(self) -> None:
        """Block until the server answers ``/health``; retry on a new port if the bind failed.

        Raises:
            DesktopError: the server did not start (its exception is chained).
        """
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._wait_health()
                return
            except DesktopError as exc:
                if not isinstance(self._error, OSError) or attempt == PORT_ATTEMPTS:
                    raise
                log.warning("port %d was taken (%s); trying another", self.port, exc)
                self.start()

    def _wait_health(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            thread = self._thread
            if thread is None or not thread.is_alive():
                raise DesktopError(
                    f"the local DocStream server stopped while starting: {self._error!r}"
                ) from self._error
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.02)
        raise DesktopError(
            f"the local DocStream server did not answer within {self.ready_timeout} s"
        )

    def _run(self) -> None:
        from granian.constants import Interfaces
        from granian.server.embed import Server

        from docstream.web.app import create_app

        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            asyncio.set_event_loop(loop)
            self._server = Server(
                create_app(self.settings),
                address="127.0.0.1",
                port=self.port,
                interface=Interfaces.ASGI,
                log_level=self.settings.log_level,  # type: ignore[arg-type]
            )
            loop.run_until_complete(self._server.serve())
        except BaseException as exc:  # reported by wait_ready/stop; the thread must not vanish
            self._error = exc
            log.error("the local DocStream server failed", exc_info=exc)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop gracefully (lifespan shutdown flushes every pending write); True if it stopped.

        Safe to call more than once and from any thread but the server's own.
        """
        thread, loop, server = self._thread, self._loop, self._server
        if thread is None or not thread.is_alive():
            return self._error is None
        if loop is not None and server is not None:
            loop.call_soon_threadsafe(server.stop)
        thread.join(timeout)
        if thread.is_alive():
            log.error("the local DocStream server did not stop within %s s", timeout)
            return False
        return self._error is None
