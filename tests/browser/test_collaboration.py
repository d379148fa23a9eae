"""Live co-editing in real Chromium: concurrent typing converges, carets, viewers, sharing."""

from __future__ import annotations

from testkit.browser import (
    editor_text,
    new_account,
    open_document,
    replica_text,
    rest,
    screenshot,
    sign_in,
    wait_saved,
)


def _shared_doc(server, owner, other, role="editor", title="Together"):
    doc = rest(server, owner, "POST", "/documents", {"title": title})
    rest(
        server, owner, "POST", f"/documents/{doc['id']}/share", {"email": other.email, "role": role}
    )
    return doc


def test_two_people_typing_at_the_same_time_end_with_identical_text(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared_doc(server, ada, bob)
    a, b = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(b.page, server, bob)
    open_document(a.page, server, doc["id"])
    open_document(b.page, server, doc["id"])
    a.page.locator(".cm-content").click()
    a.page.keyboard.type("middle")
    wait_saved(a.page)
    b.page.wait_for_function("() => window.__docstream.editor().debug.view.state.doc.length === 6")
    b.page.locator(".cm-content").click()
    b.page.keyboard.press("Control+Home")
    a.page.keyboard.press("Control+End")
    for i in range(25):  # interleaved keystrokes: neither waits for the other's acks
        a.page.keyboard.type(f"a{i % 10}")
        b.page.keyboard.type(f"b{i % 10}é😀"[:3])
        if i % 5 == 0:
            a.page.keyboard.press("Backspace")
            b.page.keyboard.type("🎉")
    wait_saved(a.page)
    wait_saved(b.page)
    server_text = rest(server, ada, "GET", f"/documents/{doc['id']}")["text"]
    a.page.wait_for_function(
        "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=server_text
    )
    b.page.wait_for_function(
        "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=server_text
    )
    assert (
        editor_text(a.page) == editor_text(b.page) == replica_text(a.page) == replica_text(b.page)
    )
    assert "middle" in server_text
    assert server_text.count("🎉") == 5
    assert server_text.count("a") == 25 and server_text.count("b") == 25  # nothing lost


def test_a_remote_caret_is_visible_with_the_name_of_its_author(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob Builder")
    doc = _shared_doc(server, ada, bob)
    a, b = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(b.page, server, bob)
    open_document(a.page, server, doc["id"])
    a.page.locator(".cm-content").click()
    a.page.keyboard.type("Hello world, this is a shared text.")
    wait_saved(a.page)
    open_document(b.page, server, doc["id"])
    b.page.locator(".cm-content").click()
    b.page.keyboard.press("Control+Home")
    b.page.keyboard.press("Shift+End")  # a selection, too
    label = a.page.locator(".cm-remote-caret .cm-remote-label", has_text="Bob Builder")
    label.wait_for(timeout=10_000)
    # The selection is a later cursor update than the caret the click made: wait for it too.
    a.page.locator(".cm-remote-selection").first.wait_for(timeout=10_000)
    # presence avatars: the other person (Ada's own avatar is her user menu), named
    assert a.page.get_by_role("button", name="Bob Builder: go to their cursor").is_visible()
    assert a.page.locator(".avatars .avatar").count() == 1
    screenshot(a.page, "editor-remote-caret")


def test_a_viewer_cannot_type_but_sees_edits_arrive(open_page, server):
    ada, vic = new_account(server, "Ada"), new_account(server, "Vic")
    doc = _shared_doc(server, ada, vic, role="viewer")
    a, v = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(v.page, server, vic)
    open_document(a.page, server, doc["id"])
    open_document(v.page, server, doc["id"])
    assert v.page.locator(".cm-content").get_attribute("aria-readonly") == "true"
    assert v.page.get_by_text("View only").is_visible()
    v.page.locator(".cm-content").click()
    v.page.keyboard.type("I should not be able to type")
    a.page.locator(".cm-content").click()
    a.page.keyboard.type("Edits arrive live")
    wait_saved(a.page)
    v.page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString() === 'Edits arrive live'"
    )
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["text"] == "Edits arrive live"


def test_sharing_between_two_accounts_in_the_share_dialog(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Plans"})
    a = open_page()
    sign_in(a.page, server, ada)
    open_document(a.page, server, doc["id"])
    a.page.get_by_role("button", name="Share").click()
    dialog = a.page.get_by_role("dialog")
    dialog.get_by_role("combobox", name="Add people").fill(bob.email)
    dialog.get_by_label("Role of the people you add").select_option("editor")
    dialog.get_by_role("button", name="Invite").click()
    dialog.locator(f'li[data-email="{bob.email}"]').wait_for()
    dialog.get_by_role("switch", name="Anyone with the link can open this document").click()
    a.page.get_by_text("Anyone with the link can open this document.").wait_for()
    screenshot(a.page, "share-dialog")
    a.page.keyboard.press("Escape")
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["public_sharing_enabled"] is True

    b = open_page()
    sign_in(b.page, server, bob)
    b.page.get_by_role("link", name="Plans").click()
    b.page.locator(".cm-content").wait_for()
    wait_saved(b.page)
    b.page.locator(".cm-content").click()
    b.page.keyboard.type("Bob was here")
    wait_saved(b.page)
    a.page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString() === 'Bob was here'"
    )

    # The owner takes the editor role back: Bob's editor turns read-only, live.
    a.page.get_by_role("button", name="Share").click()
    dialog = a.page.get_by_role("dialog")
    dialog.get_by_label(f"Role of {bob.name}").select_option("viewer")
    a.page.get_by_text("can now only view").wait_for()
    b.page.wait_for_selector('.cm-content[aria-readonly="true"]', timeout=10_000)


def test_a_guest_edits_through_a_public_link_and_survives_a_reconnect(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Public"})
    public = rest(
        server,
        ada,
        "POST",
        f"/documents/{doc['id']}/share/public",
        {"enabled": True, "role": "editor"},
    )
    a, g = open_page(), open_page()
    sign_in(a.page, server, ada)
    open_document(a.page, server, doc["id"])
    # Not signed in, through the public link (its token is in the URL fragment).
    g.page.goto(f"{server.url}{public['link_path']}")
    g.page.locator(".cm-content").wait_for()
    wait_saved(g.page)
    assert g.page.locator(".user-box").inner_text().startswith("Guest")
    g.page.locator(".cm-content").click()
    g.page.keyboard.type("guest was here")
    wait_saved(g.page)
    a.page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString() === 'guest was here'"
    )
    # A guest is a new replica on every connection; unsaved edits are carried over.
    g.page.keyboard.type(" and back")
    g.page.evaluate("() => window.__docstream.editor().debug.live().reconnect()")
    wait_saved(g.page)
    a.page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString()"
        " === 'guest was here and back'"
    )


