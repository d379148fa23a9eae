"""The editor's one top bar and page, in real Chromium at desktop and phone sizes: the bar fits
one row, the title renames in place, the ⋯ and user menus, history as a full-screen sheet on a
phone, what the page shows when access ends, caret labels that do not cover each other, avatars
that read on every colour, and the guest's page. Screenshots of each state in both themes go to
test-artifacts/screenshots."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from docstream.client import DocStreamClient
from docstream.protocol.messages import color_for
from testkit.browser import (
    more_actions,
    new_account,
    open_document,
    rest,
    screenshot,
    sign_in,
    wait_saved,
)

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _resize(page: Any, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})


def _theme(page: Any, theme: str) -> None:
    page.evaluate(f"() => localStorage.setItem('docstream.theme', '{theme}')")


def _shared_doc(
    server: Any, owner: Any, *others: Any, role: str = "editor", title: str = "Plans"
) -> Any:
    doc = rest(server, owner, "POST", "/documents", {"title": title})
    for other in others:
        rest(
            server,
            owner,
            "POST",
            f"/documents/{doc['id']}/share",
            {"email": other.email, "role": role},
        )
    return doc


def _open(open_page: Any, server: Any, acc: Any, doc_id: str, size: str = "desktop") -> Any:
    w = open_page()
    _resize(w.page, size)
    sign_in(w.page, server, acc)
    open_document(w.page, server, doc_id)
    return w


def _no_horizontal_scroll(page: Any, size: str) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= SIZES[size][0]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_look_at_the_editor(open_page, server, size, theme):
    ada, bob, cy = (new_account(server, n) for n in ("Ada Lovelace", "Bob Builder", "Cy Young"))
    doc = _shared_doc(server, ada, bob, cy, title="Quarterly plans for the whole team")
    a = open_page()
    _resize(a.page, size)
    sign_in(a.page, server, ada)
    _theme(a.page, theme)
    open_document(a.page, server, doc["id"])
    a.page.locator(".cm-content").click()
    a.page.keyboard.type(
        "The plan. We ship the editor first, then the list.\n\nSecond paragraph of prose."
    )
    wait_saved(a.page)
    screenshot(a.page, f"shell-idle-{size}-{theme}")
    a.page.keyboard.press("Shift+Home")
    screenshot(a.page, f"shell-selection-{size}-{theme}")
    a.page.keyboard.press("End")
    others = []
    for acc, key in ((bob, "Control+Home"), (cy, "Control+End")):
        w = _open(open_page, server, acc, doc["id"])
        w.page.locator(".cm-content").click()
        w.page.keyboard.press(key)
        others.append(w)
    a.page.locator(".cm-remote-label").nth(1).wait_for()
    a.page.wait_for_timeout(300)
    screenshot(a.page, f"shell-collaborators-{size}-{theme}")
    a.page.get_by_role("button", name="More actions").click()
    screenshot(a.page, f"shell-more-menu-{size}-{theme}")
    a.page.keyboard.press("Escape")
    a.page.get_by_role("button", name="Ada Lovelace").click()
    screenshot(a.page, f"shell-user-menu-{size}-{theme}")
    a.page.keyboard.press("Escape")
    more_actions(a.page, "History")
    a.page.get_by_role("complementary", name="History").wait_for()
    screenshot(a.page, f"shell-history-{size}-{theme}")
    a.page.get_by_role("button", name="Close history").click()
    a.context.set_offline(True)
    a.page.wait_for_selector('.conn-status[data-state="offline"]')
    a.page.locator(".cm-content").click()
    a.page.keyboard.type(" offline words")
    screenshot(a.page, f"shell-offline-{size}-{theme}")
    a.context.set_offline(False)
    wait_saved(a.page, timeout=30_000)
    _no_horizontal_scroll(a.page, size)


def _contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""

    def lum(css: str) -> float:
        parts = [float(c) / 255 for c in css[css.index("(") + 1 : -1].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("size", SIZES)
def test_the_top_bar_fits_one_row(open_page, server, size):
    ada, bob, cy = (new_account(server, n) for n in ("Ada", "Bob Builder", "Cy Young"))
    title = "A very long document title that cannot possibly fit on a phone"
    doc = _shared_doc(server, ada, bob, cy, title=title)
    c = _open(open_page, server, cy, doc["id"])
    b = _open(open_page, server, bob, doc["id"], size)
    page = b.page
    wait_saved(page)
    page.locator(".presence").get_by_role("button").first.wait_for()
    bar = page.locator(".editor-bar")
    box = bar.bounding_box()
    assert box is not None and box["height"] <= 60, box
    width = SIZES[size][0]
    for part in bar.locator(".bar-start > *, .bar-end > *").all():
        if part.is_visible():
            r = part.bounding_box()
            assert r is not None and r["x"] >= 0 and r["x"] + r["width"] <= width, part
            assert r["y"] >= box["y"] and r["y"] + r["height"] <= box["y"] + box["height"]
    # Not the owner: the role chip says what Bob may do. Editors may rename.
    assert page.locator(".role-chip").inner_text() == "Editor"
    assert page.get_by_role("button", name=f"{title}: rename").is_visible()
    status = page.locator(".conn-status")
    assert status.get_attribute("title").startswith("All changes saved")
    assert page.get_by_role("button", name="Share").is_visible()
    heading = page.locator(".doc-heading .title-text")
    cut = heading.evaluate("el => el.scrollWidth > el.clientWidth")
    if size == "phone":
        # The title is cut with an ellipsis, the indicator is its dot, the people are a count.
        assert cut
        assert status.bounding_box()["width"] <= 40
        assert page.get_by_role("button", name="People here: 1").is_visible()
    else:
        assert page.get_by_role("button", name="Cy Young: go to their cursor").is_visible()
        assert "All changes saved" in status.inner_text()
    _no_horizontal_scroll(page, size)
    screenshot(page, f"shell-bar-editor-{size}")
    c.page.close()


def test_the_title_is_renamed_in_place_by_those_allowed_to(open_page, server):
    ada, vic = new_account(server, "Ada"), new_account(server, "Vic")
    doc = _shared_doc(server, ada, vic, role="viewer", title="Draft")
    page = _open(open_page, server, ada, doc["id"]).page
    wait_saved(page)
    page.get_by_role("button", name="Draft: rename").click()
    field = page.get_by_role("textbox", name="Document title")
    field.fill("Thrown away")
    field.press("Escape")
    page.get_by_role("button", name="Draft: rename").wait_for()
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["title"] == "Draft"
    page.get_by_role("button", name="Draft: rename").click()
    field.fill("Final plan")
    field.press("Enter")
    page.get_by_role("button", name="Final plan: rename").wait_for()
    assert page.evaluate("() => document.activeElement.classList.contains('title-button')")
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["title"] == "Final plan"
    page.wait_for_function("() => document.title.startsWith('Final plan')")
    # A viewer sees the title as text: nothing to click.
    v = _open(open_page, server, vic, doc["id"]).page
    v.locator(".doc-heading", has_text="Final plan").wait_for()
    assert v.locator(".doc-heading button").count() == 0
    assert v.locator(".role-chip").inner_text() == "View only"


def test_a_live_role_change_is_what_the_document_opens_with_offline(open_page, server):
    ada, vic = new_account(server, "Ada"), new_account(server, "Vic")
    doc = _shared_doc(server, ada, vic, role="editor", title="Roles")
    page = _open(open_page, server, vic, doc["id"]).page
    wait_saved(page)
    cached = f"() => JSON.parse(localStorage.getItem('docstream.doc.{doc['id']}') || '{{}}').role"
    page.wait_for_function(f"() => ({cached})() === 'editor'")
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": vic.email, "role": "viewer"}
    )
    page.locator(".role-chip", has_text="View only").wait_for()
    # The device's copy follows, so an offline visit opens read-only, not as an editor.
    page.wait_for_function(f"() => ({cached})() === 'viewer'")


def test_the_more_menu_exports_switches_to_monospace_and_deletes(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Menu"})
    page = _open(open_page, server, ada, doc["id"]).page
    page.locator(".cm-content").click()
    page.keyboard.type("Some words.")
    wait_saved(page)
    with page.expect_download() as download:
        more_actions(page, "Export .md")
    assert download.value.suggested_filename == "Menu.md"
    # Monospace is per document, kept on this device.
    more_actions(page, "Monospace font")
    family = "() => getComputedStyle(document.querySelector('.cm-scroller')).fontFamily"
    assert "mono" in page.evaluate(family).lower()
    page.reload()
    page.locator(".cm-content").wait_for()
    assert "mono" in page.evaluate(family).lower()
    more_actions(page, "Monospace font")
    assert "mono" not in page.evaluate(family).lower()
    # The keyboard shortcuts entry opens the shortcut help.
    more_actions(page, "Keyboard shortcuts")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    page.keyboard.press("Escape")
    help_dialog.wait_for(state="hidden")
    more_actions(page, "Dark theme")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    more_actions(page, "Move to trash")
    page.get_by_role("heading", name="Documents").wait_for()
    assert rest(server, ada, "GET", "/documents") == []
    assert len(rest(server, ada, "GET", "/trash")) == 1


@pytest.mark.parametrize("size", SIZES)
def test_the_user_menu_is_the_same_on_the_list_and_in_the_editor(open_page, server, size):
    ada = new_account(server, "Ada Lovelace")
    doc = rest(server, ada, "POST", "/documents", {"title": "Mine"})
    w = open_page()
    page = w.page
    _resize(page, size)
    sign_in(page, server, ada)
    for where in ("list", "editor"):
        if where == "editor":
            open_document(page, server, doc["id"])
            wait_saved(page)
            assert not page.locator(".app-header").is_visible()
        page.get_by_role("button", name="Ada Lovelace").click()
        menu = page.get_by_role("menu", name="Your account: Ada Lovelace")
        for item in ("Account", "Change name", "API tokens", "Sign out"):
            assert menu.get_by_role("menuitem", name=item).is_visible()
        screenshot(page, f"shell-user-menu-{where}-{size}")
        menu.get_by_role("menuitemcheckbox", name="Theme: Dark").click()
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        page.get_by_role("button", name="Ada Lovelace").click()
        menu.get_by_role("menuitemcheckbox", name="Theme: Light").click()
        assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
        _no_horizontal_scroll(page, size)
    page.get_by_role("button", name="Ada Lovelace").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to DocStream").wait_for()


# Defects, each at desktop and phone size.


@pytest.mark.parametrize("size", SIZES)
def test_history_on_a_phone_is_a_full_screen_sheet_and_the_text_is_not_squeezed(
    open_page, server, size
):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "History"})
    page = _open(open_page, server, ada, doc["id"], size).page
    page.locator(".cm-content").click()
    page.keyboard.type("A paragraph that must stay readable while the history is open.")
    wait_saved(page)
    width, height = SIZES[size]
    more_actions(page, "History")
    panel = page.get_by_role("complementary", name="History")
    panel.wait_for()
    box = panel.bounding_box()
    text = page.locator(".cm-content").bounding_box()
    assert box is not None and text is not None
    behind = "el => el.closest('[inert]') !== null"
    if size == "phone":
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, width, height), box
        # The sheet is all there is: what it covers is inert (Tab stays in it).
        assert page.locator(".cm-content").evaluate(behind)
        assert page.get_by_role("button", name="More actions").evaluate(behind)
    else:
        assert not page.locator(".cm-content").evaluate(behind)
        assert box["width"] <= 400 and text["width"] >= 600, (box, text)
    _no_horizontal_scroll(page, size)
    screenshot(page, f"history-sheet-{size}")
    panel.get_by_role("button", name="Close history").click()
    panel.wait_for(state="detached")
    assert page.locator(".cm-content").bounding_box()["width"] >= min(width, 760)
    assert (
        page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "More actions"
    )


@pytest.mark.parametrize("size", SIZES)
def test_when_access_is_revoked_the_page_says_so_and_nothing_stays_editable(
    open_page, server, size
):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared_doc(server, ada, bob, role="editor", title="Secret")
    page = _open(open_page, server, bob, doc["id"], size).page
    wait_saved(page)
    chip = page.locator(".role-chip")
    share = page.get_by_role("button", name="Share")
    assert chip.inner_text() == "Editor" and share.is_enabled()
    rest(server, ada, "DELETE", f"/documents/{doc['id']}/share/{bob.id}")
    page.get_by_text("Your access to this document was removed.").wait_for()
    assert chip.inner_text() == "No access"
    assert share.is_disabled()
    assert page.locator(".cm-content").get_attribute("aria-readonly") == "true"
    assert page.locator(".doc-heading button").count() == 0
    page.get_by_role("button", name="More actions").click()
    menu = page.get_by_role("menu", name="More actions")
    for item in ("Export .txt", "Export .md"):
        assert menu.get_by_role("menuitem", name=item).get_attribute("aria-disabled") == "true"
    history = menu.get_by_role("menuitemcheckbox", name="History")
    assert history.get_attribute("aria-disabled") == "true"
    assert menu.get_by_role("menuitem", name="Move to trash").count() == 0
    assert menu.get_by_role("menuitem", name="Duplicate").count() == 0
    screenshot(page, f"access-revoked-{size}")
    _no_horizontal_scroll(page, size)


def _account_with_colour(server: Any, name: str, colour: str) -> Any:
    """A new account whose protocol colour (from its random id) is `colour`."""
    for _ in range(200):
        acc = new_account(server, name)
        if color_for(acc.id) == colour:
            return acc
    raise AssertionError(f"no account got {colour}")


#: The palette's lightest colours: white text fails contrast on them.
YELLOW, CYAN = "#ECE513", "#06B6D4"


def _three_people(
    open_page: Any,
    server: Any,
    size: str,
    names: tuple[str, str],
    colours: tuple[str, str] | None = None,
) -> Any:
    """Ada's page at `size`, with two other people whose carets are at the document's start."""
    ada = new_account(server, "Ada")
    if colours:
        others = [_account_with_colour(server, n, c) for n, c in zip(names, colours, strict=True)]
    else:
        others = [new_account(server, n) for n in names]
    doc = _shared_doc(server, ada, *others, title="Together")
    a = _open(open_page, server, ada, doc["id"], size)
    a.page.locator(".cm-content").click()
    a.page.keyboard.type("Everyone starts reading here.")
    wait_saved(a.page)
    for acc in others:
        w = _open(open_page, server, acc, doc["id"])
        w.page.locator(".cm-content").click()
        w.page.keyboard.press("Control+Home")
    a.page.locator(".cm-remote-label").nth(1).wait_for()
    a.page.wait_for_timeout(400)  # a frame or two for the labels to be measured and moved
    return a.page


@pytest.mark.parametrize("size", SIZES)
def test_caret_labels_at_the_same_place_do_not_cover_each_other(open_page, server, size):
    page = _three_people(open_page, server, size, ("Bob Builder", "Cy Young"), (YELLOW, CYAN))
    boxes = [label.bounding_box() for label in page.locator(".cm-remote-label").all()]
    assert len(boxes) == 2
    one, two = boxes
    apart = (
        one["x"] + one["width"] <= two["x"]
        or two["x"] + two["width"] <= one["x"]
        or one["y"] + one["height"] <= two["y"]
        or two["y"] + two["height"] <= one["y"]
    )
    assert apart, boxes
    for label in page.locator(".cm-remote-label").all():
        fg, bg = label.evaluate(
            "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
        )
        assert _contrast(fg, bg) >= 4.5, (label.inner_text(), fg, bg)
    screenshot(page, f"caret-labels-{size}")
    _no_horizontal_scroll(page, size)


@pytest.mark.parametrize("size", SIZES)
def test_avatars_fit_their_initials_and_read_on_every_colour(open_page, server, size):
    # Light colours on purpose: the old white initials were unreadable on them.
    page = _three_people(
        open_page, server, size, ("Wolfgang Amadeus Mozart", "Mmm Www"), (YELLOW, CYAN)
    )
    if size == "phone":
        page.get_by_role("button", name="People here: 2").click()
        menu = page.get_by_role(
            "menu", name="2 other people here: Wolfgang Amadeus Mozart, Mmm Www"
        )
        assert menu.get_by_role("menuitem", name="Go to Mmm Www").is_visible()
        page.keyboard.press("Escape")
    avatars = page.locator(".avatar").all()
    assert len(avatars) >= 3  # the two people here and the user menu's
    for av in avatars:
        got = av.evaluate("""el => {
            const r = el.getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(el);
            const t = range.getBoundingClientRect();
            const s = getComputedStyle(el);
            return {text: el.textContent, color: s.color, bg: s.backgroundColor,
                    inside: t.width === 0 || (t.left >= r.left && t.right <= r.right
                            && t.top >= r.top - 1 && t.bottom <= r.bottom + 1)};
        }""")
        assert len(got["text"]) <= 2, got
        assert got["inside"], got
        assert _contrast(got["color"], got["bg"]) >= 4.5, got
    screenshot(page, f"avatars-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_guest_page_fills_the_screen_and_offers_sign_in(open_page, server, size):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Public"})
    public = rest(
        server,
        ada,
        "POST",
        f"/documents/{doc['id']}/share/public",
        {"enabled": True, "role": "editor"},
    )
    page = open_page().page
    _resize(page, size)
    page.goto(f"{server.url}{public['link_path']}")
    page.locator(".cm-content").wait_for()
    wait_saved(page)
    height = SIZES[size][1]
    bottom = page.evaluate(
        "() => document.querySelector('.editor-page').getBoundingClientRect().bottom"
    )
    assert bottom == height
    assert page.evaluate("() => document.documentElement.scrollHeight") == height
    # Nothing to go back to: no link to a document list, a way to sign in instead.
    assert page.locator('a[href="/"]:visible').count() == 0
    assert page.get_by_role("link", name="Documents").count() == 0
    sign_in_link = page.get_by_role("link", name="Sign in")
    assert sign_in_link.is_visible()
    assert page.locator(".user-box").inner_text().startswith("Guest")
    _no_horizontal_scroll(page, size)
    screenshot(page, f"guest-{size}")
    sign_in_link.click()
    page.get_by_role("heading", name="Sign in to DocStream").wait_for()


_LABEL_IN_VIEW = """() => {
    const l = document.querySelector('.cm-remote-label');
    const s = document.querySelector('.cm-scroller');
    if (!l) return false;
    const r = l.getBoundingClientRect(), v = s.getBoundingClientRect();
    return r.top >= v.top && r.bottom <= v.bottom;
}"""


@pytest.mark.parametrize("size", SIZES)
def test_a_click_on_a_person_scrolls_to_their_cursor(open_page, server, size):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared_doc(server, ada, bob, title="Long")
    page = _open(open_page, server, ada, doc["id"], size).page
    page.locator(".cm-content").click()
    page.keyboard.insert_text("\n".join(f"Line {i} of a long document." for i in range(120)))
    wait_saved(page)
    b = _open(open_page, server, bob, doc["id"]).page
    b.locator(".cm-content").click()
    b.keyboard.press("Control+End")
    label = page.locator(".cm-remote-label", has_text="Bob")
    label.wait_for(state="attached")
    page.keyboard.press("Control+Home")
    page.evaluate("() => { document.querySelector('.cm-scroller').scrollTop = 0 }")
    page.wait_for_timeout(100)
    assert not page.evaluate(_LABEL_IN_VIEW)
    if size == "phone":
        page.get_by_role("button", name="People here: 1").click()
        page.get_by_role("menuitem", name="Go to Bob").click()
    else:
        page.get_by_role("button", name="Bob: go to their cursor").click()
    page.wait_for_function(_LABEL_IN_VIEW)


class _Peers:
    """People in the document through the Python client (lighter than a browser each), on an
    event loop of their own beside Playwright's synchronous API."""

    def __init__(self, server: Any) -> None:
        self.url = server.url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.open: list[tuple[Any, Any]] = []

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def join(self, acc: Any, doc_id: str) -> None:
        async def go() -> None:
            client = DocStreamClient(self.url, access_token=acc.token)
            doc = client.open(doc_id)
            await doc.start()
            doc.set_cursor(0)
            self.open.append((client, doc))

        self._run(go())

    def close(self) -> None:
        async def go() -> None:
            for client, doc in self.open:
                await doc.close()
                await client.aclose()

        self._run(go())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.mark.parametrize("size", SIZES)
