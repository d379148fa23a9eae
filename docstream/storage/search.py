"""What the search methods of the store speak in: the query's terms and the hits.

A query reaches the store as **terms**, never as query syntax: :func:`search_terms` keeps the runs
of letters and digits of what the user typed (NFC-normalised, case-folded), so quotes, ``NEAR``,
``*``, ``^``, column filters, parentheses, ``&``/``|``/``!`` or a NUL byte are only separators and
a backend builds its own query (FTS5 ``MATCH``, a ``tsquery``) from plain words it quotes itself.
Every term must match (AND), as the prefix of a word ("colla" finds "collaborate"), in the title or
the text. The same rule holds on all three backends: SQLite's FTS5 ``unicode61`` tokenizer,
PostgreSQL's ``simple`` parser and the memory store all split words at what is not a letter or
digit. (FTS5 also ignores accents, ``cafe`` finding ``café``; PostgreSQL does not.)
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from docstream.storage.records import DocumentRecord, Role

#: At most this many terms count (a longer query is refused by the web layer).
MAX_TERMS = 16
#: A term longer than this is cut (no real word is longer; it bounds the query's cost).
MAX_TERM = 64
#: Only this much of a document's text is indexed (a PostgreSQL tsvector holds at most 1 MB).
MAX_INDEXED_CHARS = 200_000

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The case-folded words of ``text`` (runs of letters and digits), in order."""
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold())


def search_terms(query: str) -> list[str]:
    """The distinct terms of a query, in order, each cut to :data:`MAX_TERM` characters."""
    seen: dict[str, None] = {}
    for word in words(query):
        seen.setdefault(word[:MAX_TERM], None)
    return list(seen)


class SearchHit(msgspec.Struct, frozen=True):
    """A document that matched: the caller's role on it, the indexed text (the web layer cuts the
    snippet from it), the ``seq`` the text reflects, and its rank (higher is better; comparable
    within one answer only)."""

    doc: DocumentRecord
    role: Role
    body: str
    seq: int
    rank: float
