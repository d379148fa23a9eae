"""The audit log in the browser: an owner opens Activity from the ⋯ menu after sharing and reads
who did what, when and from where; an administrator opens the Audit log from the user menu,
filters it and exports the same filters as CSV; someone else gets a refusal. At desktop
(1280x800) and phone (390x844) sizes, in both themes, with screenshots."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from testkit.browser import (
    SIZES,
    make_admin,
    more_actions,
    new_account,
    open_document,
    rest,
    screenshot,
    set_size,
    set_theme,
    sign_in,
)
from testkit.processes import ServerProcess


def _assert_fits(page: Any, size: str) -> None:
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= SIZES[size][0], f"the page scrolls sideways ({scroll}px)"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_owner_reads_the_activity_after_sharing(
    open_page: Any, server: ServerProcess, size: str
) -> None:
    ann, bob = new_account(server, "Ann"), new_account(server, "Bob")
    doc = rest(server, ann, "POST", "/documents", {"title": "Plans"})
    share = {"email": bob.email, "role": "editor"}
    rest(server, ann, "POST", f"/documents/{doc['id']}/share", share)
    rest(server, ann, "PATCH", f"/documents/{doc['id']}", {"title": "Plans 2"})
    w = open_page()
    set_size(w.page, size)
    sign_in(w.page, server, ann)
    open_document(w.page, server, doc["id"])
    more_actions(w.page, "Activity")
    dialog = w.page.get_by_role("dialog", name="Activity of “Plans 2”")
    items = dialog.get_by_role("list", name="Activity, newest first").locator("li")
    items.nth(2).wait_for()
    texts = [t.split("\n")[0] for t in items.all_inner_texts()]
    assert texts == [
        "Ann renamed it to “Plans 2”",
        "Ann shared it with Bob as editor",
        "Ann created it",
    ]
    assert "from 127.0.0.1" in items.first.inner_text()
    assert items.first.locator("time").get_attribute("title")  # the exact time on hover
    _assert_fits(w.page, size)
    for theme in ("light", "dark"):
        set_theme(w.page, theme)
        screenshot(w.page, f"audit-activity-{size}-{theme}")
    w.page.keyboard.press("Escape")
    dialog.wait_for(state="detached")


def test_a_collaborator_has_no_activity_item(open_page: Any, server: ServerProcess) -> None:
    ann, bob = new_account(server, "Ann"), new_account(server, "Bob")
    doc = rest(server, ann, "POST", "/documents", {"title": "Shared"})
    rest(
        server, ann, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    w = open_page()
    sign_in(w.page, server, bob)
    open_document(w.page, server, doc["id"])
    w.page.get_by_role("button", name="More actions").click()
    menu = w.page.get_by_role("menu", name="More actions")
    menu.get_by_role("menuitemcheckbox", name="History").wait_for()
    assert menu.get_by_role("menuitem", name="Activity").count() == 0


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_administrator_filters_and_exports(
    open_page: Any, server: ServerProcess, size: str
) -> None:
    root, ann = new_account(server, "Root"), new_account(server, "Ann")
    make_admin(server, root)
    rest(server, ann, "POST", "/documents", {"title": "=Budget"})
    refused = httpx.post(
        f"{server.url}/auth/login", json={"email": ann.email, "password": "not-the-one"}
    )
    assert refused.status_code == 401
    w = open_page()
    set_size(w.page, size)
    sign_in(w.page, server, root)
    w.page.get_by_role("button", name="Root").click()
    w.page.get_by_role("menuitem", name="Audit log").click()
    w.page.get_by_role("heading", name="Audit log").wait_for()
    assert w.page.url.endswith("/admin/audit")
    table = w.page.locator("table.audit-table")
    table.locator("tbody tr").first.wait_for()
    w.page.get_by_label("Person").fill(ann.email)
    w.page.get_by_label("Action").select_option(label="Failed sign-ins")
    w.page.get_by_label("Person").press("Enter")  # submits the filters
    w.page.wait_for_function(
        "() => [...document.querySelectorAll('table.audit-table tbody tr')]"
        ".every(r => r.dataset.action === 'auth.sign_in_failed')"
    )
    rows = table.locator("tbody tr")
    assert rows.count() == 1
    assert f"Failed sign-in as {ann.email} (wrong password)" in rows.first.inner_text()
    _assert_fits(w.page, size)
    for theme in ("light", "dark"):
        set_theme(w.page, theme)
        screenshot(w.page, f"audit-admin-{size}-{theme}")
    with w.page.expect_download() as info:
        w.page.get_by_role("button", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename == "docstream-audit.csv"
    with open(download.path(), encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("id,at,action,")
    assert len(lines) == 2 and ",auth.sign_in_failed," in lines[1]
    # the whole log (no filter) has Ann's document, its title defused for spreadsheets
    w.page.get_by_label("Person").fill("")
    w.page.get_by_label("Action").select_option(label="Documents")
    with w.page.expect_download() as info:
        w.page.get_by_role("button", name="Export CSV").click()
    with open(info.value.path(), encoding="utf-8") as f:
        text = f.read()
    assert "'=Budget" in text and ",=Budget" not in text


def test_someone_else_is_refused_the_audit_log(open_page: Any, server: ServerProcess) -> None:
    eve = new_account(server, "Eve")
    w = open_page()
    w.allow_http_errors("/admin/audit")
    sign_in(w.page, server, eve)
    w.page.get_by_role("button", name="Eve").click()
    assert w.page.get_by_role("menuitem", name="Audit log").count() == 0
    w.page.keyboard.press("Escape")
    w.page.goto(f"{server.url}/admin/audit")
    w.page.get_by_text("only an administrator of this server can do this").wait_for()
    assert w.page.locator("table.audit-table tbody tr").count() == 0
