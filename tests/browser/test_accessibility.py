"""The accessibility audit: axe-core over every screen of the tour (testkit/screens.py) at desktop
and phone sizes, in the light and the dark theme; no "serious" or "critical" violation. Also:
the theme choice and that it is applied before the app's JavaScript runs (no light flash)."""

from __future__ import annotations

import pytest

from testkit.browser import (
    SIZES,
    THEMES,
    axe_violations,
    describe_violations,
    new_account,
    set_size,
    set_theme,
    sign_in,
)
from testkit.screens import SCREENS, tour


@pytest.mark.parametrize("size", SIZES)
def test_no_serious_or_critical_axe_violation_on_any_screen(open_page, server, size):
    report: list[str] = []
    seen: list[str] = []

    def visit(name, page):
        set_size(page, size)
        for theme in THEMES:
            set_theme(page, theme)
            found = axe_violations(page)
            if found:
                report.append(describe_violations(f"{name} ({size}, {theme})", found))
        seen.append(name)

    tour(open_page, server, visit)
    assert seen == list(SCREENS)
    assert not report, "axe-core violations:\n" + "\n".join(report)


def test_the_audit_catches_a_violation(open_page, server):
    """The audit can fail: an image without a text alternative is a critical violation."""
    page = open_page().page
    page.goto(f"{server.url}/signin")
    page.get_by_role("button", name="Sign in").wait_for()
    gif = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    page.evaluate("src => document.body.append(Object.assign(new Image(), {src}))", gif)
    found = axe_violations(page)
    assert [v["id"] for v in found] == ["image-alt"]
    assert "image-alt" in describe_violations("signin", found)


def test_the_chosen_theme_is_applied_before_the_app_runs(browser, server):
    ada = new_account(server, "Ada")
    # No service worker: it would serve the scripts past the route that blocks them below.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    try:
        page = context.new_page()
        page.emulate_media(color_scheme="light")
        sign_in(page, server, ada)
        assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
        page.keyboard.press("Control+k")
        page.keyboard.type("toggle theme")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
        assert page.evaluate("() => localStorage.getItem('docstream.theme')") == "dark"
        # Without the app's scripts at all, the first paint is already dark.
        page.route("**/assets/*.js", lambda route: route.abort())
        page.reload()
        page.get_by_text("Loading DocStream…").wait_for()
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        background = page.evaluate(
            "() => getComputedStyle(document.documentElement).backgroundColor"
        )
        assert background == "rgb(17, 21, 27)", background  # --bg of the dark theme
        page.unroute("**/assets/*.js")
        # No choice stored (System): the system's preference decides, and is followed live.
        page.evaluate("() => localStorage.removeItem('docstream.theme')")
        page.reload()
        page.get_by_role("heading", name="Documents").wait_for()
        assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
        set_theme(page, "dark")
    finally:
        context.close()
