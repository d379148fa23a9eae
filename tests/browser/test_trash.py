"""The trash, leaving, duplicating and handing over, in the browser, at desktop and phone sizes.

Move to trash from the list (Undo from the toast), the Trash page (Restore, Delete forever and
Empty trash, each confirmed), Duplicate from the editor's ⋯ menu, Leave from the list, and Make
owner from the share dialog.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from testkit.browser import (
    SIZES,
    editor_text,
    more_actions,
    new_account,
    open_document,
    rest,
    screenshot,
    set_size,
    sign_in,
    wait_saved,
)


def _fits(page: Any, size: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SIZES[size][0], f"the page scrolls sideways at {size}: {width}px"


def _row_action(page: Any, title: str, item: str) -> None:
    page.get_by_role("button", name=f"Actions for {title}").click()
    page.get_by_role("menu", name=f"Actions for {title}").get_by_role("menuitem", name=item).click()


@pytest.mark.parametrize("size", SIZES)
def test_trash_undo_restore_delete_forever_and_empty(open_page, server, size):
    ada = new_account(server, "Ada")
    for title in ("Old notes", "Draft", "Spare", "Keep"):
        rest(server, ada, "POST", "/documents", {"title": title})
    page = open_page().page
    set_size(page, size)
    sign_in(page, server, ada)
    page.get_by_role("link", name="Old notes").wait_for()

    # Move to trash, then Undo from the toast.
    _row_action(page, "Keep", "Move to trash")
    page.get_by_role("link", name="Keep").wait_for(state="detached")
    page.get_by_text("Moved “Keep” to the trash.").wait_for()
    page.get_by_role("button", name="Undo").click()
    page.get_by_role("link", name="Keep").wait_for()  # back through the live list
    assert rest(server, ada, "GET", "/trash") == []

    for title in ("Old notes", "Draft", "Spare"):
        _row_action(page, title, "Move to trash")
        page.get_by_role("link", name=title).wait_for(state="detached")
    page.get_by_role("link", name="Trash").click()
    page.get_by_role("heading", name="Trash").wait_for()
    rows = page.locator(".trash-item")
    rows.nth(2).wait_for()
    assert [t.strip() for t in page.locator(".trash-item .trash-title").all_inner_texts()] == [
        "Spare",
        "Draft",
        "Old notes",
    ]
    assert rows.first.locator(".trash-left").inner_text() == "30 days left"
    screenshot(page, f"trash-{size}")
    _fits(page, size)

    # Restore by keyboard.
    page.get_by_role("button", name="Restore Old notes").focus()
    page.keyboard.press("Enter")
    page.get_by_text("“Old notes” is back in your documents.").wait_for()
    page.wait_for_function("() => document.querySelectorAll('.trash-item').length === 2")
    assert {d["title"] for d in rest(server, ada, "GET", "/documents")} == {"Old notes", "Keep"}

    # Delete forever asks first.
    page.get_by_role("button", name="Delete Draft forever").click()
    dialog = page.get_by_role("dialog", name="Delete forever?")
    dialog.get_by_role("button", name="Cancel").click()
    assert rows.count() == 2
    page.get_by_role("button", name="Delete Draft forever").click()
    dialog.get_by_role("button", name="Delete forever").click()
    page.get_by_text("“Draft” was deleted for good.").wait_for()
    page.wait_for_function("() => document.querySelectorAll('.trash-item').length === 1")

    # Empty trash asks first too.
    page.get_by_role("button", name="Empty trash").click()
    page.get_by_role("dialog", name="Empty the trash?").get_by_role(
        "button", name="Empty trash"
    ).click()
    page.get_by_text("The trash is empty").wait_for()
    assert rest(server, ada, "GET", "/trash") == []
    assert page.get_by_role("button", name="Empty trash").is_hidden()
    screenshot(page, f"trash-empty-{size}")
    _fits(page, size)

    # A reload of /trash shows the page (the API answers JSON only when asked for JSON).
    page.reload()
    page.get_by_role("heading", name="Trash").wait_for()
    page.get_by_role("link", name="Documents").click()
    page.get_by_role("heading", name="Documents").wait_for()


@pytest.mark.parametrize("size", SIZES)
def test_duplicate_from_the_editor_and_leave_from_the_list(open_page, server, size):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Recipe"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "viewer"}
    )
    owner = open_page().page
    sign_in(owner, server, ada)
    open_document(owner, server, doc["id"])
    owner.get_by_role("textbox", name="Document text").click()
    owner.keyboard.type("flour and water")
    wait_saved(owner)

    page = open_page().page
    set_size(page, size)
    sign_in(page, server, bob)
    open_document(page, server, doc["id"])
    more_actions(page, "Duplicate")
    page.get_by_text("Opened “Copy of Recipe”.").wait_for()
    page.wait_for_function("() => location.pathname !== '/d/" + doc["id"] + "'")
    page.locator(".cm-content").wait_for()
    wait_saved(page)
    page.wait_for_function(
        "() => window.__docstream.editor()?.debug.view.state.doc.toString() === 'flour and water'"
    )
    assert editor_text(page) == "flour and water"
    mine = {d["title"]: d["role"] for d in rest(server, bob, "GET", "/documents")}
    assert mine == {"Recipe": "viewer", "Copy of Recipe": "owner"}

    page.get_by_role("link", name="DocStream").click()
    page.get_by_role("link", name="Recipe", exact=True).wait_for()
    _row_action(page, "Recipe", "Leave")
    dialog = page.get_by_role("dialog", name="Leave this document?")
    assert "lose your access" in dialog.inner_text()
    screenshot(page, f"leave-confirm-{size}")
    dialog.get_by_role("button", name="Leave").click()
    page.get_by_role("link", name="Recipe", exact=True).wait_for(state="detached")
    page.get_by_text("You left “Recipe”.").wait_for()
    assert [d["title"] for d in rest(server, bob, "GET", "/documents")] == ["Copy of Recipe"]
    _fits(page, size)


def test_make_owner_from_the_share_dialog(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Handbook"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    page.get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog", name="Share “Handbook”")
    role = dialog.get_by_role("combobox", name="Role of Bob")
    role.select_option("owner")
    confirm = page.get_by_role("dialog", name="Make Bob the owner?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(role).to_have_value("editor")  # put back once the confirmation has closed
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["role"] == "owner"
    role.select_option("owner")
    confirm.get_by_role("button", name="Make owner").click()
    page.get_by_text("Bob is now the owner; you can still edit.").wait_for()
    # The live role reaches the open editor: Ada is an editor now.
    page.locator(".role-chip", has_text="Editor").first.wait_for()
    assert rest(server, bob, "GET", f"/documents/{doc['id']}")["role"] == "owner"
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["role"] == "editor"
