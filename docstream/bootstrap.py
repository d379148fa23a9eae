"""The composition root: the only place that picks concrete backends and wires services together.

``build(settings)`` is an async context manager that opens every long-lived part in order and closes
them in reverse order on the way out (stores, brokers, the hub, typeahead services).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from docstream import datadir, logs, metrics
from docstream.collab.cluster import Cluster
from docstream.collab.comments import CommentRelay
from docstream.collab.extensions import BrokerReconnected, Extensions
from docstream.collab.hub import Hub
from docstream.pubsub.base import Broker, Reconnected
from docstream.pubsub.memory import MemoryBroker
from docstream.services.admin import AdminService
from docstream.services.api_tokens import ApiTokens
from docstream.services.audit import AuditLog
from docstream.services.auth import AuthService, load_or_create_secret
from docstream.services.comments import CommentService
from docstream.services.documents import DocumentService, TextSource
from docstream.services.handover import Handover
from docstream.services.invitations import InvitationService
from docstream.services.janitor import ReplicaJanitor
from docstream.services.list_events import ListEvents
from docstream.services.mail import Mailer
from docstream.services.notifications import DigestMailer, NotificationService
from docstream.services.oidc import OidcProvider
from docstream.services.packing import LogPacker
from docstream.services.recovery import Recovery
from docstream.services.resets import PasswordResets
from docstream.services.revocations import Revocations
from docstream.services.search.indexer import SearchIndexer
from docstream.services.search.query import SearchService
from docstream.services.trash import TrashJanitor, TrashService
from docstream.services.typeahead.mentions import MentionService
from docstream.services.typeahead.titles import TitleService
from docstream.services.typeahead.words import WordService
from docstream.services.versions import VersionService
from docstream.settings import Settings
from docstream.storage.base import DocumentStore

log = logging.getLogger("docstream")


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """The counters ``/health`` shows to local callers (read when asked, never cached)."""

    hub: Hub
    broker: Broker
    cluster: Cluster
    titles: TitleService
    list_events: ListEvents

    def details(self) -> dict[str, Any]:
        return {
            "node": self.broker.instance_id,
            "pid": os.getpid(),
            "open_documents": len(self.hub.rooms),
            "event_streams": self.list_events.count(),
            "publish_failures": self.cluster.publish_failures,
            "typeahead": self.titles.health(),
        }


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a node runs, by name: what the web layer, the CLI and the tests use."""

    settings: Settings
    store: DocumentStore
    auth: AuthService
    documents: DocumentService
    texts: TextSource
    hub: Hub
    comments: CommentService
    versions: VersionService
    broker: Broker
    cluster: Cluster
    titles: TitleService
    mentions: MentionService
    words: WordService
    invitations: InvitationService
    revocations: Revocations
    list_events: ListEvents
    janitor: ReplicaJanitor
    health: NodeHealth
    audit: AuditLog
    recovery: Recovery
    # --- trash, transfer, leave, duplicate ---
    trash: TrashService
    handover: Handover
    admin: AdminService
    # --- notifications ---
    notifications: NotificationService
    digests: DigestMailer
    # --- full-text search ---
    search: SearchService
    search_index: SearchIndexer
    #: Single sign-on (``oidc_issuer``); None when not configured.
    oidc: OidcProvider | None = None


def make_store(settings: Settings) -> DocumentStore:
    if settings.uses_postgres:
        from docstream.storage.postgres import PostgresDocumentStore

        assert settings.database_url is not None
        return PostgresDocumentStore(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
    from docstream.storage.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.sqlite_path)


def make_broker(
    settings: Settings, *, on_reconnect: Reconnected | None = None, node_id: str | None = None
) -> Broker:
    if settings.redis_url:
        from docstream.pubsub.redis import RedisBroker  # redis-py only when Redis is configured

        return RedisBroker(settings.redis_url, instance_id=node_id, on_reconnect=on_reconnect)
    return MemoryBroker(instance_id=node_id, on_reconnect=on_reconnect)


def jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    # Settings.validated() refuses PostgreSQL without a secret; embedded mode keeps its own.
    return load_or_create_secret(settings.data_dir)


async def _log_administrators(store: DocumentStore) -> None:
    """Say at start-up who administers the server, or that the first account will."""
    admins, _ = await store.list_users("", 100, 0)
    names = [s.user.email for s in admins if s.user.is_admin and not s.user.disabled]
    if await store.count_admins() == 0:
        log.info("no administrator yet: the first account created becomes one")
    elif names:
        log.info("administered by %s", ", ".join(names))
    else:
        log.info("administered by %d administrators", await store.count_admins())


