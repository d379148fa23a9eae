"""The share dialog, driven as a person would: picking a collaborator with the keyboard only,
inviting by address, copying links (read back from the real clipboard), withdrawing an
invitation, and removing someone while the public link is on (they could still open the
document through it: the dialog says so and turns the link off in one click). Every flow runs at
desktop (1280x800) and phone (390x844) sizes; screenshots in both themes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from testkit.accounts import Account
from testkit.browser import new_account, open_document, rest, screenshot, sign_in, wait_saved
from testkit.processes import ServerProcess

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def _page(open_page: Any, server: ServerProcess, size: str, who: Account) -> Any:
    w = open_page()
    w.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    width, height = SIZES[size]
    w.page.set_viewport_size({"width": width, "height": height})
    sign_in(w.page, server, who)
    return w.page


def _open_dialog(page: Any, server: ServerProcess, doc_id: str) -> Any:
    open_document(page, server, doc_id)
    share = page.get_by_role("button", name="Share")
    share.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Share")
    dialog.wait_for()
    dialog.get_by_role("list", name="People with access").locator("li").first.wait_for()
    return dialog


def _clipboard(page: Any) -> str:
    return str(page.evaluate("() => navigator.clipboard.readText()"))


def _names(options: Any) -> list[str]:
    """The names offered (each option is an avatar's initials, hidden from assistive
    technology, and the name)."""
    return [text.split("\n")[-1] for text in options.all_inner_texts()]


def _assert_fits(page: Any, size: str) -> None:
    width = SIZES[size][0]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    overflow = page.evaluate(
        "() => { const d = document.querySelector('dialog.share-dialog');"
        " return d.scrollWidth - d.clientWidth; }"
    )
    assert overflow <= 0, f"the dialog scrolls sideways by {overflow}px"


def _team(server: ServerProcess) -> tuple[Account, Account, Account, dict[str, Any]]:
    """Ada owns "Earlier" shared with Bob Marsh and Cy; a new document "Plans" is Ada's alone."""
    ada, bob, cy = (new_account(server, n) for n in ("Ada", "Bob Marsh", "Cy"))
    earlier = rest(server, ada, "POST", "/documents", {"title": "Earlier"})
    for who in (bob, cy):
        rest(
            server,
            ada,
            "POST",
            f"/documents/{earlier['id']}/share",
            {"email": who.email, "role": "viewer"},
        )
    plans = rest(server, ada, "POST", "/documents", {"title": "Plans"})
    return ada, bob, cy, plans


@pytest.mark.parametrize("size", SIZES)
def test_a_collaborator_is_picked_by_name_with_the_keyboard_only(open_page, server, size):
    ada, bob, _cy, plans = _team(server)
    page = _page(open_page, server, size, ada)
    dialog = _open_dialog(page, server, plans["id"])
    field = dialog.get_by_role("combobox", name="Add people")
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "combobox"
    page.keyboard.type("mar")  # a word of "Bob Marsh", not its start
    options = dialog.get_by_role("listbox", name="People you work with").get_by_role("option")
    expect(options).to_have_count(1)
    assert _names(options) == ["Bob Marsh"]
    assert field.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    active = field.get_attribute("aria-activedescendant")
    assert active and dialog.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert "@" not in dialog.get_by_role("listbox").inner_text()
    page.keyboard.press("Enter")
    page.get_by_text("Shared with Bob Marsh.").wait_for()
    row = dialog.locator(f'li.person-row[data-user="{bob.id}"]')
    row.wait_for()
    assert row.get_by_role("combobox", name="Role of Bob Marsh").input_value() == "viewer"
    assert rest(server, bob, "GET", f"/documents/{plans['id']}")["role"] == "viewer"
    # Bob has access now: he is no longer suggested; Cy still is (a blank query lists people).
    field.fill("")
    page.keyboard.press("ArrowDown")
    expect(options).to_have_count(1)
    assert _names(options) == ["Cy"]
    page.keyboard.press("Escape")  # closes the list, not the dialog
    assert field.get_attribute("aria-expanded") == "false"
    assert dialog.is_visible()
    _assert_fits(page, size)


