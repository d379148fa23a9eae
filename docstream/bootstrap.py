"""The composition root: the only place that picks concrete backends and wires services together.

``build(settings)`` is an async context manager that opens every long-lived part in order and closes
them in reverse order on the way out (stores, brokers, the hub, typeahead services).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from docstream import datadir
from docstream.collab.cluster import Cluster
from docstream.collab.hub import Hub
from docstream.collab.revocation import Revocations
from docstream.pubsub.base import Broker
from docstream.pubsub.memory import MemoryBroker
from docstream.services.auth import AuthService, load_or_create_secret
from docstream.services.documents import DocumentService, TextSource
from docstream.services.invitations import InvitationService
from docstream.services.janitor import ReplicaJanitor
from docstream.services.mail import Mailer
from docstream.services.versions import VersionService
from docstream.settings import Settings
from docstream.storage.base import DocumentStore
from docstream.typeahead.mentions import MentionService
from docstream.typeahead.titles import TitleService
from docstream.typeahead.words import WordService

log = logging.getLogger("docstream")


@dataclass
class Services:
    settings: Settings
    store: DocumentStore
    auth: AuthService
    documents: DocumentService
    texts: TextSource
    extras: dict[str, Any] = field(default_factory=dict)


def make_store(settings: Settings) -> DocumentStore:
    if settings.uses_postgres:
        from docstream.storage.postgres import PostgresDocumentStore

        assert settings.database_url is not None
        return PostgresDocumentStore(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
    from docstream.storage.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.sqlite_path)


def make_broker(settings: Settings) -> Broker:
    if settings.redis_url:
        from docstream.pubsub.redis import RedisBroker  # redis-py only when Redis is configured

        return RedisBroker(settings.redis_url)
    return MemoryBroker()


def jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    # Settings.validated() refuses PostgreSQL without a secret; embedded mode keeps its own.
    return load_or_create_secret(settings.data_dir)


@asynccontextmanager
async def build(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    # The data dir and DocStream's files in it are private (0700 / 0600), old installs included.
    await asyncio.to_thread(datadir.secure, settings)
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(make_store(settings))
        if migrate:
            applied = await store.migrate()
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        auth = AuthService(store, settings, jwt_secret(settings))
        documents = DocumentService(store, max_owned=settings.max_documents_per_user)
        broker = await stack.enter_async_context(make_broker(settings))
        hub = await stack.enter_async_context(Hub(store, settings, documents))
        cluster = await stack.enter_async_context(
            Cluster(hub, broker, prefix=settings.redis_channel_prefix)
        )
        documents.listeners += [hub, cluster]
        invitations = await stack.enter_async_context(
            InvitationService(store, documents, settings, Mailer(settings))
        )
        documents.inviter = invitations
        revocations = await stack.enter_async_context(
            Revocations(hub, auth, store, settings, publish=cluster.publish_custom)
        )
        cluster.custom_handlers["sessions"] = revocations.on_cluster_event
        broker.on_reconnect.append(revocations.recheck_all)
        versions = VersionService(store, hub, settings)
        titles = TitleService(store, documents, settings, publish=cluster.publish_custom)
        mentions = MentionService(store, settings, publish=cluster.publish_custom)
        cluster.custom_handlers["titles"] = titles.on_cluster_event
        cluster.custom_handlers["mentions"] = mentions.on_cluster_event
        broker.on_reconnect.append(titles.resync)
        await stack.enter_async_context(titles)
        await stack.enter_async_context(mentions)
        words = await stack.enter_async_context(WordService(hub, settings))
        janitor = await stack.enter_async_context(
            ReplicaJanitor(
                store,
                retention_days=settings.replica_retention_days,
                interval=settings.replica_prune_interval,
            )
        )
        documents.listeners += [titles, mentions]
        extras: dict[str, Any] = {
            "hub": hub,
            "versions": versions,
            "broker": broker,
            "cluster": cluster,
            "titles": titles,
            "mentions": mentions,
            "words": words,
            "invitations": invitations,
            "revocations": revocations,
            "janitor": janitor,
        }
        extras["health_details"] = {
            "node": lambda: broker.instance_id,
            "pid": os.getpid,
            "open_documents": lambda: len(hub.rooms),
            "publish_failures": lambda: cluster.publish_failures,
            "typeahead": titles.health,
        }
        if settings.redis_url:
            from docstream.pubsub.counter import RedisWindowCounter
            from docstream.pubsub.redis import RedisBroker

            assert isinstance(broker, RedisBroker)
            extras["redis_health"] = broker.health
            extras["rate_limit_counter"] = RedisWindowCounter(broker.client)
        yield Services(
            settings=settings, store=store, auth=auth, documents=documents, texts=hub, extras=extras
        )
