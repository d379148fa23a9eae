"""Full-text search in the browser: the search page and the Ctrl+K palette, at desktop and phone
sizes, light and dark: results with their matches marked, keyboard navigation, axe clean, another
person's document never shown, and a document holding markup shown as text.

The documents are imported (``POST /documents/import``) with their text, so the server indexes
them as it indexes any new document (about a second later).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from testkit.browser import (
    SIZES,
    THEMES,
    axe_violations,
    describe_violations,
    new_account,
    rest,
    screenshot,
    set_size,
    set_theme,
    sign_in,
)

WORD = "heliotrope"


def _import(server: Any, acc: Any, name: str, text: str) -> str:
    data = base64.b64encode(text.encode()).decode()
    doc: dict[str, Any] = rest(
        server, acc, "POST", "/documents/import", {"name": name, "data": data}
    )
    return str(doc["id"])


def _indexed(server: Any, acc: Any, q: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(rest(server, acc, "GET", f"/search?q={q}")["results"]) < count:
        assert time.monotonic() < deadline, f"{q!r} was not indexed"
        time.sleep(0.2)


def _fits(page: Any, size: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SIZES[size][0], f"the page scrolls sideways at {size}: {width}px"


@pytest.fixture
def people(server):
    ada = new_account(server, "Ada")
    bob = new_account(server, "Bob")
    mine = [
        _import(
            server,
            ada,
            "Garden plans.txt",
            "Spring planting list.\n\nThe " + WORD + " goes by the south wall, next to the "
            "lavender; water the " + WORD + "s twice a week until they flower in June.",
        ),
        _import(
            server,
            ada,
            "Perfume notes.md",
            "# Notes\n\nA sweet " + WORD + " accord, with vanilla and almond.",
        ),
        _import(
            server,
            ada,
            "Markup test.txt",
            f'{WORD} <img src=x onerror="window.__xss=1"> <b>bold?</b>',
        ),
    ]
    theirs = _import(server, bob, f"Bob {WORD} secrets.txt", f"Bob's private {WORD} diary.")
    _indexed(server, ada, WORD, 3)
    _indexed(server, bob, WORD, 1)
    return ada, bob, mine, theirs


@pytest.mark.parametrize("size", SIZES)
def test_the_search_page_lists_marks_and_opens_results_by_keyboard(open_page, server, people, size):
    ada, _bob, mine, theirs = people
    page = open_page().page
    set_size(page, size)
    sign_in(page, server, ada)
    page.goto(f"{server.url}/search?q={WORD}")
    page.get_by_role("heading", name="Search").wait_for()
    results = page.get_by_role("list", name="Search results").get_by_role("link")
    results.nth(2).wait_for()
    assert results.count() == 3
    ids = page.locator(".search-item").evaluate_all("els => els.map(e => e.dataset.docId)")
    assert sorted(ids) == sorted(mine) and theirs not in ids
    assert "Bob" not in page.locator("main").inner_text()  # another person's document, never
    marks = page.locator(".search-snippet mark").all_inner_texts()
    assert marks and all(m.lower().startswith(WORD) for m in marks)
    # Markup in a document is text: shown as typed, never run.
    markup = page.locator(".search-item", has_text="Markup test")
    assert '<img src=x onerror="window.__xss=1">' in markup.locator(".search-snippet").inner_text()
    assert page.evaluate("() => window.__xss") is None
    found = page.get_by_role("status").filter(has_text="found")  # (the bell has a status too)
    assert found.inner_text() == "3 documents found"
    for theme in THEMES:
        set_theme(page, theme)
        screenshot(page, f"search-{size}-{theme}")
    _fits(page, size)
    found = axe_violations(page)
    assert not found, describe_violations(f"search ({size})", found)

    # Keyboard: from the box down through the results, back up, and Enter opens one.
    box = page.get_by_role("searchbox")
    box.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.classList.contains('search-hit')")
    page.keyboard.press("ArrowDown")
    second = page.evaluate("() => document.activeElement.closest('li').dataset.docId")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("() => document.activeElement.getAttribute('type')") == "search"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/d/{second}")

    # Typing a new query updates the results and the address.
    page.goto(f"{server.url}/search")
    page.get_by_role("searchbox").fill("vanilla almond")
    page.get_by_role("status").filter(has_text="1 document found").wait_for()
    assert page.url.endswith("/search?q=vanilla+almond")
    page.get_by_role("searchbox").fill("nothingmatchesthis")
    page.get_by_role("status").filter(has_text="No document you can open contains").wait_for()


def test_the_palette_finds_documents_by_their_text(open_page, server, people):
    ada, _bob, mine, _theirs = people
    page = open_page().page
    sign_in(page, server, ada)
    page.get_by_role("link", name="Garden plans").wait_for()
    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox", name="Search documents and commands")
    box.fill("lavender")  # in the text of "Garden plans" only, not in any title
    option = page.get_by_role("option").filter(has_text="Garden plans")
    option.wait_for()
    assert option.locator(".palette-snippet mark").inner_text() == "lavender"
    page.get_by_role("option", name="Search all documents for “lavender”").wait_for()
    for size in SIZES:
        set_size(page, size)
        screenshot(page, f"palette-search-{size}-light")
        found = axe_violations(page)
        assert not found, describe_violations(f"palette search ({size})", found)
    set_size(page, "desktop")

    box.fill(WORD)
    page.get_by_role("option").filter(has_text="Markup test").wait_for()
    texts = page.get_by_role("option").all_inner_texts()
    assert not any("Bob" in t for t in texts), texts  # another person's document, never
    assert page.evaluate("() => window.__xss") is None
    # The search page with the query, from the palette.
    page.get_by_role("option", name=f"Search all documents for “{WORD}”").click()
    page.wait_for_url(f"**/search?q={WORD}")
    page.get_by_role("list", name="Search results").get_by_role("link").nth(2).wait_for()
    assert len(mine) == 3
