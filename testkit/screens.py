"""The screen tour: every screen of the web UI, reached the way a person reaches it, for the
accessibility audit (tests/browser/test_accessibility.py) and the screenshots
(tests/browser/test_screens.py, docs/ui.md).

How to get to each screen lives only here, by role and accessible name (not CSS classes), so
that when a screen is redesigned this is the one place to adjust. ``tour`` calls
``visit(name, page)`` at each stop, with the screen settled; the visitor may resize the page and
switch its theme (``testkit.browser.set_size`` / ``set_theme``) and must leave its dialogs open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from testkit.accounts import unique_email
from testkit.admin import create_admin
from testkit.browser import (
    Watched,
    make_admin,
    more_actions,
    new_account,
    open_document,
    rest,
    sign_in,
    wait_saved,
)
from testkit.processes import ServerProcess

#: Every stop of the tour, in order.
SCREENS = (
    "signin",
    "signup",
    "list-empty",
    "list",
    "shortcuts",
    "palette",
    "editor",
    "editor-collaborator",
    "editor-preview",
    "history",
    "share",
    "activity",
    "account",
    "audit",
    "tokens",
    "trash",
    "missing",
    "invite",
    "forgot",
    "reset",
    "guest",
    "admin",
)

Visit = Callable[[str, Any], None]

PLAN = (
    "Goals for the quarter\n\n"
    "Ship the new editor bar, the command palette and the share dialog. "
    "Measure keystroke latency against bare CodeMirror before and after."
)


def tour(open_page: Callable[[], Watched], server: ServerProcess, visit: Visit) -> None:
    """Walk every screen in ``SCREENS``; ``open_page`` makes a fresh browser context's page."""
    ada = new_account(server, "Ada Lovelace")
    bob = new_account(server, "Bob Kahn")
    w = open_page()
    w.allow_http_errors("/documents/does-not-exist")
    page = w.page
    base = server.url

    page.goto(f"{base}/signin")
    page.get_by_role("button", name="Sign in").wait_for()
    visit("signin", page)
    page.goto(f"{base}/signup")
    page.get_by_role("button", name="Create account").wait_for()
    visit("signup", page)

    sign_in(page, server, ada)
    page.get_by_text("No documents yet").wait_for()
    visit("list-empty", page)

    listed = [
        rest(server, ada, "POST", "/documents", {"title": title})
        for title in ("Reading list", "Meeting notes")
    ]
    plan = rest(server, ada, "POST", "/documents", {"title": "Project plan"})
    rest(
        server,
        ada,
        "POST",
        f"/documents/{plan['id']}/share",
        {"email": bob.email, "role": "editor"},
    )
    page.reload()
    page.get_by_role("link", name="Project plan").wait_for()
    visit("list", page)

    page.locator("body").focus()
    page.keyboard.press("?")
    page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
    visit("shortcuts", page)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    palette.get_by_role("combobox").fill("plan")
    # Settled: only the matching title is left (the box offers everything while empty).
    palette.get_by_role("option").filter(has_text="Project plan").wait_for()
    page.wait_for_function("() => document.querySelectorAll('dialog [role=option]').length === 1")
    visit("palette", page)
    page.keyboard.press("Escape")

    open_document(page, server, plan["id"])
    page.get_by_role("textbox", name="Document text").click()
    page.keyboard.type(PLAN)
    wait_saved(page)
    visit("editor", page)

    b = open_page()
    sign_in(b.page, server, bob)
    open_document(b.page, server, plan["id"])
    b.page.get_by_role("textbox", name="Document text").click()
    b.page.keyboard.press("Control+End")
    b.page.keyboard.type(" Bob agrees.")
    wait_saved(b.page)
    # Bob's avatar (on a phone, the count button stands for it; the avatar stays in the page).
    page.locator('[aria-label="People here now"] [title="Bob Kahn"]').wait_for(state="attached")
    page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString().endsWith('Bob agrees.')"
    )
    visit("editor-collaborator", page)

    page.get_by_role("toolbar", name="Markdown").get_by_role("button", name="Preview").click()
    page.get_by_role("region", name="Preview").get_by_text("Bob agrees.").wait_for()
    visit("editor-preview", page)
    page.get_by_role("toolbar", name="Markdown").get_by_role("button", name="Preview").click()

    more_actions(page, "History")
    page.get_by_role("complementary", name="History").wait_for()
    visit("history", page)
    page.get_by_role("button", name="Close history").click()

    page.get_by_role("button", name="Share").click()
    page.get_by_role("dialog").get_by_role("list", name="People with access").get_by_text(
        "Bob Kahn"
    ).first.wait_for()
    visit("share", page)
    page.keyboard.press("Escape")

    more_actions(page, "Activity")
    page.get_by_role("dialog", name="Activity of “Project plan”").get_by_text(
        "Ada Lovelace shared it with Bob Kahn as editor"
    ).wait_for()
    visit("activity", page)
    page.keyboard.press("Escape")

    page.get_by_role("button", name=ada.name).click()  # the user menu
    page.get_by_role("menuitem", name="Account").click()
    page.get_by_role("dialog", name="Account").wait_for()
    visit("account", page)
    page.keyboard.press("Escape")

    make_admin(server, ada)
    page.goto(f"{base}/admin/audit")
    page.get_by_role("heading", name="Audit log").wait_for()
    page.get_by_role("cell", name="Bob Kahn").first.wait_for()
    visit("audit", page)
    page.get_by_role("button", name=ada.name).click()
    page.get_by_role("menuitem", name="API tokens").click()
    page.get_by_role("heading", name="API tokens").wait_for()
    page.get_by_text("You have no API tokens.").wait_for()
    visit("tokens", page)
    rest(server, ada, "DELETE", f"/documents/{listed[0]['id']}")
    page.get_by_role("button", name=ada.name).click()  # the user menu
    page.get_by_role("menuitem", name="Trash").click()
    page.get_by_role("heading", name="Trash").wait_for()
    page.get_by_text("Reading list").wait_for()
    visit("trash", page)

    page.goto(f"{base}/d/does-not-exist")
    page.get_by_role("heading", name="Document not found").wait_for()
    visit("missing", page)

    invited = rest(
        server,
        ada,
        "POST",
        f"/documents/{plan['id']}/share",
        {"email": unique_email("grace"), "role": "viewer"},
    )
    stranger = open_page().page
    stranger.goto(f"{base}/invite/{invited['invite_url'].rsplit('/', 1)[1]}")
    stranger.get_by_text("invited you").wait_for()
    visit("invite", stranger)

    stranger.goto(f"{base}/forgot")
    stranger.get_by_text("Ask an administrator").wait_for()
    visit("forgot", stranger)
    stranger.goto(f"{base}/reset/{'x' * 43}")
    stranger.get_by_role("heading", name="Choose a new password").wait_for()
    visit("reset", stranger)

    public = rest(
        server,
        ada,
        "POST",
        f"/documents/{plan['id']}/share/public",
        {"enabled": True, "role": "viewer"},
    )
    guest = open_page().page
    guest.goto(f"{base}{public['link_path']}")
    guest.get_by_role("textbox", name="Document text").wait_for()
    wait_saved(guest)
    visit("guest", guest)

    admin = create_admin(server, "Ada Admin")
    chief = open_page().page
    sign_in(chief, server, admin)
    chief.goto(f"{base}/admin")
    chief.get_by_role("status").filter(has_text="accounts").wait_for()
    chief.get_by_text("This is the server's setting").wait_for()
    visit("admin", chief)
