"""Who is in a Room and where their carets are.

Local peers are this node's connections; remote peers are connections on other nodes (cluster),
known from the broker and expired when their node stops refreshing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from docstream.collab.connection import Connection
from docstream.protocol.messages import Peer


@dataclass(slots=True)
class CursorState:
    peer: Peer
    anchor: str | None
    head: str | None


@dataclass(slots=True)
class Presence:
    local: dict[str, Connection] = field(default_factory=dict)  # replica -> connection
    remote: dict[str, tuple[Peer, float]] = field(default_factory=dict)  # replica -> (peer, expiry)
    cursors: dict[str, CursorState] = field(default_factory=dict)  # replica -> cursor

    def peers(self, *, excluding: str | None = None) -> list[Peer]:
        found = [c.peer for r, c in self.local.items() if r != excluding and c.peer is not None]
        found += [p for r, (p, _) in self.remote.items() if r != excluding and r not in self.local]
        return found

    def connections(self) -> list[Connection]:
        return list(self.local.values())

    def others(self, replica: str | None) -> list[Connection]:
        return [c for r, c in self.local.items() if r != replica]

    def drop_cursor(self, replica: str) -> None:
        self.cursors.pop(replica, None)
