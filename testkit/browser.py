"""Real Chromium against a real ``docstream serve``: the pieces shared by the browser tests and the
UI benchmark (``python -m benchmarks ui``).

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright through ``executable_path``;
no browser is ever downloaded. The server is ``testkit.processes.run_server`` (a free port, a
temporary data directory) serving the built UI from ``docstream/web/static`` (built by ``npm run
build`` in ``webui/`` when missing or older than the sources).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from testkit.accounts import Account, register, unique_email
from testkit.config import BASE_ENV
from testkit.processes import ServerProcess
from testkit.processes import run_server as run_docstream

ROOT = Path(__file__).resolve().parents[1]
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


@contextlib.contextmanager
def run_server(extra_env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """``docstream serve`` for the browser: the tests' environment (limits out of the way)."""
    with run_docstream(env={**BASE_ENV, **(extra_env or {})}) as server:
        yield server


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def new_account(server: ServerProcess, name: str) -> Account:
    """Register an account over REST (fast setup for tests that are not about signing up)."""
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or "user"
    return register(server.url, name=name, email=unique_email(slug))


def make_admin(server: ServerProcess, acc: Account) -> None:
    """Make an account an administrator in the server's SQLite database (test setup; the
    server checks the flag on every administrator request)."""
    assert server.data_dir is not None, "a server with its own data dir (SQLite)"
    with (
        contextlib.closing(
            sqlite3.connect(server.data_dir / "docstream.sqlite3", timeout=10)
        ) as db,
        db,
    ):
        changed = db.execute("UPDATE users SET is_admin = 1 WHERE id = ?", (acc.id,)).rowcount
    assert changed == 1, "no such account"


def rest(server: ServerProcess, acc: Account, method: str, path: str, body: Any = None) -> Any:
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


def sign_in(page: Any, server: ServerProcess, acc: Account) -> None:
    page.goto(f"{server.url}/signin")
    page.get_by_label("Email").fill(acc.email)
    page.get_by_label("Password").fill(acc.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Documents").wait_for()


def open_document(page: Any, server: ServerProcess, doc_id: str) -> None:
    page.goto(f"{server.url}/d/{doc_id}")
    page.locator(".cm-content").wait_for()
    wait_saved(page)


def wait_saved(page: Any, timeout: float = 15_000) -> None:
    page.wait_for_selector('.conn-status[data-state="saved"]', timeout=timeout)


def save_named_version(page: Any, name: str) -> Any:
    """Open History from the ⋯ menu, save the current text as version ``name``; the panel."""
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitemcheckbox", name="History").click()
    panel = page.get_by_role("complementary", name="History")
    panel.get_by_role("textbox", name="Name the current version").fill(name)
    panel.get_by_role("button", name="Save version").click()
    page.get_by_text(f"Saved version “{name}”.").wait_for()
    return panel


def editor_text(page: Any) -> str:
    return str(page.evaluate("() => window.__docstream.editor().debug.view.state.doc.toString()"))


def replica_text(page: Any) -> str:
    return str(page.evaluate("() => window.__docstream.editor().debug.live().session.doc.text"))


def more_actions(page: Any, item: str) -> None:
    """Pick an item of the editor's ⋯ menu (History is a checkbox item: it stays open)."""
    page.get_by_role("button", name="More actions").click()
    menu = page.get_by_role("menu", name="More actions")
    menu.get_by_role("menuitem", name=item).or_(
        menu.get_by_role("menuitemcheckbox", name=item)
    ).click()


def wait_new_document(page: Any, title: str = "Untitled") -> None:
    """After "New document": the editor is open and its title field has the focus, ready to type."""
    page.locator(".cm-content").wait_for()
    page.wait_for_function(
        """(title) => {
            const el = document.activeElement;
            return el?.getAttribute("aria-label") === "Document title" && el.value === title;
        }""",
        arg=title,
    )
    page.wait_for_function("() => !location.search.includes('new=1')")  # not on a reload


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


#: The two layouts every screen is checked at (CSS pixels).
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
THEMES = ("light", "dark")


def set_size(page: Any, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})


def set_theme(page: Any, theme: str) -> None:
    """Show the page in ``theme`` through the system preference (the app's "System" choice).

    The app follows ``prefers-color-scheme`` while no theme is chosen (a fresh context), so this
    drives the real code path; it waits until ``<html data-theme>`` says so.
    """
    page.emulate_media(color_scheme=theme)
    page.wait_for_function("t => document.documentElement.dataset.theme === t", arg=theme)


AXE = WEBUI / "node_modules" / "axe-core" / "axe.min.js"
#: The impacts the audit fails on (axe-core also reports "moderate" and "minor").
BLOCKING = ("serious", "critical")

_AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    targets: v.nodes.map(n => {
      const why = [...n.any, ...n.all, ...n.none].map(c => c.message).find(Boolean);
      return n.target.join(' ') + (why ? ` - ${why}` : '');
    }),
  }));
}"""


def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """Run axe-core (the npm devDependency, injected into the page) over the whole page."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return [v for v in found if v["impact"] in impacts]


def describe_violations(where: str, violations: list[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, the elements, the help page."""
    lines = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {t}" for t in v["targets"][:5]]
        if len(v["targets"]) > 5:
            lines.append(f"    ... and {len(v['targets']) - 5} more")
        lines.append(f"    {v['url']}")
    return "\n".join(lines)


def first_screen_scripts(browser: Any, server: ServerProcess) -> dict[str, tuple[int, int]]:
    """The JavaScript the sign-in page loads, as Chromium fetched it: URL -> (bytes, gzipped).

    A fresh context (nothing cached, no service worker yet) opens ``/signin`` and waits until the
    network is idle; every script response is counted, gzipped at level 9 here (the server may
    serve it plain), so the figure does not depend on the server's compression.
    """
    import gzip

    context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    scripts: dict[str, tuple[int, int]] = {}
    try:
        page = context.new_page()
        responses: list[Any] = []
        page.on(
            "response",
            lambda r: responses.append(r) if r.request.resource_type == "script" else None,
        )
        page.goto(f"{server.url}/signin", wait_until="networkidle")
        page.get_by_role("button", name="Sign in").wait_for()
        for r in responses:
            body = r.body()
            scripts[r.url] = (len(body), len(gzip.compress(body, 9)))
    finally:
        context.close()
    return scripts


def wait_for_service_worker(page: Any) -> None:
    """Wait until the service worker controls the page (it has cached the app shell, so the page
    reloads offline). Installing caches every asset: on a loaded machine it takes a while."""
    try:
        page.wait_for_function(
            "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
            timeout=45_000,
        )
    except Exception as exc:
        state = page.evaluate(
            """async () => {
                const r = await navigator.serviceWorker.getRegistration();
                if (!r) return "no registration";
                const s = (w) => (w ? w.state : "none");
                return `installing ${s(r.installing)}, waiting ${s(r.waiting)}, ` +
                    `active ${s(r.active)}`;
            }"""
        )
        raise AssertionError(f"no service worker controls the page ({state})") from exc
