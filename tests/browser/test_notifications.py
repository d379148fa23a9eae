"""Notifications in the browser: a share and an @mention made by someone else arrive live (the
bell's count goes up without a reload); the panel opens and is used by keyboard; following a
mention opens the document at the mention and marks it read; "Mark all read"; the digest setting
in the account dialog. Screenshots at desktop and phone sizes, light and dark; axe finds nothing
serious on the open panel or the dialog."""

from __future__ import annotations

from typing import Any

from testkit.browser import (
    SIZES,
    THEMES,
    axe_violations,
    describe_violations,
    new_account,
    open_document,
    rest,
    screenshot,
    set_size,
    set_theme,
    sign_in,
    wait_saved,
)

PUSHED_WITHIN_MS = 5_000
TEXT = "Agenda for Monday: budget, hiring, and the launch date."


def bell(page: Any, unread: int) -> Any:
    name = f"Notifications, {unread} unread" if unread else "Notifications"
    return page.get_by_role("button", name=name, exact=True)


def audit(page: Any, where: str, report: list[str]) -> None:
    for size in SIZES:
        set_size(page, size)
        for theme in THEMES:
            set_theme(page, theme)
            screenshot(page, f"{where}-{size}-{theme}")
            found = axe_violations(page)
            if found:
                report.append(describe_violations(f"{where} ({size}, {theme})", found))
        wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"{where} scrolls sideways ({size})"


def test_notifications_arrive_live_and_lead_to_the_mention(open_page: Any, server: Any) -> None:
    ada, bob = new_account(server, "Ada Lovelace"), new_account(server, "Bob Kahn")
    doc = rest(server, ada, "POST", "/documents", {"title": "Launch plan"})
    page = open_page().page
    sign_in(page, server, bob)
    page.get_by_text("No documents yet").wait_for()
    bell(page, 0).wait_for()
    page.evaluate("() => { window.__sameLoad = true; }")  # gone if the page reloads

    # Ada shares the document and, later, mentions Bob in its text: the count follows live.
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    bell(page, 1).wait_for(timeout=PUSHED_WITHIN_MS)
    # Ada picks Bob in her editor's @mention popup (the real trigger).
    writer = open_page().page
    sign_in(writer, server, ada)
    open_document(writer, server, doc["id"])
    writer.locator(".cm-content").click()
    writer.keyboard.type(TEXT + " @Bob")
    writer.get_by_role("option", name="@Bob Kahn").wait_for(timeout=10_000)
    writer.keyboard.press("Enter")
    wait_saved(writer)
    position = len(TEXT) + 1  # where "@Bob Kahn " was inserted
    bell(page, 2).wait_for(timeout=PUSHED_WITHIN_MS)
    assert page.evaluate("() => window.__sameLoad === true")
    status = page.get_by_role("status").filter(has_text="New notification")
    assert "Ada Lovelace mentioned you in “Launch plan”" in status.inner_text()

    # The panel, by keyboard: Enter on the bell opens it with the focus on the newest.
    bell(page, 2).focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Notifications")
    panel.wait_for()
    items = panel.get_by_role("link")
    items.first.wait_for()
    assert items.count() == 2
    assert "Ada Lovelace mentioned you in “Launch plan”" in items.nth(0).inner_text()
    assert "Ada Lovelace shared “Launch plan” with you (editor)" in items.nth(1).inner_text()
    page.wait_for_function("() => document.activeElement?.classList.contains('notif-item')")
    report: list[str] = []
    audit(page, "notifications-panel", report)
    set_size(page, "desktop")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement?.textContent").startswith(
        "Ada Lovelace shared"
    )
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement?.getAttribute('aria-controls')") is not None

    # Following the mention opens the document there and marks it read.
    page.keyboard.press("Enter")
    panel.wait_for()
    panel.get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/d/{doc['id']}#at={position}")
    page.get_by_role("textbox", name="Document text").wait_for()
    page.wait_for_function(
        "at => { const v = window.__docstream?.editor()?.debug.view;"
        " return v && v.state.doc.length > 0 && v.state.selection.main.head === at; }",
        arg=position,
    )
    bell(page, 1).wait_for(timeout=PUSHED_WITHIN_MS)  # the editor's bar has the bell too

    # Mark all read, from the editor's bell.
    bell(page, 1).click()
    panel.wait_for()
    panel.get_by_role("button", name="Mark all read").click()
    bell(page, 0).wait_for()
    assert panel.locator(".notif-item.unread").count() == 0
    audit(page, "notifications-editor", report)
    set_size(page, "desktop")
    page.keyboard.press("Escape")

    # The digest setting in the account dialog (this server sends no mail: shown, disabled).
    page.get_by_role("button", name=bob.name).click()  # the user menu
    page.get_by_role("menuitem", name="Account").click()
    dialog = page.get_by_role("dialog", name="Account")
    digest = dialog.get_by_label("E-mail digest")
    digest.wait_for()
    dialog.get_by_text("This server is not set up to send e-mail.").wait_for()
    assert digest.is_disabled() and digest.input_value() == "off"
    audit(page, "notifications-account", report)
    assert not report, "axe-core violations:\n" + "\n".join(report)
