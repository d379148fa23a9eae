"""The account dialog in a real browser: changing the password signs the other devices out.

Two browser contexts are two devices of one person. The change is made in the first; the second,
on its document list, is sent to the sign-in page (its session ended), and only the new password
signs in.
"""

from __future__ import annotations

import httpx
import pytest

from testkit.browser import SIZES, new_account, sign_in

NEW_PASSWORD = "a new and longer passphrase"


@pytest.mark.parametrize("size", SIZES)
def test_changing_the_password_signs_the_other_devices_out(open_page, server, size):
    ada = new_account(server, "Ada")
    width, height = SIZES[size]
    other_device = open_page()
    other_device.allow_http_errors("/auth/refresh")  # its session was ended: the point
    here, there = open_page().page, other_device.page
    for page in (here, there):
        page.set_viewport_size({"width": width, "height": height})
        sign_in(page, server, ada)

    here.get_by_role("button", name=ada.name).click()  # the user menu
    here.get_by_role("menuitem", name="Account").click()
    dialog = here.get_by_role("dialog", name="Account")
    dialog.get_by_label("Current password").fill(ada.password)
    dialog.get_by_label("New password").fill(NEW_PASSWORD)
    dialog.get_by_role("button", name="Change password").click()
    here.get_by_text("Password changed. Your other sessions were signed out.").wait_for()

    # The other device finds out the next time it talks to the server (a reload here).
    there.reload()
    there.get_by_role("button", name="Sign in").wait_for()
    # This one carries on in its new session.
    here.reload()
    here.get_by_role("heading", name="Documents").wait_for()

    def login(password: str) -> int:
        r = httpx.post(f"{server.url}/auth/login", json={"email": ada.email, "password": password})
        return r.status_code

    assert login(ada.password) == 401
    assert login(NEW_PASSWORD) == 200


def test_a_wrong_current_password_is_said_next_to_it_and_changes_nothing(open_page, server):
    ada = new_account(server, "Ada")
    watched = open_page()
    watched.allow_http_errors("/auth/password")  # the 403 is the point
    page = watched.page
    sign_in(page, server, ada)
    page.get_by_role("button", name=ada.name).click()
    page.get_by_role("menuitem", name="Account").click()
    dialog = page.get_by_role("dialog", name="Account")
    dialog.get_by_label("Current password").fill("not the password")
    dialog.get_by_label("New password").fill(NEW_PASSWORD)
    dialog.get_by_role("button", name="Change password").click()
    dialog.get_by_text("the current password is wrong").wait_for()
    r = httpx.post(f"{server.url}/auth/login", json={"email": ada.email, "password": ada.password})
    assert r.status_code == 200
