"""Screenshots of every screen of the tour (testkit/screens.py) at desktop and phone sizes, light
and dark, into test-artifacts/screenshots/ (``list-desktop-dark.png``...); no screen scrolls
sideways at 390 px. With ``DOCSTREAM_DOCS_SCREENSHOTS=1`` (``make screenshots``) the curated set
shown in docs/ui.md is copied to docs/ui/. Also the first screen's JavaScript budget, and the
editor loaded on demand still opening offline."""

from __future__ import annotations

import os
import shutil

from testkit.browser import (
    ROOT,
    SCREENSHOTS,
    SIZES,
    THEMES,
    first_screen_scripts,
    new_account,
    rest,
    screenshot,
    set_size,
    set_theme,
    sign_in,
    wait_for_service_worker,
)
from testkit.screens import SCREENS, tour

DOCS = ROOT / "docs" / "ui"
#: The screenshots docs/ui.md shows.
CURATED = (
    "signin-phone-light",
    "list-desktop-light",
    "list-desktop-dark",
    "list-phone-dark",
    "palette-desktop-light",
    "shortcuts-desktop-dark",
    "editor-collaborator-desktop-light",
    "editor-collaborator-desktop-dark",
    "editor-collaborator-phone-light",
    "history-desktop-light",
    "share-desktop-dark",
    "share-phone-light",
)
FIRST_SCREEN_BUDGET = 300 * 1024


def test_every_screen_at_both_sizes_and_themes(open_page, server):
    wide: list[str] = []

    def visit(name, page):
        for size in SIZES:
            set_size(page, size)
            for theme in THEMES:
                set_theme(page, theme)
                screenshot(page, f"{name}-{size}-{theme}")
            if page.evaluate("() => document.documentElement.scrollWidth") > SIZES[size][0]:
                wide.append(f"{name} ({size})")

    tour(open_page, server, visit)
    for name in SCREENS:
        for size in SIZES:
            for theme in THEMES:
                assert (SCREENSHOTS / f"{name}-{size}-{theme}.png").is_file()
    assert not wide, f"these screens scroll sideways at 390 px: {wide}"
    if os.environ.get("DOCSTREAM_DOCS_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        for name in CURATED:
            shutil.copyfile(SCREENSHOTS / f"{name}.png", DOCS / f"{name}.png")


def test_the_first_screen_loads_less_than_300_kb_of_gzipped_javascript(browser, server):
    scripts = first_screen_scripts(browser, server)
    assert scripts, "the sign-in page loaded no script"
    total = sum(gz for _, gz in scripts.values())
    assert total < FIRST_SCREEN_BUDGET, {url: gz for url, (_, gz) in scripts.items()}
    # The editor (CodeMirror) is not part of it: it loads when a document is opened.
    assert total < 60 * 1024, "the first screen grew: is the editor still loaded on demand?"


def test_the_editor_loaded_on_demand_opens_offline(open_page, server):
    """The service worker keeps the chunks loaded on demand too, not only what index.html names:
    an editor never opened online opens offline."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Later"})
    w = open_page()
    page = w.page
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    sign_in(page, server, ada)
    wait_for_service_worker(page)
    page.wait_for_timeout(500)  # the worker's install (which caches the chunks) has finished
    assert not any("/page-" in url for url in scripts), scripts
    w.context.set_offline(True)
    page.goto(f"{server.url}/d/{doc['id']}")
    page.get_by_role("textbox", name="Document text").wait_for()
    page.get_by_text("your edits are kept on this device").wait_for()
