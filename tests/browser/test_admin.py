"""The admin page and account deletion in the browser, at desktop and phone sizes: promote,
disable (that person's open tab is signed out), delete with the documents handed over, change
the sign-up policy (then a sign-up in another browser is refused), and deleting one's own
account from the account dialog."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from testkit.accounts import PASSWORD, unique_email
from testkit.admin import create_admin
from testkit.browser import new_account, rest, screenshot, set_size, sign_in


def _row(page: Any, email: str) -> Any:
    return page.locator(f'tr[data-user="{email}"]')


def _find(page: Any, email: str) -> Any:
    box = page.get_by_role("searchbox", name="Search accounts")
    if box.input_value() != email:  # the same search again would redraw the rows meanwhile
        box.fill(email)
    # The rows of this search (not the list drawn before it) are in.
    page.get_by_role("status").filter(has_text=f"matching “{email}”").wait_for()
    row = _row(page, email)
    row.wait_for()
    return row


def _act(page: Any, email: str, item: str) -> None:
    page.bring_to_front()  # a menu closes when its window loses the focus
    row = _find(page, email)
    row.get_by_role("button", name=f"Actions for {email}").click()
    page.get_by_role("menuitem", name=item).click()


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    client = page.evaluate("() => document.scrollingElement.clientWidth")
    assert width <= client, (width, client)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_administrator_manages_accounts(open_page: Any, server: Any, size: str) -> None:
    admin = create_admin(server, "Ada Admin")
    bob = new_account(server, "Bob Member")
    cy = new_account(server, "Cy Leaving")
    cy_doc = rest(server, cy, "POST", "/documents", {"title": f"Cy's notes {size}"})

    w = open_page()
    page = w.page
    set_size(page, size)
    sign_in(page, server, admin)
    page.get_by_role("button", name=admin.name).click()  # the user menu
    page.get_by_role("menuitem", name="Administration").click()
    page.get_by_role("heading", name="Administration").wait_for()
    page.get_by_text("Storage").wait_for()
    _no_sideways_scroll(page)

    # Promote Bob.
    _act(page, bob.email, "Make administrator")
    _row(page, bob.email).get_by_text("Admin", exact=True).wait_for()
    assert rest(server, bob, "GET", "/auth/me")["is_admin"] is True

    # Bob is signed in elsewhere; disabling him signs that tab out.
    b = open_page()
    b.allow_http_errors("/auth/refresh", "/auth/me", "/events", "/documents")
    sign_in(b.page, server, bob)
    _act(page, bob.email, "Disable")
    page.get_by_role("dialog").get_by_role("button", name="Disable").click()
    _row(page, bob.email).get_by_text("Disabled", exact=True).wait_for()
    # Its list's live stream is closed, refused again, the session cannot be refreshed: the tab
    # goes back to the sign-in page.
    b.page.wait_for_url("**/signin?next=*", timeout=20_000)
    b.page.get_by_role("button", name="Sign in").wait_for()

    # Delete Cy, handing the documents over to the administrator.
    _act(page, cy.email, "Delete…")
    dialog = page.get_by_role("dialog", name="Delete account")
    dialog.get_by_label("New owner's e-mail address").fill(admin.email)
    dialog.get_by_label(f"Type {cy.email} to confirm").fill(cy.email)
    dialog.get_by_role("button", name="Delete account").click()
    page.get_by_text(f"The account of {cy.email} was deleted.").wait_for()
    doc = rest(server, admin, "GET", f"/documents/{cy_doc['id']}")
    assert doc["role"] == "owner"
    _no_sideways_scroll(page)
    screenshot(page, f"admin-{size}")


def test_an_administrators_reset_link_lets_a_person_back_in(open_page: Any, server: Any) -> None:
    admin = create_admin(server, "Ada Admin")
    dan = new_account(server, "Dan Forgetful")
    page = open_page().page
    sign_in(page, server, admin)
    page.goto(f"{server.url}/admin")
    page.get_by_role("heading", name="Administration").wait_for()
    _act(page, dan.email, "Reset password link…")
    dialog = page.get_by_role("dialog", name="Password reset link")
    link = dialog.get_by_role("textbox", name="Link").input_value()
    assert "/reset/" in link

    other = open_page().page  # Dan, in his own browser
    other.goto(link)
    other.get_by_role("heading", name="Choose a new password").wait_for()
    other.get_by_label("New password", exact=True).fill("a passphrase Dan remembers")
    other.get_by_role("button", name="Set the new password").click()
    other.get_by_role("heading", name="Documents").wait_for()  # signed in
    login = httpx.post(
        f"{server.url}/auth/login",
        json={"email": dan.email, "password": "a passphrase Dan remembers"},
    )
    assert login.status_code == 200
    again = httpx.post(
        f"{server.url}/auth/password-reset/confirm",
        json={"token": link.rsplit("/", 1)[1], "password": "yet another passphrase"},
    )
    assert again.status_code == 400  # the link worked once


def test_the_sign_up_policy_from_the_admin_page(open_page: Any, server: Any) -> None:
    admin = create_admin(server, "Policy Admin")
    w = open_page()
    page = w.page
    sign_in(page, server, admin)
    page.goto(f"{server.url}/admin")
    try:
        page.get_by_role("radio", name="Closed").check()
        page.get_by_text("Chosen here").wait_for()
        stranger = open_page()
        stranger.allow_http_errors("/auth/register")
        s = stranger.page
        s.goto(f"{server.url}/signup")
        s.get_by_text("Sign-up on this server is closed").wait_for()
        s.get_by_label("Email").fill(unique_email("refused"))
        s.get_by_label("Your name").fill("Refused Person")
        s.get_by_label("Password", exact=True).fill(PASSWORD)
        s.get_by_role("button", name="Create account").click()
        s.get_by_role("alert").filter(has_text="closed").wait_for()
        page.get_by_role("button", name="Use the server's setting").click()
        page.get_by_text("This is the server's setting").wait_for()
    finally:
        httpx.put(
            f"{server.url}/admin/signup-policy",
            json={"policy": None},
            headers={"Authorization": f"Bearer {admin.token}"},
            timeout=10,
        )


def test_deleting_your_own_account(open_page: Any, server: Any) -> None:
    leaver = new_account(server, "Dee Parting")
    rest(server, leaver, "POST", "/documents", {"title": "Dee's draft"})
    w = open_page()
    page = w.page
    sign_in(page, server, leaver)
    page.get_by_role("button", name=leaver.name).click()
    page.get_by_role("menuitem", name="Account").click()
    page.get_by_role("dialog", name="Account").get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account")
    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_text("Delete them, with their history, for everyone").click()
    dialog.get_by_label("Type “delete my account” to confirm").fill("delete my account")
    dialog.get_by_role("button", name="Delete my account").click()
    page.get_by_role("button", name="Sign in").wait_for()
    login = httpx.post(
        f"{server.url}/auth/login",
        json={"email": leaver.email, "password": PASSWORD},
        timeout=10,
    )
    assert login.status_code == 401
