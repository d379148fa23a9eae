"""One desktop instance per data dir: a second launch brings the first window to the front.

The first instance takes an exclusive OS lock on ``<data dir>/desktop.lock`` for as long as it
runs (``flock`` on POSIX, ``msvcrt.locking`` on Windows; the OS drops it when the process dies, so
a crash never leaves a stale lock). It then listens on a control port of ``127.0.0.1`` and writes
``<data dir>/desktop.json`` (mode 0600): its pid, the server's port, the control port and a random
nonce. A second launch that cannot take the lock reads that file and sends ``<nonce> focus`` to the
control port; only a process that can read the file (the same user) knows the nonce, and the port
is bound to loopback only, so no other machine and no other local user can drive the window.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from docstream.datadir import open_private, private_dir
from docstream.errors import DesktopError

log = logging.getLogger("docstream.desktop")

LOCK_FILE = "desktop.lock"
STATE_FILE = "desktop.json"


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class SingleInstance:
    """The lock, the state file and the control listener of the running desktop instance."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.nonce = secrets.token_urlsafe(24)
        self._handle: IO[bytes] | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._on_focus: Callable[[], None] = lambda: None

    def acquire(self) -> bool:
        """Take the lock; False if another instance holds it."""
        private_dir(self.data_dir)
        # Held until release(); created 0600 like every file of the data dir.
        handle = open(self.data_dir / LOCK_FILE, "a+b", opener=open_private)  # noqa: SIM115
        if not _try_lock(handle):
            handle.close()
            return False
        self._handle = handle
        return True

    def publish(self, server_port: int, on_focus: Callable[[], None]) -> None:
        """Listen for ``focus`` requests and write the state file a second launch reads."""
        self._on_focus = on_focus
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="docstream-focus", daemon=True)
        self._thread.start()
        state = {
            "pid": os.getpid(),
            "port": server_port,
            "control_port": listener.getsockname()[1],
            "nonce": self.nonce,
        }
        path = self.data_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(tmp, path)

    def _serve(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed by release()
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(256).decode("ascii", "replace").strip()
                except OSError:
                    continue
                nonce, _, command = line.partition(" ")
                if not hmac.compare_digest(nonce.encode(), self.nonce.encode()):
                    log.warning("refused a control request with a wrong nonce")
                    continue
                if command == "focus":
                    try:
                        self._on_focus()
                        conn.sendall(b"ok\n")
                    except Exception:  # a failed focus is logged; the listener goes on
                        log.exception("could not bring the window to the front")

    def release(self) -> None:
        """Stop listening, remove the state file and drop the lock (idempotent)."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        if self._handle is not None:
            with contextlib.suppress(OSError):
                (self.data_dir / STATE_FILE).unlink(missing_ok=True)
            self._handle.close()
            self._handle = None


def read_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state


def focus_running(data_dir: Path, wait: float = 15.0) -> dict[str, Any]:
    """Ask the instance that holds the lock to bring its window to the front.

    Waits up to ``wait`` seconds for the state file (the other instance may still be starting).

    Returns:
        The running instance's state (``pid``, ``port``).

    Raises:
        DesktopError: the running instance did not answer.
    """
    deadline = time.monotonic() + wait
    last: Exception | None = None
    while time.monotonic() < deadline:
        state = read_state(data_dir)
        if state is not None:
            try:
                with socket.create_connection(("127.0.0.1", state["control_port"]), 2) as conn:
                    conn.sendall(f"{state['nonce']} focus\n".encode("ascii"))
                    if conn.recv(16).startswith(b"ok"):
                        return state
            except (OSError, KeyError, TypeError) as exc:
                last = exc
        time.sleep(0.1)
    raise DesktopError(
        f"DocStream is already open on {data_dir} (its lock is held) but did not answer: {last!r}"
    )
