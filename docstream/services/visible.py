"""Names and titles show what they say: no invisible or text-direction control characters.

A display name or a document title is shown to other people (presence, mentions, the document
list, the share dialog). Invisible characters let one person pass for another: a right-to-left
override (U+202E) makes ``Ann<U+202E>etoN`` read as "AnnNote", a zero-width space makes two
names that look identical compare different, a Hangul filler makes a name that looks blank. So a
name or title that contains one of these is refused with a clear 400, never silently altered:

- control characters (Unicode category Cc) and line/paragraph separators (Zl, Zp);
- format characters (Cf): bidi embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), bidi marks (U+200E, U+200F, U+061C), zero-width space and word joiners
  (U+200B, U+2060-U+2064), U+FEFF, soft hyphen, tag characters and the rest of the category;
- other default-ignorable characters that render as nothing: Hangul fillers (U+115F, U+1160,
  U+3164, U+FFA0), the combining grapheme joiner (U+034F), Khmer inherent vowels (U+17B4,
  U+17B5), Mongolian free variation selectors (U+180B-U+180F);
- lone surrogates (not text at all).

Two legitimate uses of format characters stay allowed: a zero-width joiner or non-joiner
(U+200D, U+200C) *between* two characters that are not spaces or hidden (Persian and Indic
spelling; emoji sequences such as a family), and tag characters inside an emoji flag sequence
(U+1F3F4, tags, U+E007F). Variation selectors (emoji presentation) are not format characters and
stay allowed. A value must also show at least one visible character (spaces, combining marks and
the braille blank U+2800 alone do not count).

Why not a PRECIS profile (RFC 8264/8266, e.g. the precis-i18n package): its Nickname and
FreeformClass rules also refuse emoji ZWJ sequences, flag tag sequences and every character newer
than Python's Unicode database, and apply NFKC mappings; titles are free text. This module
refuses only what is invisible.
"""

from __future__ import annotations

import unicodedata

from docstream.errors import InvalidInputError

_JOINERS = frozenset({"\u200c", "\u200d"})
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_DIRECTION = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Default-ignorable code points outside category Cf that render as nothing.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
#: Characters that take up room but show nothing: allowed, but not enough on their own.
_BLANK = frozenset("\u2800")


def _is_tag(ch: str) -> bool:
    return "\U000e0020" <= ch <= "\U000e007f"


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN_CATEGORIES or ch in _INVISIBLE


def _joinable(ch: str) -> bool:
    """A character a zero-width (non-)joiner may stand next to: not hidden, not a space."""
    return not _hidden(ch) and unicodedata.category(ch) != "Zs"


def _shows(ch: str) -> bool:
    """A character that shows something by itself (not a space, mark or blank)."""
    return _joinable(ch) and unicodedata.category(ch) not in ("Mn", "Me") and ch not in _BLANK


def _flag_tags_end(value: str, start: int) -> int:
    """If ``value[start]`` begins the tags of an emoji flag sequence (U+1F3F4, tags, U+E007F),
    the index just past its cancel tag; otherwise ``start``."""
    if start == 0 or value[start - 1] != _BLACK_FLAG:
        return start
    end = start
    while end < len(value) and _is_tag(value[end]):
        end += 1
        if value[end - 1] == _CANCEL_TAG:
            return end if end - start >= 2 else start
    return start


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def refuse_invisible(value: str, what: str) -> str:
    """Return ``value`` unchanged, or raise InvalidInputError naming the first hidden character.

    ``what`` names the field in the message ("title", "name").
    """
    i = 0
    while i < len(value):
        ch = value[i]
        if not _hidden(ch):
            i += 1
            continue
        if (
            ch in _JOINERS
            and 0 < i < len(value) - 1
            and _joinable(value[i - 1])
            and _joinable(value[i + 1])
        ):
            i += 1
            continue
        if _is_tag(ch) and (end := _flag_tags_end(value, i)) > i:
            i = end
            continue
        if ch in _DIRECTION:
            kind = "a text-direction control character"
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            kind = "a control character or line break"
        else:
            kind = "an invisible character"
        raise InvalidInputError(
            f"{what} must not contain {kind} ({_describe(ch)} at position {i + 1})"
        )
    if not any(_shows(ch) for ch in value):
        raise InvalidInputError(f"{what} must contain at least one visible character")
    return value
