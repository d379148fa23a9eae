"""SQLite backend: the embedded default, one file and no server.

The store is one class composed from a mixin per concern (accounts, documents, invitations, the ops
log with snapshots and versions), all running on the threads and connections of
:class:`~docstream.storage.sqlite.connection.SqliteStoreBase`.
"""

from docstream.storage.sqlite.accounts import SqliteAccounts
from docstream.storage.sqlite.admin import SqliteAdmin
from docstream.storage.sqlite.audit import SqliteAudit
from docstream.storage.sqlite.comments import SqliteComments
from docstream.storage.sqlite.documents import SqliteDocuments
from docstream.storage.sqlite.identities import SqliteIdentities
from docstream.storage.sqlite.imports import SqliteImports
from docstream.storage.sqlite.invitations import SqliteInvitations
from docstream.storage.sqlite.log import SqliteLog
from docstream.storage.sqlite.notifications import SqliteNotifications
from docstream.storage.sqlite.recovery import SqliteRecovery
from docstream.storage.sqlite.search import SqliteSearch
from docstream.storage.sqlite.server_admin import SqliteServerAdmin
from docstream.storage.sqlite.trash import SqliteTrash

__all__ = ["SqliteDocumentStore"]


class SqliteDocumentStore(
    SqliteAccounts,
    SqliteAdmin,
    SqliteAudit,
    SqliteComments,
    SqliteDocuments,
    SqliteIdentities,
    SqliteImports,
    SqliteInvitations,
    SqliteLog,
    SqliteNotifications,
    SqliteRecovery,
    SqliteSearch,
    SqliteTrash,
    SqliteServerAdmin,
):
    """The embedded default: one file, no server."""
