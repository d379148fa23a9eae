"""The writer's tools and the readable history in real Chromium, with a real collaborator:
find and replace (replace-all arrives at the other client as one change), undo that leaves a
collaborator's typing alone, the word count and spell check, sessions per author and the diff
view -- with screenshots at desktop and phone sizes and an axe audit of each screen."""

from __future__ import annotations

import pytest

from testkit.browser import (
    axe_violations,
    describe_violations,
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

#: Records every state the editor's text goes through (each dispatch that changed it).
RECORD_STATES = """() => {
  const view = window.__docstream.editor().debug.view;
  window.__states = [];
  const dispatch = view.dispatch.bind(view);
  view.dispatch = (...specs) => {
    const before = view.state.doc;
    dispatch(...specs);
    if (view.state.doc !== before) window.__states.push(view.state.doc.toString());
  };
}"""


def _pair(open_page, server, text=""):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Writing"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    a, b = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(b.page, server, bob)
    open_document(a.page, server, doc["id"])
    open_document(b.page, server, doc["id"])
    if text:
        a.page.locator(".cm-content").click()
        a.page.keyboard.type(text)
        wait_saved(a.page)
        b.page.wait_for_function(
            "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=text
        )
    return doc, a.page, b.page


def test_replace_all_reaches_the_collaborator_as_one_change(open_page, server):
    text = "The cat sat. A cat ran. Cats and a catalogue: cat!"
    _, a, b = _pair(open_page, server, text)
    b.evaluate(RECORD_STATES)
    a.locator(".cm-content").click()
    a.keyboard.press("Control+f")
    panel = a.locator(".cm-search")
    panel.wait_for()
    # CodeMirror's panel: regex, match case and whole word are there, by keyboard.
    for name in ("match case", "regexp", "by word"):
        assert panel.get_by_role("checkbox", name=name).count() == 1
    a.keyboard.type("cat")
    panel.get_by_role("checkbox", name="by word").check()
    panel.get_by_role("textbox", name="Replace").fill("dog")
    panel.get_by_role("button", name="replace all").click()
    expected = "The dog sat. A dog ran. Cats and a catalogue: dog!"
    assert editor_text(a) == expected
    wait_saved(a)
    b.wait_for_function(
        "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=expected
    )
    # The collaborator's editor went from the old text to the new in one step: no state with
    # some replacements and not others.
    assert b.evaluate("() => window.__states") == [expected]
    for size in ("phone", "desktop"):
        set_size(a, size)
        screenshot(a, f"find-replace-{size}")
        assert not axe_violations(a), describe_violations("find panel", axe_violations(a))
    panel.get_by_role("textbox", name="Find").focus()
    a.keyboard.press("Escape")  # closes the panel, focus back in the text
    panel.wait_for(state="detached")
    # One undo takes back every replacement.
    a.keyboard.press("Control+z")
    wait_saved(a)
    b.wait_for_function(
        "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=text
    )


def test_undo_and_redo_touch_only_my_edits_while_a_collaborator_types(open_page, server):
    _, a, b = _pair(open_page, server, "start.")
    a.locator(".cm-content").click()
    a.keyboard.press("Control+Home")
    a.keyboard.type("MINE ")
    wait_saved(a)
    # Bob types at the end, a character every 30 ms, through his editor, during Ada's undo.
    b.evaluate(
        """() => new Promise((started) => {
          const view = window.__docstream.editor().debug.view;
          let n = 0;
          window.__typing = new Promise((done) => {
            const timer = setInterval(() => {
              const end = view.state.doc.length;
              view.dispatch({changes: {from: end, insert: "b"}, userEvent: "input.type"});
              if (++n === 60) { clearInterval(timer); done(n); }
            }, 30);
          });
          setTimeout(started, 300);
        })"""
    )
    a.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString().includes('bbb')"
    )
    a.keyboard.press("Control+z")
    during = editor_text(a)
    assert not during.startswith("MINE") and during.startswith("start.")
    assert b.evaluate("() => window.__docstream.editor().debug.view.state.doc.length") < len(
        "start." + "b" * 60
    ), "Bob had finished typing before the undo"
    b.evaluate("() => window.__typing")
    wait_saved(b)
    wait_saved(a)
    final = "start." + "b" * 60
    for page in (a, b):
        page.wait_for_function(
            "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=final
        )
    # Redo brings back only Ada's words. (A real keyboard sends "Z" with Shift held.)
    a.keyboard.press("Control+Shift+Z")
    wait_saved(a)
    b.wait_for_function(
        "t => window.__docstream.editor().debug.view.state.doc.toString() === t",
        arg="MINE " + final,
    )


