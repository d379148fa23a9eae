"""Where a comment's anchor is in the text now.

A comment is anchored to the CRDT ids of the first and last characters it was written on, not
to indexes: ids never change and are never forgotten (a deleted character stays as a tombstone),
so an anchor keeps naming the same words whatever is typed before, after or inside them, and a
concurrent edit on another replica cannot shift it. Resolving it is a pure function of the
document: the span runs from the first character still visible at or after the start id to the
last one visible at or before the end id; if none is left, the comment is "on deleted text" and
sits where that text was.
"""

from __future__ import annotations

from dataclasses import dataclass

from docstream.crdt.ids import CharId
from docstream.crdt.rga import Document


@dataclass(frozen=True, slots=True)
class Span:
    """Visible indexes ``start`` (inclusive) .. ``end`` (exclusive); ``deleted``: no character
    of the anchor is left (then ``start == end``, where the text was)."""

    start: int
    end: int
    deleted: bool


def visible(doc: Document, char_id: CharId) -> bool:
    """Whether ``char_id`` is a character of the text now (not deleted)."""
    index = doc.index_of(char_id)
    return index < len(doc) and doc.id_at(index) == char_id


def resolve(doc: Document, start: CharId, end: CharId) -> Span:
    """The span of the anchor ``start``..``end`` in ``doc`` now.

    Raises:
        UnknownIdError: if either id is not known to ``doc``.
    """
    lo = doc.index_of(start)
    hi = doc.index_of(end) + (1 if visible(doc, end) else 0)
    if hi < lo:  # the ids were given the other way round
        lo, hi = doc.index_of(end), doc.index_of(start) + (1 if visible(doc, start) else 0)
    if hi <= lo:
        return Span(lo, lo, True)
    return Span(lo, hi, False)
