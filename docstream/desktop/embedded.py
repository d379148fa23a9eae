"""The DocStream server inside the desktop process: granian's embedded server in one thread.

Why a thread and not a subprocess: the window and the server then live and die together. When the
window closes, :meth:`EmbeddedServer.stop` asks granian to stop from the server's own event loop;
granian stops accepting, then runs the ASGI lifespan shutdown (``bootstrap.build`` closes the hub,
which writes the pending snapshots, and the store, which finishes its writes) before the thread
ends. A crash of either side cannot leave an orphan server holding the database, and no second
copy of Python is started (one process, one extraction of the bundle).

**The port is ours from the start.** The desktop process binds ``127.0.0.1:0`` itself, without
``SO_REUSEADDR``/``SO_REUSEPORT``, keeps the listening socket, and hands it to granian (which
otherwise binds its own socket, with ``SO_REUSEPORT``). There is no moment at which the port is
free, so no other local program can take it, or share it, and receive the window's requests.

**The window trusts a server that proves it is this one.** Before the profile's credentials are
sent anywhere, :meth:`EmbeddedServer.wait_ready` sends a fresh random challenge to
``/.well-known/docstream-desktop-proof`` and checks the answer: an HMAC-SHA256 of the challenge and
the port under a key that this process drew at random and never wrote anywhere. A program that
answers on the port without that key (were it ever to get the port) fails the check, and the
desktop stops with an error instead of signing in.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import replace
from typing import Any

from docstream.errors import DesktopError
from docstream.settings import Settings

log = logging.getLogger("docstream.desktop")

#: Where the embedded server answers the desktop's challenge (only inside the desktop process).
PROOF_PATH = "/.well-known/docstream-desktop-proof"
CHALLENGE_HEADER = "x-docstream-challenge"
BACKLOG = 128

ASGIApp = Callable[..., Awaitable[None]]


def proof(key: bytes, challenge: str, port: int) -> str:
    """The answer to ``challenge`` of the server on ``port``: HMAC-SHA256 under ``key``, hex."""
    message = f"docstream-desktop-proof:{port}:{challenge}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def with_proof(app: ASGIApp, key: bytes, port: int) -> ASGIApp:
    """``app`` plus the proof endpoint (answered before the app sees the request)."""

    async def proving_app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http" or scope.get("path") != PROOF_PATH:
            await app(scope, receive, send)
            return
        challenge = next(
            (
                bytes(v).decode("latin-1")
                for k, v in scope["headers"]
                if k == CHALLENGE_HEADER.encode()
            ),
            "",
        )
        ok = len(challenge) == 64 and all(c in "0123456789abcdef" for c in challenge)
        body = (
            proof(key, challenge, port).encode() if ok else b"a 64-hex-digit challenge is required"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200 if ok else 400,
                "headers": [(b"content-type", b"text/plain"), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return proving_app


def check_proof(url: str, key: bytes, port: int, timeout: float = 2.0) -> bool:
    """Ask the server at ``url`` to prove it holds ``key``.

    Returns:
        True if it did; False if nothing answers yet (connection refused, timeout).

    Raises:
        DesktopError: something answered without the proof: not our server.
    """
    challenge = secrets.token_hex(32)
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1:<our port>
        f"{url}{PROOF_PATH}", headers={CHALLENGE_HEADER: challenge}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            answer = reply.read(256).decode("ascii", "replace").strip()
    except urllib.error.HTTPError as exc:
        answer = f"HTTP {exc.code}"
    except (OSError, urllib.error.URLError):
        return False
    if hmac.compare_digest(answer.encode(), proof(key, challenge, port).encode()):
        return True
    raise DesktopError(
        f"the program answering on {url} did not prove that it is this DocStream's server; "
        "the local profile's credentials were not sent to it"
    )


def listening_socket() -> socket.socket:
    """A socket listening on ``127.0.0.1``, on a port the OS picks, that nobody can share."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedServer:
    """``create_app(settings)`` served by granian in a thread, on a socket this object bound.

    Args:
        settings: the app's settings; ``host``, ``port`` and ``workers`` are replaced (loopback,
            the bound port, one worker).
        ready_timeout: seconds :meth:`wait_ready` waits for the server to prove itself.
    """

    def __init__(self, settings: Settings, *, ready_timeout: float = 30.0) -> None:
        self.settings = replace(settings, host="127.0.0.1", workers=1)
        self.ready_timeout = ready_timeout
        self.port = 0
        self._key = secrets.token_bytes(32)  # the proof key: never leaves this process
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self._app: Any = None
        self._error: BaseException | None = None
        self._listening = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Bind the port and start serving in the background; return without waiting (see
        :meth:`wait_ready`)."""
        try:
            self._socket = listening_socket()
        except OSError as exc:
            raise DesktopError(f"cannot listen on 127.0.0.1: {exc}") from exc
        self.port = self._socket.getsockname()[1]
        self.settings = replace(self.settings, port=self.port)
        self._error = None
        self._listening.clear()
        self._thread = threading.Thread(target=self._run, name="docstream-server", daemon=True)
        self._thread.start()

    def wait_ready(self) -> None:
        """Block until the server answers and proves it is this one (see the module docstring).

        Raises:
            DesktopError: the server did not start (its exception is chained), or something
                answered on the port without the proof.
        """
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            thread = self._thread
            if thread is None or not thread.is_alive():
                raise DesktopError(
                    f"the local DocStream server stopped while starting: {self._error!r}"
                ) from self._error
            if check_proof(self.url, self._key, self.port):
                return
            time.sleep(0.02)
        raise DesktopError(
            f"the local DocStream server did not answer within {self.ready_timeout} s"
        )

    def _run(self) -> None:
        from granian.constants import Interfaces

        from docstream.web.app import create_app

        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            asyncio.set_event_loop(loop)
            assert self._socket is not None, "start() binds the socket"
            self._app = create_app(self.settings)
            self._server = _server_on_socket(self._socket)(
                with_proof(self._app, self._key, self.port),
                address="127.0.0.1",
                port=self.port,
                interface=Interfaces.ASGI,
                log_level=self.settings.log_level,
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
            self._close_socket()
            return self._error is None
        if loop is not None and server is not None:
            # The server stops once its requests end: end the ones that never would (the
            # document sockets, the /events streams) first.
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._wind_down(), loop).result(timeout / 2)
            loop.call_soon_threadsafe(server.stop)
        thread.join(timeout)
        if thread.is_alive():
            log.error("the local DocStream server did not stop within %s s", timeout)
            return False
        self._close_socket()
        return self._error is None

    async def _wind_down(self) -> None:
        services = getattr(getattr(self._app, "state", None), "services", None)
        if services is not None:
            services.list_events.close_all()
            await services.hub.close()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _server_on_socket(sock: socket.socket) -> Any:
    """granian's embedded ``Server``, serving ``sock`` instead of binding a socket of its own.

    granian has no public way to be handed a listening socket; its servers get theirs from
    ``_init_shared_socket``, which builds a ``SocketHolder`` (the type granian passes between
    processes). This subclass builds that holder from a duplicate of our descriptor. If a granian
    release changes these internals, the desktop refuses to start with a clear error rather than
    falling back to binding a port someone else could take.
    """
    try:
        from granian._granian import SocketHolder
        from granian.server.embed import Server
    except ImportError as exc:  # pragma: no cover - a granian without these internals
        raise DesktopError(f"this granian cannot serve a socket it did not bind: {exc}") from exc

    make_holder: Any = SocketHolder  # (fd, is_uds, backlog): its pickled state

    class HandedOverServer(Server):
        def _init_shared_socket(self) -> None:
            try:
                holder = make_holder(os.dup(sock.fileno()), False, BACKLOG)
            except TypeError as exc:  # pragma: no cover - granian changed SocketHolder
                raise DesktopError(
                    f"this granian cannot serve a socket it did not bind: {exc}"
                ) from exc
            server: Any = self
            server._shd, server._sfd, server._ssp = holder, holder.get_fd(), None

    return HandedOverServer
