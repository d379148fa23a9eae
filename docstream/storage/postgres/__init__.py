"""PostgreSQL backend: the team and cluster store.

The store is one class composed from a mixin per concern (accounts, documents, invitations, the ops
log with snapshots and versions), all running on the pool of
:class:`~docstream.storage.postgres.connection.PostgresStoreBase`.
"""

from docstream.storage.postgres.accounts import PostgresAccounts
from docstream.storage.postgres.admin import PostgresAdmin
from docstream.storage.postgres.audit import PostgresAudit
from docstream.storage.postgres.comments import PostgresComments
from docstream.storage.postgres.documents import PostgresDocuments
from docstream.storage.postgres.identities import PostgresIdentities
from docstream.storage.postgres.imports import PostgresImports
from docstream.storage.postgres.invitations import PostgresInvitations
from docstream.storage.postgres.log import PostgresLog
from docstream.storage.postgres.notifications import PostgresNotifications
from docstream.storage.postgres.recovery import PostgresRecovery
from docstream.storage.postgres.search import PostgresSearch
from docstream.storage.postgres.server_admin import PostgresServerAdmin
from docstream.storage.postgres.trash import PostgresTrash

__all__ = ["PostgresDocumentStore"]


class PostgresDocumentStore(
    PostgresAccounts,
    PostgresAdmin,
    PostgresAudit,
    PostgresComments,
    PostgresDocuments,
    PostgresIdentities,
    PostgresImports,
    PostgresInvitations,
    PostgresLog,
    PostgresNotifications,
    PostgresRecovery,
    PostgresSearch,
    PostgresTrash,
    PostgresServerAdmin,
):
    """The team and cluster backend."""