@pytest.mark.parametrize("size", SIZES)
def test_an_address_is_invited_its_link_copied_and_the_invitation_withdrawn(
    open_page, server, size
):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Guest list"})
    page = _page(open_page, server, size, ada)
    dialog = _open_dialog(page, server, doc["id"])
    address = f"newcomer-{size}@example.com"
    dialog.get_by_role("combobox", name="Add people").fill(address)
    dialog.get_by_label("Role of the people you add").select_option("editor")
    page.keyboard.press("Enter")
    url = dialog.locator("input[data-invite-url]").input_value()
    assert "/invite/" in url
    pending = dialog.get_by_role("list", name="Pending invitations")
    row = pending.locator(f'li[data-email="{address}"]')
    row.wait_for()
    assert "Editor" in row.inner_text()
    row.get_by_role("button", name=f"Copy the invitation link of {address}").click()
    page.get_by_text("Invitation link copied.").wait_for()
    assert _clipboard(page) == url
    _assert_fits(page, size)
    row.get_by_role("button", name=f"Withdraw the invitation of {address}").click()
    page.get_by_text(f"The invitation of {address} was withdrawn.").wait_for()
    row.wait_for(state="detached")
    assert not pending.is_visible()  # no invitations left: the section hides
    # The focus is not lost with the row: it is back in the "Add people" field.
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "combobox"
    listed = rest(server, ada, "GET", f"/documents/{doc['id']}/collaborators")
    assert [c["user_id"] for c in listed] == [ada.id]