def test_more_people_than_fit_collapse_and_twins_in_colour_differ(open_page, server, size):
    ada = new_account(server, "Ada")
    names = ["Pat One", "Pat Two", "Pat Three", "Pat Four", "Pat Five"]
    people = [_account_with_colour(server, n, YELLOW) for n in names[:2]]
    people += [new_account(server, n) for n in names[2:]]
    doc = _shared_doc(server, ada, *people, title="Crowd")
    page = _open(open_page, server, ada, doc["id"], size).page
    wait_saved(page)
    peers = _Peers(server)
    try:
        for acc in people:
            peers.join(acc, doc["id"])
        if size == "phone":
            count = page.get_by_role("button", name="People here: 5")
            count.click()
            menu = page.get_by_role("menu", name="5 other people here: " + ", ".join(names))
            assert menu.get_by_role("menuitem").count() == 5
        else:
            # Three avatars and "+2" (four would fit, but not four and the "+N").
            more = page.get_by_role("button", name="+2 more people")
            more.wait_for()
            assert page.locator(".avatar-button").count() == 3
            more.click()
            menu = page.get_by_role("menu", name="2 more: Pat Four, Pat Five")
            assert menu.get_by_role("menuitem", name="Go to Pat Five").is_visible()
            # The two yellow people: the second gets a ring, so the avatars differ.
            first, second = page.locator(".avatar-button .avatar").all()[:2]
            assert first.get_attribute("data-twin") is None
            assert second.get_attribute("data-twin") == ""
        screenshot(page, f"presence-crowd-{size}")
        _no_horizontal_scroll(page, size)
    finally:
        peers.close()
