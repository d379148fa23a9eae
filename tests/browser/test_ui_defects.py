"""Defects of the web UI found by trying it as a new user would, each pinned by a test: creating
with an empty title, the history panel's restore, the editor's keys, a missing document, toasts
over dialogs and the connection indicator. Where layout matters, at desktop and phone sizes."""

from __future__ import annotations

import colorsys
import zlib
from typing import Any

import pytest

from testkit.browser import (
    editor_text,
    new_account,
    open_document,
    rest,
    save_named_version,
    screenshot,
    sign_in,
    wait_new_document,
    wait_saved,
)

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _resize(page: Any, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})


@pytest.mark.parametrize("size", SIZES)
def test_an_empty_title_creates_an_untitled_document(open_page, server, size):
    ada = new_account(server, "Ada")
    page = open_page().page
    _resize(page, size)
    sign_in(page, server, ada)
    page.get_by_role("button", name="New document").click()
    wait_new_document(page)
    assert [d["title"] for d in rest(server, ada, "GET", "/documents")] == ["Untitled"]


def test_the_restore_safety_version_is_named_after_the_restored_version(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Versions"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    page.locator(".cm-content").click()
    page.keyboard.type("First draft.")
    wait_saved(page)
    panel = save_named_version(page, "Draft one")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" More.")
    wait_saved(page)
    chosen = panel.get_by_role("button", name="Draft one")
    chosen.click()
    panel.get_by_text("First draft.", exact=True).wait_for()
    assert chosen.get_attribute("aria-pressed") == "true"
    chosen = panel.locator(f'[data-version="{chosen.get_attribute("data-version")}"]')
    panel.get_by_role("button", name="Restore this version").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    safety = panel.get_by_role("button", name="Before restoring “Draft one”")
    safety.wait_for()
    assert panel.get_by_text("version 1").count() == 0
    # The list was reloaded; the version whose preview still shows keeps its highlight.
    assert panel.get_by_text("First draft.", exact=True).is_visible()
    assert chosen.get_attribute("aria-pressed") == "true"
    assert safety.get_attribute("aria-pressed") == "false"
    screenshot(page, "history-after-restore")
    assert editor_text(page) == "First draft."


def _new_doc(open_page: Any, server: Any, size: str = "desktop", text: str = "") -> Any:
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Notes"})
    w = open_page()
    _resize(w.page, size)
    sign_in(w.page, server, ada)
    open_document(w.page, server, doc["id"])
    if text:
        w.page.locator(".cm-content").click()
        w.page.keyboard.type(text)
        wait_saved(w.page)
    return w


_IN_EDITOR = "() => document.activeElement?.classList.contains('cm-content') === true"


def test_tab_stays_in_the_editor_and_escape_then_tab_leaves_it(open_page, server):
    page = _new_doc(open_page, server).page
    page.locator(".cm-content").click()
    page.keyboard.type("zq")
    page.keyboard.press("Tab")
    page.keyboard.type("x")
    assert page.evaluate(_IN_EDITOR)
    wait_saved(page)
    assert editor_text(page) == "zq\tx"
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not page.evaluate(_IN_EDITOR)
    assert editor_text(page) == "zq\tx"
    # The way out is written down where people look for it.
    hint = page.locator(".shortcut-hint")
    assert "Esc then Tab" in hint.inner_text()
    described = page.locator(".cm-content").get_attribute("aria-describedby")
    assert described == hint.get_attribute("id")


@pytest.mark.parametrize("key", ["Control+s", "Meta+s"])
def test_ctrl_s_says_the_edits_are_saved_instead_of_saving_the_page(open_page, server, key):
    page = _new_doc(open_page, server, text="Kept safe.").page
    page.evaluate(
        "() => window.addEventListener('keydown', e => { window.__saveKey = e.defaultPrevented })"
    )
    page.keyboard.press(key)
    page.locator(".toast", has_text="Saved").wait_for()
    assert page.evaluate("() => window.__saveKey") is True


