"""Fixtures of the browser tests: one server and one Chromium per session, fresh contexts per test.

A missing Chromium (``/usr/bin/chromium``), Playwright or npm build is a skip with the reason
locally and a failure when ``CI`` is set (``testkit.prerequisites``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.browser import (
    CHROMIUM,
    Watched,
    ensure_ui_built,
    is_expected_resource_error,
    launch_chromium,
    run_server,
    watch,
)
from testkit.prerequisites import unavailable
from testkit.processes import ServerProcess


@pytest.fixture(scope="package")
def server() -> Iterator[ServerProcess]:
    try:
        ensure_ui_built()
    except Exception as exc:
        unavailable(f"the web UI cannot be built: {exc}")
    with run_server() as srv:
        yield srv


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser: Any, server: ServerProcess) -> Iterator[Callable[[], Watched]]:
    """Open pages in fresh browser contexts; fail the test on any console error or page error.

    Chromium logs a console error for every HTTP error status of a fetch; a test that provokes
    one on purpose names its path with ``Watched.allow``.
    """
    pages: list[Watched] = []

    def make() -> Watched:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        w = watch(context)
        pages.append(w)
        return w

    yield make
    errors = []
    for w in pages:
        errors += [e for e in w.errors if not is_expected_resource_error(e, tuple(w.allowed))]
        w.context.close()
    assert not errors, "console errors:\n" + "\n".join(errors)
