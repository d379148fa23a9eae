"""Typed character ids: ``CharId(counter, replica)`` and the replica-id rule.

A char id orders as a tuple -- counter first (an integer), then the replica string -- which is the
order RGA uses for concurrent siblings (docs/protocol.md §6). Never compare the wire strings: as
strings ``"u:10" < "u:9"``.

Counters are bounded by :data:`MAX_COUNTER` (``2**53 - 1``) so that every id is exact in a
JavaScript number, which the TypeScript engine of the web UI uses.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from docstream.errors import InvalidInputError

#: A replica id: 8 to 64 characters from ``[A-Za-z0-9_-]`` (docs/protocol.md §6).
REPLICA_PATTERN = r"[A-Za-z0-9_-]{8,64}"
REPLICA_RE = re.compile(REPLICA_PATTERN)

#: The largest counter an id may carry: ``Number.MAX_SAFE_INTEGER`` of JavaScript.
MAX_COUNTER = 2**53 - 1


def check_replica(replica: object) -> str:
    """Return ``replica`` if it is a valid replica id, else raise :class:`InvalidInputError`."""
    if not isinstance(replica, str) or REPLICA_RE.fullmatch(replica) is None:
        raise InvalidInputError(
            f"invalid replica id {replica!r}: expected 8 to 64 characters from [A-Za-z0-9_-]"
        )
    return replica


def parse_counter(text: str, whole: str) -> int:
    """Parse the counter part of a wire id strictly (ASCII digits, no sign, no leading zero)."""
    if not (text.isascii() and text.isdigit()) or (text[0] == "0" and len(text) > 1):
        raise InvalidInputError(
            f"invalid char id {whole!r}: the counter must be a non-negative integer "
            "written in decimal without leading zeros"
        )
    if len(text) > 16:
        # Cheap guard before int(): 2**53 - 1 has 16 digits.
        raise InvalidInputError(f"invalid char id {whole!r}: counter above {MAX_COUNTER}")
    value = int(text)
    if value > MAX_COUNTER:
        raise InvalidInputError(f"invalid char id {whole!r}: counter above {MAX_COUNTER}")
    return value


class CharId(NamedTuple):
    """The id of one character: a Lamport ``counter`` and the ``replica`` that created it.

    Orders as a tuple (counter, then replica). ``str(cid)`` is the wire form
    ``"{replica}:{counter}"``; :meth:`parse` reads it back.
    """

    counter: int
    replica: str

    def __str__(self) -> str:
        return f"{self.replica}:{self.counter}"

    @classmethod
    def parse(cls, text: str) -> CharId:
        """Parse the wire form ``"{replica}:{counter}"`` (split on the last ``:``).

        Raises:
            InvalidInputError: if ``text`` is not a string, has no ``:``, names an invalid replica
                id, or has a counter that is not a canonical non-negative integer
                (at most :data:`MAX_COUNTER`).
        """
        if not isinstance(text, str):
            raise InvalidInputError(f"invalid char id {text!r}: expected a string")
        replica, sep, counter = text.rpartition(":")
        if not sep:
            raise InvalidInputError(
                f"invalid char id {text!r}: expected the form '{{replica}}:{{counter}}'"
            )
        if REPLICA_RE.fullmatch(replica) is None:
            raise InvalidInputError(
                f"invalid char id {text!r}: the replica part must be 8 to 64 characters "
                "from [A-Za-z0-9_-]"
            )
        return cls(parse_counter(counter, text), replica)
