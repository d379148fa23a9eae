"""Real Chromium against a real ``docstream serve``: the pieces shared by the browser tests and the
UI benchmark (``python -m tests.browser.bench``).

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright through ``executable_path``;
no browser is ever downloaded. The server is a subprocess on a free port with a temporary data
directory, serving the built UI from ``docstream/web/static`` (built by ``npm run build`` in
``webui/`` when missing or older than the sources).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
WEBUI = ROOT / "webui"
STATIC = ROOT / "docstream" / "web" / "static"
CHROMIUM = os.environ.get("DOCSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Extra flags, e.g. "--disable-frame-rate-limit --disable-gpu-vsync" to take the 60 Hz frame
    # clock out of the UI benchmark's keystroke-to-paint figure (docs/ui.md).
    *os.environ.get("DOCSTREAM_CHROMIUM_ARGS", "").split(),
]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _newest_source() -> float:
    newest = 0.0
    for base in (WEBUI / "src", WEBUI / "public"):
        for path in base.rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("index.html", "package.json", "package-lock.json", "vite.config.ts"):
        newest = max(newest, (WEBUI / name).stat().st_mtime)
    return newest


def ensure_ui_built() -> None:
    """Build the UI when its output is missing or older than the sources.

    Raises:
        RuntimeError: npm is missing or the build fails.
    """
    index = STATIC / "index.html"
    if index.is_file() and index.stat().st_mtime >= _newest_source():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the web UI is not built and npm is not installed")
    if not (WEBUI / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEBUI, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEBUI, check=True)


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def routes(self) -> set[str]:
        """``"GET /path"`` for every route in the OpenAPI schema."""
        schema = httpx.get(f"{self.url}/schema/openapi.json", timeout=10).json()
        return {f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m in ops}


@contextlib.contextmanager
def run_server(extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="docstream-browser-"))
    log = data / "server.log"
    limits = {
        name: "100000"
        for name in (
            "DOCSTREAM_RATE_LIMIT_PER_MINUTE",
            "DOCSTREAM_AUTH_RATE_LIMIT_PER_MINUTE",
            "DOCSTREAM_AUTH_RATE_LIMIT_PER_ACCOUNT",
            "DOCSTREAM_WS_HANDSHAKES_PER_MINUTE",
            "DOCSTREAM_TYPEAHEAD_RATE_LIMIT_PER_MINUTE",
        )
    }
    env = {**os.environ, **limits, **(extra_env or {})}
    exe = Path(sys.executable).with_name("docstream")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "docstream"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "serve", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"docstream serve exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"docstream serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Server(url, data, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@dataclass
class Account:
    email: str
    password: str
    name: str
    id: str = ""
    token: str = ""


def new_account(server: Server, name: str) -> Account:
    """Register an account over REST (fast setup for tests that are not about signing up)."""
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or "user"
    acc = Account(f"{slug}-{secrets.token_hex(4)}@example.com", "correct horse battery", name)
    body = (
        httpx.post(
            f"{server.url}/auth/register",
            json={"email": acc.email, "password": acc.password, "name": name},
            timeout=10,
        )
        .raise_for_status()
        .json()
    )
    acc.id, acc.token = body["user"]["id"], body["access_token"]
    return acc


def rest(server: Server, acc: Account, method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(
        method,
        f"{server.url}{path}",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {acc.token}"},
    )
    r.raise_for_status()
    return r.json() if r.content else None


@dataclass
class Watched:
    """A page with its console errors and uncaught exceptions collected."""

    page: Any
    context: Any
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow_http_errors(self, *paths: str) -> None:
        """HTTP error statuses from these paths are part of the test (wrong password...)."""
        self.allowed.extend(paths)


#: Console errors Chromium prints for HTTP error statuses of fetch() calls the UI handles itself
#: (a 404 from a typeahead route that is not there yet, a 401 that triggers a token refresh).
def is_expected_resource_error(text: str, allowed: tuple[str, ...]) -> bool:
    return "Failed to load resource" in text and any(a in text for a in allowed)


def watch(context: Any) -> Watched:
    page = context.new_page()
    w = Watched(page, context)
    page.on(
        "console",
        lambda msg: (
            w.errors.append(f"console: {msg.text} @ {msg.location}")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: w.errors.append(f"pageerror: {exc}"))
    return w


def sign_in(page: Any, server: Server, acc: Account) -> None:
    page.goto(f"{server.url}/signin")
    page.get_by_label("Email").fill(acc.email)
    page.get_by_label("Password").fill(acc.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Documents").wait_for()


def open_document(page: Any, server: Server, doc_id: str) -> None:
    page.goto(f"{server.url}/d/{doc_id}")
    page.locator(".cm-content").wait_for()
    wait_saved(page)


def wait_saved(page: Any, timeout: float = 15_000) -> None:
    page.wait_for_selector('.conn-status[data-state="saved"]', timeout=timeout)


def editor_text(page: Any) -> str:
    return str(page.evaluate("() => window.__docstream.editor().debug.view.state.doc.toString()"))


def replica_text(page: Any) -> str:
    return str(page.evaluate("() => window.__docstream.editor().debug.live().session.doc.text"))


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
