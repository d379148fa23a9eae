"""A minimal Chrome DevTools Protocol client for the desktop window (Qt WebEngine is Chromium).

The test starts ``docstream desktop`` with ``QTWEBENGINE_REMOTE_DEBUGGING=<port>`` (a standard Qt
WebEngine switch, nothing DocStream adds), then evaluates JavaScript in the window's page and types
into it through this client. Only ``Runtime.evaluate`` and ``Input.*`` are used.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from websockets.sync.client import ClientConnection, connect


class CdpError(AssertionError):
    pass


class Page:
    def __init__(self, ws_url: str) -> None:
        self.ws: ClientConnection = connect(ws_url, max_size=None, open_timeout=10, legacy=True)
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.ws.close()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == call_id:
                if "error" in message:
                    raise CdpError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def eval(self, expression: str) -> Any:
        """The value of ``expression`` (promises are awaited)."""
        reply = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise CdpError(f"{expression!r} threw {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            try:
                value = self.eval(expression)
            except CdpError:
                value = None  # the page is navigating
            if value:
                return value
            time.sleep(0.05)
        raise CdpError(f"{expression!r} was not true within {timeout} s (last: {value!r})")

    def type_text(self, text: str) -> None:
        """Type ``text`` key by key into the focused element."""
        for char in text:
            if char == "\n":
                self.call(
                    "Input.dispatchKeyEvent",
                    type="keyDown",
                    key="Enter",
                    code="Enter",
                    windowsVirtualKeyCode=13,
                    text="\r",
                )
                self.call(
                    "Input.dispatchKeyEvent",
                    type="keyUp",
                    key="Enter",
                    code="Enter",
                    windowsVirtualKeyCode=13,
                )
            else:
                self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
                self.call("Input.dispatchKeyEvent", type="keyUp", key=char)


def find_page(port: int, accept: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> Page:
    """Connect to the first page target that ``accept`` approves."""
    deadline = time.monotonic() + timeout
    seen: list[Any] = []
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as reply:
                targets = json.loads(reply.read())
        except OSError:
            targets = []
        seen = [(t.get("type"), t.get("url"), t.get("title")) for t in targets]
        for target in targets:
            if target.get("type") == "page" and accept(target):
                return Page(target["webSocketDebuggerUrl"])
        time.sleep(0.05)
    raise CdpError(f"no matching page on the DevTools port {port} within {timeout} s: {seen}")
