"""The people picker: whom a user may pick by name when sharing (docs/protocol.md §4).

A user's *co-collaborators* are the registered people who share at least one document with them
(as owner or grant, on either side). They are the only people offered by name, and the only ones
a document can be shared with by ``user_id``: anyone else is reached by typing their address,
as before. A picked person is told apart from a stranger only by the caller's own documents, so
an id that is not a co-collaborator is answered exactly like an id that does not exist.

Suggestions carry an id and a name, never an address: a co-collaborator's address is shown only
where the collaborators list already shows it (docs/protocol.md §4, ``sees_emails``).
"""

from __future__ import annotations

from docstream.services.identity import Identity
from docstream.storage.base import DocumentStore, Person
from docstream.typeahead.trie import fold

#: How many people a blank query lists (the most recent and most shared).
BLANK_QUERY_LIMIT = 5


def name_matches(name: str, query: str) -> bool:
    """Whether ``name``, or a word of it, starts with ``query`` (case-insensitive; ``query``
    folded)."""
    folded = fold(name)
    return folded.startswith(query) or any(word.startswith(query) for word in folded.split())


class People:
    """Co-collaborators, as suggestions and as share targets."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def suggest(self, caller: Identity, query: str, limit: int) -> list[Person]:
        """Co-collaborators whose name has a word starting with ``query``, most recent and most
        shared first; a blank query lists the first few of them."""
        people = await self._store.co_collaborators(caller.user_id)
        folded = fold(query.strip())
        if not folded:
            return people[: min(limit, BLANK_QUERY_LIMIT)]
        return [p for p in people if name_matches(p.name, folded)][:limit]

    async def find(self, caller: Identity, user_id: str) -> Person | None:
        """The co-collaborator with this id, or None (a stranger and a made-up id alike)."""
        if caller.guest:
            return None
        people = await self._store.co_collaborators(caller.user_id)
        return next((p for p in people if p.user_id == user_id), None)