def test_the_owner_resets_the_public_link_and_viewers_see_names_only(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared_doc(server, ada, bob, role="viewer", title="Linked")
    a, g, b = open_page(), open_page(), open_page()
    sign_in(a.page, server, ada)
    open_document(a.page, server, doc["id"])
    a.page.get_by_role("button", name="Share").click()
    dialog = a.page.get_by_role("dialog")
    dialog.get_by_role("switch", name="Anyone with the link can open this document").click()
    a.page.get_by_text("Anyone with the link can open this document.").wait_for()
    link = dialog.get_by_label("Public link", exact=True)
    old = link.input_value()
    assert "#link=" in old
    # The bare address does not open it for a guest; the link does.
    g.page.goto(f"{server.url}/d/{doc['id']}")
    g.page.get_by_role("heading", name="Sign in to DocStream").wait_for()
    g.page.goto(old)
    g.page.locator(".cm-content").wait_for()
    wait_saved(g.page)
    # Reset: the guest's socket is closed and the old link is worthless from now on.
    dialog.get_by_role("button", name="Reset link").click()
    a.page.get_by_role("dialog", name="Reset the public link?").get_by_role(
        "button", name="Reset link"
    ).click()
    a.page.get_by_text("The public link was reset").wait_for()
    assert link.input_value() != old and "#link=" in link.input_value()
    g.page.get_by_text("Your access to this document was removed.").wait_for()
    # A viewer's share dialog lists people by name, without their addresses.
    sign_in(b.page, server, bob)
    open_document(b.page, server, doc["id"])
    b.page.get_by_role("button", name="Share").click()
    people = b.page.get_by_role("list", name="People with access")
    people.get_by_text("Ada").wait_for()
    assert "@" not in people.inner_text()
    assert ada.email not in b.page.content() and bob.email not in b.page.content()
