"""An in-memory ``DocumentStore``: the real contract, no database.

Room, Hub and service logic need a store to run, and a file or server per test makes that slow; a
mock would drift from what the backends do. This backend passes the same contract suite as SQLite
and PostgreSQL (``tests/storage``): gap-free per-document seqs assigned at commit, all-or-nothing
batches, the same errors, orderings, uniqueness rules and cascades. It is for fast in-process tests
and is deliberately not selectable in ``Settings``: nothing here survives the process.

Every call first yields to the event loop (for ``latency`` seconds, none by default, as a real
backend's round trip would), then runs to completion without awaiting, so each call is one atomic
transaction: a check that would fail is made before anything is changed. The records handed out are
frozen Structs and byte strings are copied in at the boundary, so a caller can never change what the
store holds through a reference.
"""

from docstream.storage.memory.accounts import MemoryAccounts
from docstream.storage.memory.admin import MemoryAdmin
from docstream.storage.memory.audit import MemoryAudit
from docstream.storage.memory.comments import MemoryComments
from docstream.storage.memory.documents import MemoryDocuments
from docstream.storage.memory.identities import MemoryIdentities
from docstream.storage.memory.imports import MemoryImports
from docstream.storage.memory.log import MemoryLog
from docstream.storage.memory.notifications import MemoryNotifications
from docstream.storage.memory.recovery import MemoryRecovery
from docstream.storage.memory.search import MemorySearch
from docstream.storage.memory.server_admin import MemoryServerAdmin
from docstream.storage.memory.trash import MemoryTrash

__all__ = ["MemoryDocumentStore"]


class MemoryDocumentStore(
    MemoryAccounts,
    MemoryAdmin,
    MemoryAudit,
    MemoryComments,
    MemoryDocuments,
    MemoryIdentities,
    MemoryImports,
    MemoryLog,
    MemoryNotifications,
    MemoryRecovery,
    MemorySearch,
    MemoryTrash,
    MemoryServerAdmin,
):
    """Everything in dicts, for tests: usable between ``open()`` and ``close()``; data survives a
    close and a new ``open()`` (a restart of the server over the same database).

    ``latency`` is how long (seconds) every call waits before it runs, as a round trip to a real
    database would: with the default (none, one turn of the event loop) work that piles up while a
    commit is in flight, such as the Room's group commit, never gets the chance to.
    """
