"""A Room: one open document on this node (see :mod:`.core` for its invariants).

Split by concern: :mod:`.core` (state, the worker loop, entry points), :mod:`.inbox` and
:mod:`.batching` (the queue and group commit), :mod:`.validation` (judging a message, no I/O),
:mod:`.commit` (store, ack, broadcast, held acks, catch-up), :mod:`.peers` (joins, leaves,
carets). Snapshots and automatic versions are :mod:`docstream.collab.snapshots`.
"""

from docstream.collab.room.core import Room, RoomClosed, RoomContext

__all__ = ["Room", "RoomClosed", "RoomContext"]
