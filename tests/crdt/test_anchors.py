"""Comment anchors (``crdt/anchors.py``) follow their words through concurrent edits on other
replicas: typing before, after and inside them, deleting part or all of them."""

from __future__ import annotations

import pytest

from docstream.crdt import CharId, Document
from docstream.crdt.anchors import Span, resolve, visible
from docstream.errors import UnknownIdError


def _pair(text: str) -> tuple[Document, Document]:
    a, b = Document("alice001"), Document("bob00001")
    b.apply(a.insert(0, text))
    return a, b


def _anchor(doc: Document, word: str) -> tuple[CharId, CharId]:
    at = doc.text.index(word)
    return doc.id_at(at), doc.id_at(at + len(word) - 1)


def _text(doc: Document, span: Span) -> str:
    return doc.text[span.start : span.end]


def test_an_anchor_follows_its_words_while_both_replicas_edit_concurrently() -> None:
    a, b = _pair("the quick brown fox")
    start, end = _anchor(a, "quick")
    ops_a = a.insert(0, "Look: ")  # before the words, on one replica ...
    ops_b = b.insert(len(b.text), " jumps")  # ... after them, on the other, at the same time
    ops_b += b.delete(b.text.index("brown"), len("brown "))
    a.apply(ops_b)
    b.apply(ops_a)
    assert a.text == b.text == "Look: the quick fox jumps"
    for doc in (a, b):
        span = resolve(doc, start, end)
        assert _text(doc, span) == "quick" and not span.deleted


def test_text_typed_inside_the_anchor_belongs_to_it() -> None:
    a, b = _pair("one two three")
    start, end = _anchor(a, "two")
    b.apply(a.insert(a.text.index("two") + 1, "oo"))
    assert b.text == "one toowo three"
    assert _text(b, resolve(b, start, end)) == "toowo"


def test_deleting_the_edges_shrinks_the_span_to_what_is_left() -> None:
    a, b = _pair("alpha beta gamma")
    start, end = _anchor(a, "beta gamma")
    a.apply(b.delete(b.text.index("beta"), 2))  # "ta gamma" is left of it
    a.apply(b.delete(len(b.text) - 2, 2))  # and "ta gam"
    span = resolve(a, start, end)
    assert _text(a, span) == "ta gam" and not span.deleted


def test_a_fully_deleted_anchor_is_on_deleted_text_where_it_was() -> None:
    a, b = _pair("keep this gone keep")
    start, end = _anchor(a, "this gone")
    ops = b.delete(b.text.index("this"), len("this gone "))
    ops += b.insert(0, ">> ")
    a.apply(ops)
    assert a.text == ">> keep keep"
    span = resolve(a, start, end)
    assert span.deleted and span.start == span.end == len(">> keep ")
    assert not visible(a, start) and not visible(a, end)


def test_concurrent_deletes_of_the_whole_anchor_on_both_replicas_agree() -> None:
    a, b = _pair("x target y")
    start, end = _anchor(a, "target")
    ops_a = a.delete(2, 3)
    ops_b = b.delete(4, 5)
    a.apply(ops_b)
    b.apply(ops_a)
    assert a.text == b.text == "x y"
    assert resolve(a, start, end) == resolve(b, start, end) == Span(2, 2, True)


def test_one_character_anchor_and_ids_given_backwards() -> None:
    a, _ = _pair("abc")
    b_id = a.id_at(1)
    assert _text(a, resolve(a, b_id, b_id)) == "b"
    assert _text(a, resolve(a, a.id_at(2), a.id_at(0))) == "abc"


def test_an_unknown_id_is_refused() -> None:
    a, _ = _pair("abc")
    with pytest.raises(UnknownIdError):
        resolve(a, CharId(99, "zzzzzzzz"), a.id_at(0))
