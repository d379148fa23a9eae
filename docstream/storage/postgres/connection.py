"""The PostgreSQL store's connection pool, error translation and migrations (psycopg 3, async).

``psycopg`` and pool errors become DocStream errors in ``_conn`` and nowhere else. Migrations run
under an advisory lock, so nodes starting at the same time do not race.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from docstream.errors import (
    ConflictError,
    DocStreamError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from docstream.storage import migrate
from docstream.storage.base import DocumentStore

_MIGRATION_LOCK = 0x646F6373  # "docs"


async def _configure(conn: AsyncConnection[Any]) -> None:
    # Ids travel as strings everywhere in DocStream.
    conn.adapters.register_loader("uuid", TextLoader)


class PostgresStoreBase(DocumentStore):
    """The pool, error translation and migrations: what every concern of the PostgreSQL store runs
    on."""

    dialect = "postgres"

    def __init__(
        self, dsn: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        self.dsn = dsn
        self._pool = AsyncConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=timeout,
            configure=_configure,
            kwargs={"autocommit": True},
        )

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[AsyncConnection[Any]]:
        try:
            async with self._pool.connection() as conn:
                yield conn
        except DocStreamError:
            raise
        except PoolTimeout as exc:
            raise StorageError("the database is unavailable") from exc
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError("this already exists") from exc
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFoundError("no such document or user") from exc
        except psycopg.DataError as exc:
            # A value PostgreSQL cannot store (a NUL in text, an out-of-range number): the
            # request's fault, not an outage. The services validate first; this is the backstop.
            raise InvalidInputError("a value in the request cannot be stored") from exc
        except psycopg.Error as exc:
            raise StorageError(f"database error: {type(exc).__name__}") from exc

    async def _one(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> tuple[Any, ...] | None:
        async with self._conn() as conn:
            cur = await conn.execute(sql.encode(), params)
            row: tuple[Any, ...] | None = await cur.fetchone()
            return row

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._conn() as conn:
            cur = await conn.execute(sql.encode(), params)
            rows: list[tuple[Any, ...]] = await cur.fetchall()
            return rows

    async def open(self) -> None:
        try:
            await self._pool.open(wait=False)
        except psycopg.Error as exc:
            raise StorageError("cannot connect to PostgreSQL") from exc

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        await self._one("SELECT 1")

    async def pending_migrations(self) -> list[str]:
        available = migrate.discover(self.dialect)
        async with self._conn() as conn:
            cur = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            row = await cur.fetchone()
            applied: dict[int, str] = {}
            if row is not None and row[0]:
                cur = await conn.execute("SELECT version, checksum FROM schema_migrations")
                applied = {int(v): str(c) for v, c in await cur.fetchall()}
        return [m.name for m in migrate.pending(available, applied)]

    async def migrate(self) -> list[str]:
        available = migrate.discover(self.dialect)
        names: list[str] = []
        async with self._conn() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                    "name text NOT NULL, checksum text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
                cur = await conn.execute("SELECT version, checksum FROM schema_migrations")
                applied = {int(v): str(c) for v, c in await cur.fetchall()}
                for m in migrate.pending(available, applied):
                    async with conn.transaction():
                        await conn.execute(m.sql.encode())
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) "
                            "VALUES (%s, %s, %s)",
                            (m.version, m.name, m.checksum),
                        )
                    names.append(m.name)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        return names
