"""Keyboard-only use, and the global keys: ``?`` opens the shortcut help, Ctrl/Cmd+K the command
palette (from the list and from inside the editor, where CodeMirror must not swallow it).

The keyboard-only test never clicks: it presses keys and types, and the page itself checks that no
pointer event reached it. Focus moves with Tab / Shift+Tab (``_tab_to``), as a person would.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from testkit.accounts import unique_email
from testkit.browser import editor_text, new_account, rest, sign_in, wait_new_document, wait_saved

#: Every trusted pointer event the page receives is counted: a keyboard-only test must see none.
NO_POINTER = """
window.__pointer = 0;
for (const type of ['pointerdown', 'mousedown', 'click']) {
  window.addEventListener(type, (e) => {
    if (e.isTrusted && e.detail !== 0) window.__pointer++;  // a keyboard's click has detail 0
  }, true);
}
"""


def _focused(locator: Any) -> bool:
    return bool(locator.evaluate("el => el === document.activeElement"))


def _tab_to(page: Any, locator: Any, key: str = "Tab", limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until ``locator`` has the focus."""
    locator.wait_for()
    for _ in range(limit):
        if _focused(locator):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {locator}")


def test_keyboard_only_sign_up_write_share_history_and_jump(open_page, server):
    bob = new_account(server, "Bob")
    page = open_page().page
    page.add_init_script(NO_POINTER)
    page.goto(f"{server.url}/signup")

    # Sign up.
    _tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(unique_email("keys"))
    _tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Kay Board")
    _tab_to(page, page.get_by_label("Password"))
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Documents").wait_for()

    # Create a document and type in it.
    _tab_to(page, page.get_by_role("button", name="New document"))
    page.keyboard.press("Enter")
    text = page.get_by_role("textbox", name="Document text")
    wait_new_document(page)  # the title has the focus: name it, Enter moves on to the text
    page.keyboard.type("Keyboard plan")
    page.keyboard.press("Enter")
    wait_saved(page)
    page.wait_for_function(
        "() => document.activeElement?.getAttribute('aria-label') === 'Document text'"
    )
    page.keyboard.type("Typed without a mouse.")
    wait_saved(page)
    assert editor_text(page) == "Typed without a mouse."

    # Leave the editor (Esc then Shift+Tab) for the bar's Share button; invite Bob.
    page.keyboard.press("Escape")
    _tab_to(page, page.get_by_role("button", name="Share"), key="Shift+Tab")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    _tab_to(page, dialog.get_by_role("combobox", name="Add people"))
    page.keyboard.type(bob.email)
    page.keyboard.press("Enter")
    dialog.get_by_role("list", name="People with access").get_by_text("Bob").first.wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")

    # History: name the current version, then pick it from the list.
    _tab_to(page, page.get_by_role("button", name="More actions"))
    page.keyboard.press("Enter")  # the menu opens on its first item
    history = page.get_by_role("menu", name="More actions").get_by_role(
        "menuitemcheckbox", name="History"
    )
    _tab_to(page, history, key="ArrowDown")
    page.keyboard.press("Enter")
    panel = page.get_by_role("complementary", name="History")
    _tab_to(page, panel.get_by_role("textbox", name="Name the current version"))
    page.keyboard.type("Draft one")
    page.keyboard.press("Enter")
    version = panel.get_by_role("button", name="Draft one")
    _tab_to(page, version)
    page.keyboard.press("Enter")
    panel.get_by_text("Typed without a mouse.", exact=True).wait_for()
    assert version.get_attribute("aria-pressed") == "true"

    # From inside the editor, Ctrl+K opens the palette; jump to another document by its title.
    other = rest(server, bob, "POST", "/documents", {"title": "Travel plans"})
    rest(
        server,
        bob,
        "POST",
        f"/documents/{other['id']}/share",
        {"email": _email(page), "role": "editor"},
    )
    _tab_to(page, text, key="Shift+Tab")
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    palette.get_by_role("combobox").wait_for()
    assert editor_text(page) == "Typed without a mouse."  # CodeMirror did not see the key
    page.keyboard.type("travel")
    palette.get_by_role("option", name="Travel plans").wait_for()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/d/{other['id']}")
    page.get_by_role("heading", name="Travel plans").wait_for()
    assert page.evaluate("() => window.__pointer") == 0


def _email(page: Any) -> str:
    return str(page.evaluate("() => window.__docstream.api.user.email"))


def test_question_mark_opens_the_shortcut_help_but_types_in_a_text_field(open_page, server):
    ada = new_account(server, "Ada")
    rest(server, ada, "POST", "/documents", {"title": "Questions"})
    page = open_page().page
    sign_in(page, server, ada)
    search = page.get_by_role("combobox", name="Search documents by title")
    search.focus()
    page.keyboard.type("What?")
    assert search.input_value() == "What?"
    assert page.get_by_role("dialog").count() == 0
    search.blur()
    page.keyboard.press("?")
    help_ = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_.wait_for()
    cells = {"".join(c.split()) for c in help_.get_by_role("cell").all_inner_texts()}
    for keys in ("Ctrl+K", "?", "Ctrl+S", "EscthenTab", "Tab", "Ctrl+Z", "Ctrl+Y", "@", "↑or↓"):
        assert keys in cells, (keys, cells)
    page.keyboard.press("Escape")
    help_.wait_for(state="detached")


@pytest.mark.parametrize("key", ["Control+k", "Meta+k"])
def test_the_palette_runs_commands(open_page, server, key):
    ada = new_account(server, "Ada")
    page = open_page().page
    page.emulate_media(color_scheme="light")
    sign_in(page, server, ada)
    palette = page.get_by_role("dialog", name="Command palette")
    combobox = palette.get_by_role("combobox")

    page.keyboard.press(key)
    combobox.wait_for()
    assert combobox.get_attribute("aria-expanded") == "true"
    expect(palette.get_by_role("option")).to_have_count(4)
    names = palette.get_by_role("option").locator(".palette-label").all_text_contents()
    assert names == [
        "New document",
        "Go to documents",
        "Toggle theme",
        "Keyboard shortcuts",
    ]
    page.keyboard.type("theme")
    expect(palette.get_by_role("option")).to_have_count(1)
    active = combobox.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").inner_text().startswith("Toggle theme")
    page.keyboard.press("Enter")
    palette.wait_for(state="detached")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"

    page.keyboard.press(key)
    page.keyboard.type("new doc")
    expect(palette.get_by_role("option")).to_have_count(1)
    assert palette.get_by_role("option").inner_text().startswith("New document")
    page.keyboard.press("Enter")
    page.get_by_role("textbox", name="Document text").wait_for()
    assert [d["title"] for d in rest(server, ada, "GET", "/documents")] == ["Untitled"]

    # The same key closes it again.
    page.keyboard.press(key)
    combobox.wait_for()
    page.keyboard.press(key)
    palette.wait_for(state="detached")
