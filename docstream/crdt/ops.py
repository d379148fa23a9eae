"""What flows in and out of a :class:`~docstream.crdt.rga.Document`: wire ops and UI changes.

Ops are msgspec Structs that encode to exactly the JSON of docs/protocol.md §6 (tagged by
``"kind"``)::

    {"kind": "ins", "id": "Ab3xQ9kZ:41", "after": "Zz81mmQa:40", "text": "hello"}
    {"kind": "del", "id": "Ab3xQ9kZ:41", "len": 3}

Ids stay wire strings inside ops (``CharId.parse`` reads them); the document parses and validates
them when it applies an op. ``msgspec.json.encode(ops)`` gives the wire JSON and
:data:`op_decoder` reads a JSON list of ops back.
"""

from __future__ import annotations

import msgspec

from docstream.errors import InvalidInputError

#: Most code points one ``ins`` op may carry (docs/protocol.md §6); longer local inserts are
#: chained.
MAX_INSERT_LENGTH = 65_536


class Insert(msgspec.Struct, tag="ins", tag_field="kind", frozen=True, gc=False):
    """Insert ``text`` (``len(text)`` elements; docs/protocol.md §6).

    Element *k* gets id ``{replica}:{counter+k}``. Element 0 goes after ``after`` (``None``: the
    document start), element *k > 0* after element *k-1*.
    """

    id: str
    after: str | None
    text: str


class Delete(msgspec.Struct, tag="del", tag_field="kind", frozen=True, gc=False):
    """Tombstone ``length`` elements ``{replica}:{counter}`` ... ``{replica}:{counter+length-1}``.

    On the wire the length is the field ``"len"``.
    """

    id: str
    length: int = msgspec.field(name="len")


def check_text(text: str) -> None:
    """Refuse text that cannot be UTF-8 (unpaired surrogates) with ``InvalidInputError``.

    Callers skip the call for ASCII text (``text.isascii()``), which is always fine.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("text contains unpaired surrogates") from None


#: One wire op.
Op = Insert | Delete

#: Decodes a JSON list of ops (``msgspec.json.encode(ops)`` is the inverse).
op_decoder = msgspec.json.Decoder(list[Op])


class Change(msgspec.Struct, frozen=True, gc=False):
    """One change of the visible text, in code points, for a UI to replay.

    At ``index`` remove ``deleted`` code points, then insert ``inserted`` there. A list of changes
    is applied in order, each relative to the text left by the previous one.
    """

    index: int
    deleted: int
    inserted: str
