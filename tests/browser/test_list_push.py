"""The document list follows sharing live (``GET /events``): a document shared with you appears
in your open list without a reload, follows its renames, and leaves when access is revoked."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.browser import new_account, rest, screenshot, sign_in

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PUSHED_WITHIN_MS = 5_000


@pytest.mark.parametrize("size", SIZES)
def test_a_shared_document_appears_in_the_open_list_without_a_reload(
    open_page: Any, server: Any, size: str
) -> None:
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Pushed plan"})
    width, height = SIZES[size]
    page = open_page().page
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, bob)
    page.get_by_text("No documents yet").wait_for()
    page.evaluate("() => { window.__sameLoad = true; }")  # gone if the page reloads
    row = page.locator(f'.doc-item[data-doc-id="{doc["id"]}"]')

    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "viewer"}
    )
    row.get_by_text("Pushed plan").wait_for(timeout=PUSHED_WITHIN_MS)
    screenshot(page, f"list-pushed-share-{size}")

    rest(server, ada, "PATCH", f"/documents/{doc['id']}", {"title": "Pushed plan v2"})
    row.get_by_text("Pushed plan v2").wait_for(timeout=PUSHED_WITHIN_MS)

    rest(server, ada, "DELETE", f"/documents/{doc['id']}/share/{bob.id}")
    row.wait_for(state="detached", timeout=PUSHED_WITHIN_MS)
    assert page.evaluate("() => window.__sameLoad === true")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
