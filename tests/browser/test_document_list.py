"""The document list: rows that say whose document it is, who edited it last and what you may do
with it; the All / Owned by me / Shared with me filter and the remembered sort; the row menu; a
search that filters the rows by word prefix and marks the match; the empty state and the
one-click "New document". At desktop and phone sizes, where nothing may scroll sideways."""

from __future__ import annotations

import re
from typing import Any

import pytest

from testkit.browser import new_account, rest, screenshot, sign_in, wait_new_document

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
ROADMAP = "Roadmap for a very long quarter of work"


def _open_list(open_page: Any, server: Any, acc: Any, size: str, theme: str = "light") -> Any:
    page = open_page().page
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.emulate_media(color_scheme=theme)
    sign_in(page, server, acc)
    return page


def _assert_fits(page: Any) -> None:
    """No sideways scrolling, and every row (and an open menu) inside the viewport."""
    fits = page.evaluate("""() => {
        const width = window.innerWidth;
        const outside = [...document.querySelectorAll('.doc-item, .menu:not([hidden])')]
            .map(el => el.getBoundingClientRect())
            .filter(r => r.left < 0 || r.right > width)
            .map(r => [r.left, r.right]);
        return {scroll: document.scrollingElement.scrollWidth, width, outside};
    }""")
    assert fits["scroll"] <= fits["width"], fits
    assert fits["outside"] == [], fits


def _titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".doc-item .doc-title").all_inner_texts()]


def _shared_documents(server: Any) -> Any:
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    rest(server, ada, "POST", "/documents", {"title": "Team notes"})
    for title, role in (("Budget", "editor"), (ROADMAP, "viewer")):
        doc = rest(server, bob, "POST", "/documents", {"title": title})
        share = {"email": ada.email, "role": role}
        rest(server, bob, "POST", f"/documents/{doc['id']}/share", share)
    return ada


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_rows_show_owner_last_edit_and_role_and_fit_the_screen(open_page, server, size, theme):
    ada = _shared_documents(server)
    page = _open_list(open_page, server, ada, size, theme)
    rows = page.locator(".doc-item")
    rows.nth(2).wait_for()
    own = rows.filter(has_text="Team notes")
    assert own.locator(".doc-owner").inner_text() == "You"
    assert own.locator(".role-chip").inner_text() == "Owner"
    assert rows.filter(has_text="Budget").locator(".role-chip").inner_text() == "Editor"
    assert rows.filter(has_text="Roadmap").locator(".role-chip").inner_text() == "View only"
    if "owner_name" in rest(server, ada, "GET", "/documents")[0]:
        assert rows.filter(has_text="Budget").locator(".doc-owner").inner_text() == "Bob"
    assert re.match(r"^Edited (just now|\d+ min ago)", own.locator(".doc-edited").inner_text())
    screenshot(page, f"list-roles-{size}-{theme}")
    _assert_fits(page)

    # Keyboard: from the sort to the first row's title, its actions, then the next row.
    page.get_by_label("Sort by").focus()
    page.keyboard.press("Tab")
    focused = "() => document.activeElement.closest('.doc-item')?.dataset.docId ?? null"
    assert page.evaluate(focused) == rows.nth(0).get_attribute("data-doc-id")
    screenshot(page, f"list-keyboard-focus-{size}-{theme}")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('row-menu')")
    assert page.evaluate(focused) == rows.nth(0).get_attribute("data-doc-id")
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == rows.nth(1).get_attribute("data-doc-id")

    # Row actions live in a menu: Rename, Duplicate and Move to trash for the owner; Rename,
    # Duplicate and Leave for an editor; Duplicate and Leave for a viewer.
    page.get_by_role("button", name="Actions for Team notes").focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Actions for Team notes")
    items = menu.get_by_role("menuitem").all_inner_texts()
    assert items == ["Rename", "Duplicate", "Move to trash"]
    assert menu.get_by_role("menuitem", name="Rename").evaluate(
        "el => el === document.activeElement"
    )
    screenshot(page, f"list-row-menu-{size}-{theme}")
    _assert_fits(page)
    page.keyboard.press("Escape")
    assert menu.is_hidden()
    page.get_by_role("button", name="Actions for Budget").click()
    assert page.get_by_role("menu", name="Actions for Budget").get_by_role(
        "menuitem"
    ).all_inner_texts() == ["Rename", "Duplicate", "Leave"]
    page.keyboard.press("Escape")
    page.get_by_role("button", name=re.compile("^Actions for Roadmap")).click()
    assert page.get_by_role("menu", name=re.compile("^Actions for Roadmap")).get_by_role(
        "menuitem"
    ).all_inner_texts() == ["Duplicate", "Leave"]
    page.keyboard.press("Escape")


