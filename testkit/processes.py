"""Real ``docstream serve`` processes for end-to-end tests (REST, WebSocket, cluster, browser) and
the benchmarks.

    with run_server(["--database-url", dsn], env={"DOCSTREAM_JWT_SECRET": secret}) as server:
        httpx.get(f"{server.url}/health")
        assert server.stop(signal.SIGTERM) == 0

``run_server`` starts the server on a free port of 127.0.0.1, in its own temporary data dir unless
the arguments name one (it never touches the user's data dir), with an environment cleaned of
``DOCSTREAM_*`` and the seed variables so that only what the test passes applies. It waits until
``GET /health`` answers 200, and fails with the captured log if the process dies or does not get
ready in time. On the way out the process (and its whole process group: granian's workers) is
always stopped, gracefully first, then killed; if the ``with`` body failed, the server's log is
attached to the exception.

``start_servers(args, env)`` binds arguments and environment once (a backend, a cluster's shared
database and Redis) and returns a ``ServerFactory`` that starts servers with them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from testkit.ports import free_port

#: Environment variables that would configure the server behind the test's back.
_CONFIG_VARS = ("DATABASE_URL", "REDIS_URL", "ALLOWED_ORIGIN", "JWT_SECRET")
LOG_TAIL = 8000


class ServerFailed(AssertionError):
    """The server did not start, did not stop, or exited badly; the message includes its log."""


class ServerProcess:
    """One running ``docstream serve`` process group."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        host: str,
        port: int,
        log_path: Path,
        data_dir: Path | None,
    ) -> None:
        self.proc = proc
        self.host = host
        self.port = port
        self.log_path = log_path
        self.data_dir = data_dir

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def routes(self) -> set[str]:
        """``"GET /path"`` for every route in the server's OpenAPI schema."""
        with urllib.request.urlopen(f"{self.url}/schema/openapi.json", timeout=10) as response:
            schema = json.load(response)
        return {f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m in ops}

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def failure(self, message: str) -> ServerFailed:
        tail = self.log()[-LOG_TAIL:]
        return ServerFailed(f"{message}\n--- server log ({self.log_path}) ---\n{tail}")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until ``GET /health`` answers 200; raise ServerFailed with the log otherwise."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if not self.alive():
                raise self.failure(f"the server exited with {self.returncode} while starting")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
                    last = f"status {response.status}"
            except urllib.error.HTTPError as exc:
                last = f"status {exc.code}"
            except (OSError, urllib.error.URLError) as exc:
                last = repr(exc)
            time.sleep(0.05)
        raise self.failure(f"the server was not ready within {timeout} s ({last})")

    def send_signal(self, sig: int = signal.SIGTERM, *, group: bool = False) -> None:
        """Send ``sig`` to the main process (or to its whole process group)."""
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """Wait for the exit code; raise ServerFailed (after killing it) if it takes longer."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise self.failure(f"the server did not exit within {timeout} s") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send ``sig`` and return the exit code; ServerFailed if it does not exit in time."""
        if self.alive():
            self.send_signal(sig)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group (the server and its workers) and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


def server_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without DocStream configuration, plus ``env``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DOCSTREAM_") and k not in _CONFIG_VARS
    }
    clean["PYTHONUNBUFFERED"] = "1"
    clean.update(env or {})
    return clean


@contextlib.contextmanager
def run_server(
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    ready_timeout: float = 30.0,
    stop_timeout: float = 10.0,
    wait_ready: bool = True,
    preexec_fn: Callable[[], object] | None = None,
) -> Iterator[ServerProcess]:
    """Start ``docstream serve <args>`` and yield it once it answers ``/health``.

    ``preexec_fn`` runs in the child before ``docstream`` starts (to lower a resource limit)."""
    workdir = Path(tempfile.mkdtemp(prefix="docstream-serve-"))
    args = list(args)
    data_dir: Path | None = None
    if "--data-dir" in args:
        data_dir = Path(args[args.index("--data-dir") + 1])
    else:
        data_dir = workdir / "data"
        args += ["--data-dir", str(data_dir)]
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "docstream",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        *args,
    ]
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=server_env(env),
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    server = ServerProcess(proc, host, port, log_path, data_dir)
    try:
        if wait_ready:
            server.wait_ready(ready_timeout)
        yield server
    except BaseException as exc:
        if not isinstance(exc, ServerFailed):
            exc.add_note(f"--- server log ({log_path}) ---\n{server.log()[-LOG_TAIL:]}")
        raise
    finally:
        try:
            if server.alive():
                server.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(stop_timeout)
        finally:
            server.kill()  # the group: workers that outlived the main process go too
            shutil.rmtree(workdir, ignore_errors=True)


#: ``start(args=None, env=None, **run_server_kwargs)``: a server with bound arguments.
ServerFactory = Callable[..., AbstractContextManager[ServerProcess]]


def start_servers(args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> ServerFactory:
    """A factory of servers that all get ``args`` and ``env`` first (then the caller's own)."""
    bound_args, bound_env = list(args), dict(env or {})

    def start(
        args: Sequence[str] | None = None, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> AbstractContextManager[ServerProcess]:
        return run_server([*bound_args, *(args or [])], {**bound_env, **(env or {})}, **kwargs)

    return start


async def a_minute_with_room(seconds: float = 15.0) -> None:
    """Rate limits count per wall-clock minute: unless ``seconds`` are left in this one, wait for
    the next, so that a test's requests are counted in one window (not split over two)."""
    import asyncio

    left = 60 - time.time() % 60
    if left < seconds:
        await asyncio.sleep(left + 0.05)