@asynccontextmanager
async def build(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    # The data dir and DocStream's files in it are private (0700 / 0600), old installs included.
    await asyncio.to_thread(datadir.secure, settings)
    node_id = secrets.token_hex(8)  # this process in the cluster: its broker id, on its log lines
    logs.set_node(node_id)
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(make_store(settings))
        if migrate:
            applied = await store.migrate()
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            await _log_administrators(store)
        # Construct first, register, then open: an extension hears events (another node's peer
        # message, a broker reconnection) from the moment the cluster and the broker are open.
        extensions = Extensions()
        auth = AuthService(store, settings, jwt_secret(settings), extensions=extensions)
        broker = make_broker(
            settings, on_reconnect=lambda: extensions.emit(BrokerReconnected()), node_id=node_id
        )
        documents = DocumentService(
            store, extensions=extensions, max_owned=settings.max_documents_per_user
        )
        hub = Hub(store, settings, documents, extensions)
        cluster = Cluster(hub, broker, extensions, prefix=settings.redis_channel_prefix)
        revocations = Revocations(hub, auth, store, settings, publish=cluster.publish_peer)
        list_events = ListEvents(store, settings, revocations, publish=cluster.publish_peer)
        titles = TitleService(store, documents, settings, publish=cluster.publish_peer)
        mentions = MentionService(store, settings, publish=cluster.publish_peer)
        words = WordService(hub, settings)
        notifications = NotificationService(store, list_events, publish=cluster.publish_peer)
        comments = CommentService(store, hub, documents, extensions, peers=cluster)
        search_index = SearchIndexer(
            store,
            hub,
            delay=settings.search_index_delay,
            catchup_interval=settings.search_catchup_interval,
        )
        audit = AuditLog(
            store,
            retention_days=settings.audit_retention_days,
            interval=settings.audit_purge_interval,
        )
        # The order every event is handled in:
        # 1. the Hub's reactions: a revoked role or a deleted document reaches the live sockets
        #    of this node before anything slower runs;
        # 2. the cluster: then the other nodes hear of it (their sockets next); after a broker
        #    reconnection it queues the rooms' catch-up from the log first;
        # 3. revocations: a sign-out closes its sockets here, then is told to the other nodes;
        #    after a reconnection, re-check sessions and roles (sign-outs missed meanwhile);
        # 4. the document-list streams (GET /events) of this node, then the other nodes';
        # 5. the typeahead indexes (derived state, the least urgent): titles, mentions, words;
        for extension in (
            hub.reactions,
            cluster,
            revocations,
            list_events,
            titles,
            mentions,
            words,
            audit,  # 6. the audit log, written before the emit returns
            CommentRelay(hub),  # 7. other nodes' comment frames, to this node's sockets
            notifications,  # 8. notifications: stored, then pushed here and to the other nodes
            search_index,  # 9. the search index (only schedules: it indexes in its own task)
        ):
            extensions.add(extension)

        await stack.enter_async_context(broker)
        await stack.enter_async_context(hub)
        await stack.enter_async_context(cluster)
        invitations = await stack.enter_async_context(
            InvitationService(store, documents, settings, Mailer(settings))
        )
        documents.inviter = invitations
        await stack.enter_async_context(revocations)
        versions = VersionService(store, hub, settings)
        await stack.enter_async_context(titles)
        await stack.enter_async_context(mentions)
        await stack.enter_async_context(words)
        await stack.enter_async_context(
            metrics.Sampler(lambda: hub.rooms.values(), lambda: titles.failed_writes)
        )
        janitor = await stack.enter_async_context(
            ReplicaJanitor(
                store,
                retention_days=settings.replica_retention_days,
                interval=settings.replica_prune_interval,
            )
        )
        await stack.enter_async_context(LogPacker(store))
        oidc = None
        if settings.oidc_issuer:
            oidc = await stack.enter_async_context(OidcProvider(settings, jwt_secret(settings)))
        await stack.enter_async_context(audit)
        resets = await stack.enter_async_context(
            PasswordResets(store, auth, settings, Mailer(settings), extensions)
        )
        recovery = Recovery(resets, ApiTokens(store, settings), extensions)
        # --- trash, transfer, leave, duplicate ---
        trash = TrashService(store, settings, extensions)
        await stack.enter_async_context(TrashJanitor(trash, interval=settings.trash_purge_interval))
        handover = Handover(store, documents, hub, settings)
        digests = await stack.enter_async_context(DigestMailer(store, settings, Mailer(settings)))
        await stack.enter_async_context(search_index)
        yield Services(
            settings=settings,
            store=store,
            auth=auth,
            documents=documents,
            texts=hub,
            hub=hub,
            comments=comments,
            versions=versions,
            broker=broker,
            cluster=cluster,
            titles=titles,
            mentions=mentions,
            words=words,
            invitations=invitations,
            revocations=revocations,
            list_events=list_events,
            janitor=janitor,
            health=NodeHealth(hub, broker, cluster, titles, list_events),
            oidc=oidc,
            audit=audit,
            recovery=recovery,
            trash=trash,
            handover=handover,
            admin=AdminService(store, settings, auth, extensions),
            notifications=notifications,
            digests=digests,
            search=SearchService(store),
            search_index=search_index,
        )
