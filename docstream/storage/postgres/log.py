"""The ops log, snapshots and versions in PostgreSQL.

``append_ops`` is the hot path: one statement takes the document's row lock with ``UPDATE documents
SET seq = seq + n ... RETURNING`` and inserts the batch in the same implicit transaction, so seqs
are gap-free and unique even when several server processes write to one document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from docstream.errors import DocStreamError, NotFoundError
from docstream.storage.base import LogEntry, NewLogEntry, Snapshot, VersionRecord
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import LOG_COLUMNS, as_log_entry, as_version, is_uuid


class PostgresLog(PostgresStoreBase):
    """Ops log, snapshots and versions."""

    # --- ops log ---------------------------------------------------------------------------------

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if not entries:
            raise DocStreamError("append_ops needs at least one entry")
        if not is_uuid(doc_id):
            raise NotFoundError("the document no longer exists")
        n = len(entries)
        # One statement, one round trip: the UPDATE takes the document's row lock and assigns the
        # seqs; the INSERT of every entry runs in the same implicit transaction.
        row = await self._one(
            "WITH d AS (UPDATE documents SET seq = seq + %(n)s, updated_at = now() "
            "WHERE id = %(doc)s RETURNING seq) "
            "INSERT INTO ops_log (doc_id, seq, user_id, replica, counter_lo, counter_hi, payload, "
            "kind, position, length, preview) "
            "SELECT %(doc)s, d.seq - %(n)s + t.ord, t.u, t.r, t.lo, t.hi, t.p, t.k, t.pos, t.len, "
            "t.pre FROM d, unnest(%(u)s::text[], %(r)s::text[], %(lo)s::bigint[], "
            "%(hi)s::bigint[], %(p)s::bytea[], %(k)s::text[], %(pos)s::bigint[], "
            "%(len)s::bigint[], %(pre)s::text[]) WITH ORDINALITY "
            "AS t(u, r, lo, hi, p, k, pos, len, pre, ord) "
            "RETURNING (SELECT seq FROM d)",
            {
                "n": n,
                "doc": doc_id,
                "u": [e.user_id for e in entries],
                "r": [e.replica for e in entries],
                "lo": [e.counter_lo for e in entries],
                "hi": [e.counter_hi for e in entries],
                "p": [e.payload for e in entries],
                "k": [e.kind for e in entries],
                "pos": [e.position for e in entries],
                "len": [e.length for e in entries],
                # PostgreSQL text cannot hold NUL (a legal code point in a document): the preview
                # is for display only, and one NUL must not fail the batch's other messages.
                "pre": [e.preview.replace("\x00", "\ufffd") for e in entries],
            },
        )
        if row is None:
            raise NotFoundError("the document no longer exists")
        return int(row[0])

    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id::text = l.user_id "
            "WHERE l.doc_id = %s AND l.seq > %s ORDER BY l.seq LIMIT %s",
            (doc_id, after_seq, limit),
        )
        return [as_log_entry(r) for r in rows]

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        if not is_uuid(doc_id):
            return []
        bound = (1 << 62) if before_seq is None else before_seq
        rows = await self._all(
            f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id::text = l.user_id "
            "WHERE l.doc_id = %s AND l.seq < %s ORDER BY l.seq DESC LIMIT %s",
            (doc_id, bound, limit),
        )
        return [as_log_entry(r) for r in rows]

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        # Equality on counter_hi (or IS NULL) lets the (doc_id, replica, counter_hi) index narrow
        # the rows whose payload is compared.
        hi = "counter_hi IS NULL" if counter_hi is None else "counter_hi = %(hi)s"
        row = await self._one(
            f"SELECT seq FROM ops_log WHERE doc_id = %(doc)s AND replica = %(r)s AND {hi} "
            "AND payload = %(p)s ORDER BY seq DESC LIMIT 1",
            {"doc": doc_id, "r": replica, "hi": counter_hi, "p": payload},
        )
        return int(row[0]) if row else None

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO snapshots (doc_id, seq, state) VALUES (%s, %s, %s) "
                "ON CONFLICT (doc_id, seq) DO NOTHING",
                (doc_id, seq, state),
            )
            await conn.execute(
                "DELETE FROM snapshots WHERE doc_id = %s AND seq NOT IN (SELECT seq FROM snapshots "
                "WHERE doc_id = %s ORDER BY seq DESC LIMIT %s)",
                (doc_id, doc_id, keep),
            )

    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        if not is_uuid(doc_id):
            return None
        bound = (1 << 62) if before_seq is None else before_seq
        row = await self._one(
            "SELECT doc_id, seq, state, created_at FROM snapshots WHERE doc_id = %s "
            "AND seq < %s ORDER BY seq DESC LIMIT 1",
            (doc_id, bound),
        )
        if row is None:
            return None
        return Snapshot(doc_id=row[0], seq=row[1], state=bytes(row[2]), created_at=row[3])

    # --- versions --------------------------------------------------------------------------------

    async def create_version(
        self,
        doc_id: str,
        seq: int,
        text: str,
        kind: Literal["auto", "named"],
        label: str | None,
        author_id: str | None,
        keep: int,
    ) -> VersionRecord:
        if not is_uuid(doc_id):
            raise NotFoundError("the document no longer exists")
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute("SELECT 1 FROM documents WHERE id = %s FOR UPDATE", (doc_id,))
            if await cur.fetchone() is None:
                raise NotFoundError("the document no longer exists")
            cur = await conn.execute(
                "INSERT INTO versions (doc_id, version, seq, kind, label, author_id, text, length) "
                "SELECT %s, COALESCE(MAX(version), 0) + 1, %s, %s, %s, %s, %s, %s "
                "FROM versions WHERE doc_id = %s RETURNING doc_id, version, seq, kind, label, "
                "author_id, length, created_at, NULL",
                (doc_id, seq, kind, label, author_id, text, len(text), doc_id),
            )
            row = await cur.fetchone()
            assert row is not None
            await conn.execute(
                "DELETE FROM versions WHERE doc_id = %s AND kind = %s AND version NOT IN ("
                "SELECT version FROM versions WHERE doc_id = %s AND kind = %s "
                "ORDER BY version DESC LIMIT %s)",
                (doc_id, kind, doc_id, kind, keep),
            )
            return as_version(row, with_text=False)

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, NULL "
            "FROM versions WHERE doc_id = %s ORDER BY version DESC",
            (doc_id,),
        )
        return [as_version(r, with_text=False) for r in rows]

    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, text "
            "FROM versions WHERE doc_id = %s AND version = %s",
            (doc_id, version),
        )
        return as_version(row, with_text=True) if row else None
