"""A virtual X screen for the desktop window test: Xvfb, screenshots, and a window manager's close.

``Xvfb`` comes from Debian (``apt-get install xvfb``); python-xlib (the ``dev`` extra) talks to it.
There is no window manager on the virtual screen, so :func:`close_window` does what one does when
the user clicks the close button: it sends the window a ``WM_DELETE_WINDOW`` client message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 860


@contextlib.contextmanager
def virtual_display() -> Iterator[str]:
    """Start ``Xvfb`` on a free display number; yield ``":N"``."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise FileNotFoundError("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [
            xvfb,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit {proc.poll()})")
        yield f":{number}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.poll() is None:
            proc.kill()


def _display(name: str) -> Any:
    from Xlib import display  # type: ignore[import-untyped]

    return display.Display(name)


def find_window(name: str, title: str, timeout: float = 30.0) -> int:
    """The id of a mapped top-level window whose title contains ``title``."""
    disp = _display(name)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child in disp.screen().root.query_tree().children:
                try:
                    wm_name = child.get_wm_name() or ""
                    mapped = child.get_attributes().map_state != 0
                except Exception:  # a window that vanished meanwhile
                    continue
                if title in str(wm_name) and mapped:
                    return int(child.id)
            time.sleep(0.1)
        raise TimeoutError(f"no window titled {title!r} on {name}")
    finally:
        disp.close()


def close_window(name: str, window_id: int) -> None:
    """Ask the window to close, as a window manager's close button does (WM_DELETE_WINDOW)."""
    from Xlib import X, protocol

    disp = _display(name)
    try:
        window = disp.create_resource_object("window", window_id)
        event = protocol.event.ClientMessage(
            window=window,
            client_type=disp.intern_atom("WM_PROTOCOLS"),
            data=(32, [disp.intern_atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]),
        )
        window.send_event(event, event_mask=X.NoEventMask)
        # A round trip, not just a flush: closing the connection right after flushing lets the
        # server drop the request now and then (seen under load: the window never got the event).
        disp.sync()
    finally:
        disp.close()


def screenshot(name: str, path: Path) -> list[tuple[int, int, int]]:
    """Save the whole screen as a PNG at ``path``; return its pixels as RGB tuples."""
    from Xlib import X

    disp = _display(name)
    try:
        root = disp.screen().root
        geometry = root.get_geometry()
        width, height = geometry.width, geometry.height
        raw = root.get_image(0, 0, width, height, X.ZPixmap, 0xFFFFFFFF).data
    finally:
        disp.close()
    data = bytes(raw)
    pixels = [(data[i + 2], data[i + 1], data[i]) for i in range(0, len(data), 4)]
    rows = b"".join(
        b"\x00" + bytes(c for px in pixels[y * width : (y + 1) * width] for c in px)
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return pixels