def test_an_invitation_made_elsewhere_gets_a_new_link_and_the_old_one_dies(open_page, server):
    """The server keeps only a hash of an invitation link: a pending invitation made earlier (or
    on another device) offers a new link, which replaces the old one."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Renew"})
    made = rest(
        server,
        ada,
        "POST",
        f"/documents/{doc['id']}/share",
        {"email": "later@example.com", "role": "viewer"},
    )
    old_token = made["invite_url"].rsplit("/", 1)[1]
    page = _page(open_page, server, "desktop", ada)
    dialog = _open_dialog(page, server, doc["id"])
    row = dialog.get_by_role("list", name="Pending invitations").locator("li")
    row.first.wait_for()
    assert (
        row.get_by_role("button", name="Copy the invitation link of later@example.com").count() == 0
    )
    row.get_by_role("button", name="Copy a new invitation link for later@example.com").click()
    page.get_by_text("A new invitation link for later@example.com was copied").wait_for()
    url = _clipboard(page)
    assert "/invite/" in url and url != made["invite_url"]
    new_token = url.rsplit("/", 1)[1]
    assert httpx.get(f"{server.url}/invitations/{old_token}").status_code == 404
    assert httpx.get(f"{server.url}/invitations/{new_token}").status_code == 200
    # Now this page knows the link: a plain copy button, no renewal on every click.
    dialog.get_by_role("button", name="Copy the invitation link of later@example.com").wait_for()
    assert len(rest(server, ada, "GET", f"/documents/{doc['id']}/collaborators")) == 2


@pytest.mark.parametrize("size", SIZES)
def test_copy_link_copies_the_public_link_when_it_is_on(open_page, server, size):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Public"})
    page = _page(open_page, server, size, ada)
    dialog = _open_dialog(page, server, doc["id"])
    copy = dialog.get_by_role("button", name="Copy link")
    screenshot(page, f"share-link-off-{size}")
    copy.click()
    page.get_by_text("Link copied.").wait_for()
    assert _clipboard(page) == f"{server.url}/d/{doc['id']}"
    switch = dialog.get_by_role("switch", name="Anyone with the link can open this document")
    assert switch.get_attribute("aria-checked") == "false"
    switch.click()
    page.get_by_text("Anyone with the link can open this document.").wait_for()
    assert switch.get_attribute("aria-checked") == "true"
    dialog.get_by_label("Role of anyone with the link").select_option("editor")
    page.wait_for_function(
        "() => document.querySelector('dialog.share-dialog').textContent.includes('can edit')"
    )
    copy.click()
    page.get_by_text("Public link copied.").wait_for()
    public = rest(server, ada, "GET", f"/documents/{doc['id']}/share/public")
    assert public["public_sharing_role"] == "editor"
    assert _clipboard(page) == f"{server.url}{public['link_path']}"
    assert dialog.get_by_label("Public link", exact=True).input_value() == _clipboard(page)
    _assert_fits(page, size)


@pytest.mark.parametrize("size", SIZES)
def test_removing_someone_who_can_still_use_the_public_link_offers_to_turn_it_off(
    open_page, server, size
):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Linked"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    public = rest(
        server,
        ada,
        "POST",
        f"/documents/{doc['id']}/share/public",
        {"enabled": True, "role": "viewer"},
    )
    # Bob opens the document through the public link (he was sent it too).
    b = _page(open_page, server, size, bob)
    b.goto(f"{server.url}{public['link_path']}")
    b.locator(".cm-content").wait_for()
    wait_saved(b)

    a = _page(open_page, server, size, ada)
    dialog = _open_dialog(a, server, doc["id"])
    dialog.get_by_role("button", name="Remove Bob").click()
    confirm = a.get_by_role("dialog", name="Remove Bob?")
    confirm.get_by_text("Bob can still open this document through the public link").wait_for()
    screenshot(a, f"share-remove-warning-{size}")
    confirm.get_by_role("button", name="Remove and turn the link off").click()
    a.get_by_text("Bob no longer has access, and the public link is off.").wait_for()
    b.get_by_text("Your access to this document was removed.").wait_for(timeout=10_000)
    switch = dialog.get_by_role("switch", name="Anyone with the link can open this document")
    assert switch.get_attribute("aria-checked") == "false"
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["public_sharing_enabled"] is False
    assert dialog.locator(f'li.person-row[data-user="{bob.id}"]').count() == 0


def test_remove_only_leaves_the_link_and_the_warning_was_true(open_page, server):
    """Without turning the link off, the removed editor stays connected as a viewer through it:
    what the confirmation warned about."""
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Linked"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    public = rest(
        server,
        ada,
        "POST",
        f"/documents/{doc['id']}/share/public",
        {"enabled": True, "role": "viewer"},
    )
    b = _page(open_page, server, "desktop", bob)
    b.goto(f"{server.url}{public['link_path']}")
    b.locator('.cm-content[aria-readonly="false"]').wait_for()
    wait_saved(b)
    a = _page(open_page, server, "desktop", ada)
    dialog = _open_dialog(a, server, doc["id"])
    dialog.get_by_role("button", name="Remove Bob").click()
    a.get_by_role("dialog", name="Remove Bob?").get_by_role("button", name="Remove only").click()
    a.get_by_text(
        "Bob was removed but can still open the document through the public link."
    ).wait_for()
    b.locator('.cm-content[aria-readonly="true"]').wait_for(timeout=10_000)
    assert b.locator(".cm-content").is_visible()
    assert dialog.get_by_role("switch").get_attribute("aria-checked") == "true"


def test_removing_someone_while_the_link_is_off_asks_plainly(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Private"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "viewer"}
    )
    a = _page(open_page, server, "desktop", ada)
    dialog = _open_dialog(a, server, doc["id"])
    dialog.get_by_role("button", name="Remove Bob").click()
    confirm = a.get_by_role("dialog", name="Remove Bob?")
    confirm.wait_for()
    assert "public link" not in confirm.inner_text()
    assert confirm.get_by_role("button", name="Remove and turn the link off").count() == 0
    confirm.get_by_role("button", name="Remove", exact=True).click()
    a.get_by_text("Bob no longer has access.").wait_for()


@pytest.mark.parametrize("size", SIZES)
def test_a_viewer_sees_names_and_roles_and_cannot_change_anything(open_page, server, size):
    ada, bob, eve = (new_account(server, n) for n in ("Ada", "Bob", "Eve"))
    doc = rest(server, ada, "POST", "/documents", {"title": "Read me"})
    for who, role in ((bob, "editor"), (eve, "viewer")):
        rest(
            server, ada, "POST", f"/documents/{doc['id']}/share", {"email": who.email, "role": role}
        )
    rest(
        server,
        ada,
        "POST",
        f"/documents/{doc['id']}/share/public",
        {"enabled": True, "role": "viewer"},
    )
    page = _page(open_page, server, size, eve)
    dialog = _open_dialog(page, server, doc["id"])
    people = dialog.get_by_role("list", name="People with access")
    expect(people.locator("li")).to_have_count(3)
    assert [t.split("\n")[0] for t in people.locator(".share-role").all_inner_texts()] == [
        "Owner",
        "Editor",
        "View only",
    ]
    assert "@" not in dialog.inner_text()
    assert dialog.get_by_role("combobox").count() == 0  # no picker, no role menus
    assert dialog.get_by_role("switch").count() == 0
    assert dialog.get_by_role("button", name="Remove Bob").count() == 0
    dialog.get_by_text("The owner shared a public link").wait_for()
    dialog.get_by_role("button", name="Copy link").click()
    page.get_by_text("Link copied.").wait_for()
    assert _clipboard(page) == f"{server.url}/d/{doc['id']}"  # never the owner's secret link
    _assert_fits(page, size)
    screenshot(page, f"share-viewer-{size}")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_screenshots_of_the_dialog(open_page, server, size, theme):
    ada, bob, _cy, plans = _team(server)
    rest(
        server,
        ada,
        "POST",
        f"/documents/{plans['id']}/share",
        {"email": bob.email, "role": "editor"},
    )
    rest(
        server,
        ada,
        "POST",
        f"/documents/{plans['id']}/share",
        {"email": f"invitee-{size}-{theme}@example.com", "role": "viewer"},
    )
    rest(
        server,
        ada,
        "POST",
        f"/documents/{plans['id']}/share/public",
        {"enabled": True, "role": "viewer"},
    )
    page = _page(open_page, server, size, ada)
    dialog = _open_dialog(page, server, plans["id"])
    page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{theme}'; }}")
    dialog.get_by_role("list", name="Pending invitations").locator("li").first.wait_for()
    dialog.get_by_label("Public link", exact=True).wait_for()
    page.keyboard.type("c")
    dialog.get_by_role("option", name="Cy").wait_for()
    _assert_fits(page, size)
    screenshot(page, f"share-{size}-{theme}")
