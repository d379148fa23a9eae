"""Snippets: a short piece of a hit's text around its matches, as plain text plus match ranges.

Never HTML: the client builds the highlight from text nodes, so a document holding ``<script>``
shows it as text and there is no markup to escape or forget to. Ranges are ``[start, end)`` offsets
in UTF-16 code units (JavaScript string indices), as the title typeahead's ``match``.

A word matches when a query term is a case-insensitive prefix of it (the store's rule, see
:mod:`docstream.storage.search`); the whole word is highlighted. Matches are found with ``str.find``
on the case-folded text (a regular expression where folding changes lengths). The snippet is the
window of about :data:`WIDTH` characters holding the most distinct terms (the earliest such window),
starting a few words before its first match, whitespace runs shown as one space, with ``…`` where
the text goes on. Matching stops after about :data:`MAX_MATCHES` matches per term, so a long
document costs little.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

#: About how many characters a snippet shows.
WIDTH = 180
#: How many characters of context come before the first match shown.
LEAD = 40
#: Matches looked at per text (the best window is chosen among them).
MAX_MATCHES = 32
ELLIPSIS = "…"

_SPACE = re.compile(r"\s+")


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def utf16_len(text: str) -> int:
    return len(text) + len(_ASTRAL.findall(text))


def _pattern(terms: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def _matches(text: str, terms: Sequence[str], limit: int) -> list[tuple[int, int, str]]:
    """(start, end, the term that matched) of the first matching words (about ``limit``)."""
    if not terms:
        return []
    folded_terms = [t.casefold() for t in terms]
    folded = text.casefold()
    if len(folded) != len(text):  # a character whose case-folding changes the length (ß)
        return _matches_by_regex(text, folded_terms, limit)
    found: dict[int, tuple[int, int, str]] = {}
    for term in folded_terms:
        if not term:
            continue
        start = 0
        count = 0
        while count < limit:
            i = folded.find(term, start)
            if i < 0:
                break
            if i > 0 and folded[i - 1].isalnum():  # inside a word: not a word start
                start = i + 1
                continue
            end = i + len(term)
            while end < len(folded) and folded[end].isalnum():
                end += 1
            if i not in found:
                found[i] = (i, end, term)
                count += 1
            start = end
    return sorted(found.values())[:limit]


def _matches_by_regex(text: str, folded: list[str], limit: int) -> list[tuple[int, int, str]]:
    found = []
    for m in _pattern(folded).finditer(text):
        word = m.group().casefold()
        term = next((t for t in folded if word.startswith(t)), word)
        found.append((m.start(), m.end(), term))
        if len(found) >= limit:
            break
    return found


def _to_utf16(text: str, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Code point ranges of ``text`` as UTF-16 ranges (they differ after an astral character)."""
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    if not astral:
        return ranges

    def shift(i: int) -> int:
        return i + sum(1 for a in astral if a < i)

    return [(shift(s), shift(e)) for s, e in ranges]


def highlight_title(title: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """The matching words of a title (UTF-16 ranges)."""
    title = unicodedata.normalize("NFC", title)
    return _to_utf16(title, [(s, e) for s, e, _ in _matches(title, terms, MAX_MATCHES)])


def snippet(body: str, terms: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The snippet of ``body`` for ``terms`` and its match ranges (UTF-16)."""
    text = body if body.isascii() else unicodedata.normalize("NFC", body)
    found = _matches(text, terms, MAX_MATCHES)
    if found:
        # The window (from each match on) holding the most distinct terms: a sliding window.
        best, best_count = 0, -1
        inside: Counter[str] = Counter()
        j = 0
        for i, (start, _end, _term) in enumerate(found):
            while j < len(found) and found[j][0] < start + WIDTH - LEAD:
                inside[found[j][2]] += 1
                j += 1
            if len(inside) > best_count:
                best, best_count = i, len(inside)
            inside[found[i][2]] -= 1
            if not inside[found[i][2]]:
                del inside[found[i][2]]
        anchor = found[best][0]
        begin = max(0, anchor - LEAD)
        if begin > 0:  # start at a word boundary
            space = _SPACE.search(text, begin, anchor)
            begin = space.end() if space else begin
    else:
        begin = 0
    end = min(len(text), begin + WIDTH)
    if end < len(text):  # end at a word boundary
        spaces = list(_SPACE.finditer(text, max(begin, end - 30), end))
        end = spaces[-1].start() if spaces and spaces[-1].start() > begin else end
    # Collapse whitespace runs, mapping each kept match to its place in the output.
    window = text[begin:end]
    out: list[str] = []
    position = [0] * (len(window) + 1)
    cursor = 0
    length = 0
    for m in _SPACE.finditer(window):
        for i in range(cursor, m.start()):
            position[i] = length
            length += 1
        out.append(window[cursor : m.start()])
        for i in range(m.start(), m.end()):
            position[i] = length
        out.append(" ")
        length += 1
        cursor = m.end()
    for i in range(cursor, len(window)):
        position[i] = length
        length += 1
    position[len(window)] = length
    out.append(window[cursor:])
    core = "".join(out)
    lead = ELLIPSIS if begin > 0 else ""
    ranges = [
        (position[s - begin] + len(lead), position[min(e, end) - begin] + len(lead))
        for s, e, _ in found
        if begin <= s < end
    ]
    stripped = core.rstrip()
    result = lead + stripped + (ELLIPSIS if end < len(text) else "")
    shown = len(lead) + len(stripped)
    ranges = [(s, min(e, shown)) for s, e in ranges if s < shown]
    return result, _to_utf16(result, ranges)