@pytest.mark.parametrize("size", SIZES)
def test_a_missing_document_says_so_with_a_way_back(open_page, server, size):
    ada = new_account(server, "Ada")
    w = open_page()
    w.allow_http_errors("/documents/does-not-exist")
    page = w.page
    _resize(page, size)
    sign_in(page, server, ada)
    page.goto(f"{server.url}/d/does-not-exist")
    page.get_by_role("heading", name="Document not found").wait_for()
    back = page.get_by_role("link", name="Back to your documents")
    assert back.is_visible()
    page.wait_for_timeout(1500)
    assert not page.locator(".cm-editor").is_visible()
    assert (
        page.get_by_text("Start typing…").count() == 0
        or not page.get_by_text("Start typing…").is_visible()
    )
    assert not page.get_by_text("Connecting…").is_visible()
    assert not page.get_by_role("button", name="Share").is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= SIZES[size][0]
    screenshot(page, f"not-found-{size}")
    back.click()
    page.get_by_role("heading", name="Documents").wait_for()


@pytest.mark.parametrize("size", SIZES)
def test_a_toast_raised_while_a_dialog_is_open_shows_above_its_backdrop(open_page, server, size):
    page = _new_doc(open_page, server, size, text="Shared.").page
    page.get_by_role("button", name="Share").click()
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Control+s")
    toast = page.locator(".toast", has_text="Saved")
    toast.wait_for()
    box = toast.bounding_box()
    assert box is not None
    screenshot(page, f"toast-over-dialog-{size}")
    # Dimmed under the backdrop, the toast's background would not be its own colour on screen.
    # (Hit testing cannot tell: everything outside a modal dialog is inert, even in the top layer.)
    want = _rgb(toast.evaluate("el => getComputedStyle(el).backgroundColor"))
    got = _pixel(page, box["x"] + 4, box["y"] + box["height"] / 2)
    assert all(abs(a - b) <= 2 for a, b in zip(got, want, strict=True)), (got, want)


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(c)) for c in css[css.index("(") + 1 : -1].split(",")[:3])
    return r, g, b


def _hue(css: str) -> float:
    """The hue (degrees) of a computed CSS colour."""
    return colorsys.rgb_to_hsv(*(c / 255 for c in _rgb(css)))[0] * 360


def _pixel(page: Any, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen at (x, y): a 1x1 PNG, whose one row needs no unfiltering."""
    png = page.screenshot(clip={"x": int(x), "y": int(y), "width": 1, "height": 1})
    chunks, pos = b"", 8
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] == b"IDAT":
            chunks += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    row = zlib.decompress(chunks)
    return row[1], row[2], row[3]


def _dot(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate("""() => {
        const el = document.querySelector('.conn-status');
        const dot = el.querySelector('.dot'), text = el.querySelector('.status-text');
        const r = dot.getBoundingClientRect();
        return {state: el.dataset.state, colour: getComputedStyle(dot).backgroundColor,
                width: r.width, height: r.height, text: text.textContent, title: el.title,
                shown: text.getBoundingClientRect().width > 1,
                cut: el.scrollWidth > el.clientWidth || text.scrollWidth > text.clientWidth};
    }""")
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_offline_indicator_counts_edits_is_amber_and_never_cut(open_page, server, size):
    w = _new_doc(open_page, server, size, text="Online.")
    page = w.page
    saved = _dot(page)
    # On a phone only the dot shows; the words stay for screen readers and lead the tooltip.
    words = size == "desktop"
    assert saved["state"] == "saved" and saved["shown"] == words
    assert not words or not saved["cut"]
    assert saved["title"].startswith("All changes saved")
    w.context.set_offline(True)
    page.wait_for_selector('.conn-status[data-state="offline"]')
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" A whole sentence typed while offline.")
    page.keyboard.press("Control+Home")
    page.keyboard.type("Title: ")
    page.wait_for_function(
        "() => window.__docstream.editor().debug.live().session.pending.size > 30"
    )
    offline = _dot(page)
    screenshot(page, f"offline-indicator-{size}")
    # Two places were edited: two edits, whatever the number of keystrokes.
    assert offline["text"] == "Offline · 2 unsynced edits", offline
    assert "2 unsynced edits" in offline["title"] and "kept on this device" in offline["title"]
    assert offline["title"].startswith("Offline · 2 unsynced edits")
    assert offline["shown"] == words and (not words or not offline["cut"])
    assert page.get_by_text(
        "Offline — your edits are kept on this device and will sync"
    ).is_visible()
    assert offline["width"] == saved["width"] == 9 and offline["height"] == 9
    assert offline["colour"] != saved["colour"]
    assert 15 <= _hue(offline["colour"]) <= 50  # amber (the --warn token), not red or green
    w.context.set_offline(False)
    wait_saved(page, timeout=30_000)
    assert _dot(page)["text"] == "All changes saved"