def test_the_filter_shows_owned_or_shared_documents_and_the_sort_is_remembered(open_page, server):
    ada = _shared_documents(server)
    page = _open_list(open_page, server, ada, "desktop")
    page.locator(".doc-item").nth(2).wait_for()
    assert _titles(page)[0] == ROADMAP  # edited last

    show = page.get_by_role("group", name="Show")
    show.get_by_role("button", name="Shared with me").click()
    assert show.get_by_role("button", name="Shared with me").get_attribute("aria-pressed") == "true"
    assert sorted(_titles(page)) == ["Budget", ROADMAP]
    show.get_by_role("button", name="Owned by me").click()
    assert _titles(page) == ["Team notes"]
    show.get_by_role("button", name="All").click()

    page.get_by_label("Sort by").select_option(label="Title")
    assert _titles(page) == ["Budget", ROADMAP, "Team notes"]
    page.reload()
    page.locator(".doc-item").nth(2).wait_for()
    assert page.get_by_label("Sort by").input_value() == "title"
    assert _titles(page) == ["Budget", ROADMAP, "Team notes"]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_search_matches_any_word_filters_the_rows_and_marks_the_match(
    open_page, server, size, theme
):
    ada = new_account(server, "Ada")
    for title in ("Team notes", "Notebook", "Footnotes", "Recipes"):
        rest(server, ada, "POST", "/documents", {"title": title})
    page = _open_list(open_page, server, ada, size, theme)
    page.get_by_role("link", name="Recipes").wait_for()

    search = page.get_by_role("combobox", name="Search documents by title")
    search.fill("notes")
    # The rows are filtered at once: a word that starts with "notes", not "Footnotes".
    assert _titles(page) == ["Team notes"]
    assert page.locator(".doc-item mark").all_inner_texts() == ["notes"]
    option = page.get_by_role("option", name="Team notes")
    option.wait_for()
    assert option.locator("mark").inner_text() == "notes"
    page.locator("[role=listbox]:not([aria-busy])").wait_for()  # the server's answer is in
    # "Notebook" is one typo away: the server offers it, but not while something matches as typed.
    assert page.get_by_role("listbox").get_by_role("option").all_inner_texts() == ["Team notes"]
    mark_colours = page.locator(".doc-item mark").evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
    )
    assert mark_colours[0] != mark_colours[1]
    screenshot(page, f"list-search-{size}-{theme}")
    _assert_fits(page)

    search.fill("NO")
    page.get_by_role("option", name="Notebook").wait_for()
    assert sorted(_titles(page)) == ["Notebook", "Team notes"]
    search.fill("tema")  # a typo: nothing matches as typed, so the server's near match is offered
    page.locator("[role=listbox]:not([aria-busy])").wait_for()
    assert page.get_by_role("listbox").get_by_role("option").all_inner_texts() == ["Team notes"]
    search.fill("zzz")
    page.get_by_text("No documents match “zzz”.").wait_for()
    search.press("Escape")  # closes the suggestions
    search.press("Escape")  # clears the search
    assert search.input_value() == ""
    assert len(_titles(page)) == 4


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_an_empty_list_invites_to_create_and_new_document_opens_it(open_page, server, size, theme):
    ada = new_account(server, "Ada")
    page = _open_list(open_page, server, ada, size, theme)
    empty = page.get_by_role("region", name="No documents yet")
    empty.wait_for()
    assert page.get_by_role("combobox").count() == 0  # nothing to search or filter yet
    screenshot(page, f"list-empty-{size}-{theme}")
    _assert_fits(page)

    page.get_by_role("button", name="New document").click()  # one click, no title asked
    page.wait_for_url(re.compile(r"/d/[^/?]+(\?new=1)?$"))
    wait_new_document(page)
    assert [d["title"] for d in rest(server, ada, "GET", "/documents")] == ["Untitled"]