def test_word_count_and_spell_check(open_page, server):
    acc = new_account(server, "Wendy")
    doc = rest(server, acc, "POST", "/documents", {"title": "Counting"})
    w = open_page()
    sign_in(w.page, server, acc)
    open_document(w.page, server, doc["id"])
    page = w.page
    content = page.locator(".cm-content")
    assert content.get_attribute("spellcheck") == "true"
    content.click()
    page.keyboard.type("Hello brave new world, it’s déjà vu 😀")
    count = page.locator(".word-count")
    count.filter(has_text="7 words · 37 characters").wait_for()
    page.keyboard.press("Shift+Home")
    count.filter(has_text="7 words, 37 characters selected").wait_for()
    page.keyboard.press("End")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowLeft")
    count.filter(has_text="1 word, 3 characters selected").wait_for()  # "u 😀"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_history_sessions_and_diff_view(open_page, server, size):
    _, a, b = _pair(open_page, server, "Hello world.")
    b.locator(".cm-content").click()
    b.keyboard.press("Control+End")
    b.keyboard.type(" Bob was here.")
    wait_saved(b)
    a.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString().endsWith('here.')"
    )
    set_size(a, size)
    more_actions(a, "History")
    panel = a.get_by_role("complementary", name="History")
    sessions = panel.get_by_role("list", name="Editing sessions").get_by_role("button")
    sessions.first.wait_for()
    assert sessions.count() == 2
    assert (
        "Bob" in sessions.nth(0).inner_text() and "+14 characters" in sessions.nth(0).inner_text()
    )
    assert (
        "Ada" in sessions.nth(1).inner_text() and "+12 characters" in sessions.nth(1).inner_text()
    )
    screenshot(a, f"history-sessions-{size}")
    assert not axe_violations(a), describe_violations("sessions", axe_violations(a))
    # Keyboard: focus Bob's session and press Enter for its changes.
    sessions.nth(0).focus()
    a.keyboard.press("Enter")
    changes = panel.locator(".diff-view")
    changes.locator(".diff-text ins", has_text="Bob was here.").wait_for()
    assert changes.locator(".diff-text del").count() == 0
    assert "Bob" in changes.get_by_role("heading").inner_text()
    changes.locator(".diff-text ins").scroll_into_view_if_needed()
    screenshot(a, f"history-diff-{size}")
    assert not axe_violations(a), describe_violations("diff view", axe_violations(a))
    # Two versions compared: a named one against the current text.
    panel.get_by_role("textbox", name="Name the current version").fill("Draft")
    panel.get_by_role("button", name="Save version").click()
    a.get_by_text("Saved version “Draft”.").wait_for()
    b.keyboard.press("Control+Home")
    for _ in range(len("Hello")):
        b.keyboard.press("Shift+ArrowRight")
    b.keyboard.type("Goodbye")
    wait_saved(b)
    a.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString().startsWith('Goodbye')"
    )
    panel.get_by_role("button", name="Draft").click()
    panel.get_by_label("Compare with").select_option(label="Current text")
    panel.get_by_role("button", name="Show changes").click()
    changes.locator(".diff-text del", has_text="Hello").wait_for()
    changes.locator(".diff-text ins", has_text="Goodbye").wait_for()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_authorship_colours_with_a_legend(open_page, server, size):
    _, a, b = _pair(open_page, server, "Ada wrote this. ")
    b.locator(".cm-content").click()
    b.keyboard.press("Control+End")
    b.keyboard.type("Bob added that.")
    wait_saved(b)
    a.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString().endsWith('that.')"
    )
    set_size(a, size)
    toggle = a.get_by_role("button", name="Authors")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert a.locator(".cm-author").count() == 0
    toggle.focus()
    a.keyboard.press("Enter")  # by keyboard
    assert toggle.get_attribute("aria-pressed") == "true"
    legend = a.get_by_role("list", name="Authors")
    legend.get_by_text("Bob").wait_for()
    assert legend.get_by_role("listitem").all_inner_texts() == ["Ada", "Bob"]  # most text first
    a.wait_for_function("() => document.querySelectorAll('.cm-author').length >= 2")
    spans = a.evaluate(
        """() => [...document.querySelectorAll('.cm-author')].map(
             (el) => [el.className.match(/cm-author-(\\d)/)[1], el.textContent])"""
    )
    by_class: dict[str, str] = {}
    for cls, text in spans:
        by_class[cls] = by_class.get(cls, "") + text
    assert sorted(by_class.values()) == ["Ada wrote this. ", "Bob added that."]
    # Each author's tint (their caret colour unless another author has it) is their swatch's.
    swatches = a.evaluate(
        "() => [...document.querySelectorAll('.author-swatch')].map((el) => el.className)"
    )
    assert {f"cm-author-{c}" for c in by_class} == {s.split()[-1] for s in swatches}
    screenshot(a, f"authorship-{size}")
    assert not axe_violations(a), describe_violations("authorship", axe_violations(a))
    # New text by Bob is coloured too once typing pauses.
    b.keyboard.type(" More.")
    a.wait_for_function(
        """() => [...document.querySelectorAll('.cm-author')].some(
             (el) => el.textContent.includes('More.'))"""
    )
