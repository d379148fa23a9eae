"""Offline editing: edits made while disconnected survive a reload and reach the server."""

from __future__ import annotations

from testkit.browser import (
    editor_text,
    new_account,
    open_document,
    rest,
    sign_in,
    wait_for_service_worker,
    wait_saved,
)


def test_offline_edits_survive_a_reload_and_sync_when_back_online(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Offline"})
    w = open_page()
    page = w.page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    # The service worker keeps the app shell so that the page reloads while offline.
    wait_for_service_worker(page)
    page.locator(".cm-content").click()
    page.keyboard.type("typed online.")
    wait_saved(page)

    w.context.set_offline(True)
    page.wait_for_selector('.conn-status[data-state="offline"]')
    page.keyboard.type(" Typed offline 😀.")
    page.wait_for_function(
        "() => window.__docstream.editor().debug.live().session.pending.size > 0"
    )
    page.evaluate("() => window.__docstream.editor().debug.live().persisted()")
    page.reload()
    page.locator(".cm-content").wait_for()
    page.wait_for_function(
        "() => window.__docstream.editor()?.debug.view.state.doc.toString() === "
        "'typed online. Typed offline 😀.'",
        timeout=15_000,
    )
    assert page.locator(".conn-status").get_attribute("data-state") == "offline"
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" And after the reload.")
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["text"] == "typed online."

    w.context.set_offline(False)
    wait_saved(page, timeout=30_000)
    expected = "typed online. Typed offline 😀. And after the reload."
    assert editor_text(page) == expected
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["text"] == expected
    # Once synced, nothing is left in the offline queue.
    page.wait_for_function(
        "async () => (await window.__docstream.store.countPending("
        "window.__docstream.api.user.id)) === 0"
    )


def test_two_tabs_of_one_person_are_two_replicas(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Tabs"})
    w = open_page()
    first = w.page
    sign_in(first, server, ada)
    open_document(first, server, doc["id"])
    second = w.context.new_page()  # same browser profile: same IndexedDB and Web Locks
    open_document(second, server, doc["id"])
    replica = "() => window.__docstream.editor().debug.live().session.replica"
    assert first.evaluate(replica) != second.evaluate(replica)
    first.locator(".cm-content").click()
    first.keyboard.type("one ")
    second.locator(".cm-content").click()
    second.keyboard.type("two ")
    wait_saved(first)
    wait_saved(second)
    text = rest(server, ada, "GET", f"/documents/{doc['id']}")["text"]
    assert sorted(text.split()) == ["one", "two"]
    for page in (first, second):
        page.wait_for_function(
            "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=text
        )


def test_a_failed_service_worker_install_is_tried_again(open_page, server):
    """The install fetches every asset, each up to three times; when one of them fails every
    time, that install fails, and the page registers the worker again until an install
    succeeds (a busy server must not leave the tab without its offline shell)."""
    ada = new_account(server, "Ada")
    w = open_page()
    refused: list[str] = []

    def refuse_three_times(route) -> None:
        if route.request.service_worker is not None and len(refused) < 3:
            refused.append(route.request.url)
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    w.context.route("**/assets/*.css", refuse_three_times)
    page = w.page
    sign_in(page, server, ada)
    wait_for_service_worker(page)
    assert len(refused) == 3, refused  # one whole install failed before this one


def test_a_page_the_service_worker_does_not_control_is_claimed(open_page, server):
    """A page can load uncontrolled while the worker is active (a hard reload bypasses the
    worker; a navigation that finished after the worker's claim at activation is left out the
    same way): it asks to be claimed, so it works offline without a second visit."""
    ada = new_account(server, "Ada")
    w = open_page()
    page = w.page
    sign_in(page, server, ada)
    wait_for_service_worker(page)
    cdp = w.context.new_cdp_session(page)
    cdp.send("Page.reload", {"ignoreCache": True})  # a hard reload: not through the worker
    page.wait_for_load_state("load")
    wait_for_service_worker(page)
