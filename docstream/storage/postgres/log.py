"""The ops log, snapshots and versions in PostgreSQL.

``append_ops`` is the hot path: one statement takes the document's row lock with ``UPDATE documents
SET seq = seq + n ... RETURNING`` and inserts the batch in the same implicit transaction, so seqs
are gap-free and unique even when several server processes write to one document.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

from psycopg import AsyncConnection

from docstream.errors import DocStreamError, NotFoundError
from docstream.storage.base import (
    EditRun,
    LogEntry,
    NewLogEntry,
    ReplicaAuthor,
    Snapshot,
    VersionRecord,
)
from docstream.storage.packs import (
    PACK_ROWS,
    ROW_COLUMNS,
    Row,
    decode_pack,
    encode_checked,
    log_entries,
    pack_authors,
    sum_runs,
)
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import LOG_COLUMNS, as_log_entry, as_version, is_uuid


async def _fetch(conn: AsyncConnection[Any], sql: str, params: Sequence[Any]) -> list[Any]:
    cur = await conn.execute(sql.encode(), params)
    return await cur.fetchall()


async def _names(conn: AsyncConnection[Any], users: set[str]) -> dict[str, str]:
    if not users:
        return {}
    rows = await _fetch(
        conn, "SELECT id::text, name FROM users WHERE id::text = ANY(%s)", [[*users]]
    )
    return dict(rows)


async def _entries(conn: AsyncConnection[Any], doc_id: str, rows: list[Row]) -> list[LogEntry]:
    names = await _names(conn, {r.user_id for r in rows})
    return log_entries(doc_id, rows, names)


async def _packed(conn: AsyncConnection[Any], doc_id: str, lo: int, hi: int) -> list[Row]:
    """The packed entries with ``lo <= seq <= hi``, oldest first."""
    blobs = await _fetch(
        conn,
        "SELECT data FROM ops_packs WHERE doc_id = %s AND seq_hi >= %s AND seq_lo <= %s "
        "ORDER BY seq_lo",
        (doc_id, lo, hi),
    )
    return [r for (blob,) in blobs for r in decode_pack(bytes(blob)) if lo <= r.seq <= hi]


async def _loose(conn: AsyncConnection[Any], doc_id: str, lo: int, hi: int) -> list[Row]:
    """The entries with ``lo <= seq <= hi`` still in ``ops_log``, oldest first."""
    rows = await _fetch(
        conn,
        f"SELECT {ROW_COLUMNS} FROM ops_log WHERE doc_id = %s AND seq >= %s AND seq <= %s "
        "ORDER BY seq",
        (doc_id, lo, hi),
    )
    return [Row._make((*r[:5], bytes(r[5]), *r[6:])) for r in rows]


async def _packed_through(conn: AsyncConnection[Any], doc_id: str) -> int:
    """The last seq in a pack (0: none packed)."""
    rows = await _fetch(conn, "SELECT MAX(seq_hi) FROM ops_packs WHERE doc_id = %s", (doc_id,))
    return int(rows[0][0] or 0)


class PostgresLog(PostgresStoreBase):
    """Ops log, snapshots and versions."""

    @asynccontextmanager
    async def _consistent(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A transaction whose reads all see one snapshot (a pack written in between would
        otherwise hide its entries from both the packs and the rows read)."""
        async with self._conn() as conn, conn.transaction():
            await conn.execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

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
        after_seq = max(after_seq, 0)  # seqs start at 1
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id::text = l.user_id "
            "WHERE l.doc_id = %s AND l.seq > %s ORDER BY l.seq LIMIT %s",
            (doc_id, after_seq, limit),
        )
        if rows and rows[0][1] == after_seq + 1:
            return [as_log_entry(r) for r in rows]  # the tail: nothing packed in between
        async with self._consistent() as conn:
            if await _packed_through(conn, doc_id) <= after_seq:
                return [as_log_entry(r) for r in rows]
            end = (1 << 62) if limit is None else after_seq + limit
            packed = await _packed(conn, doc_id, after_seq + 1, end)
            return await _entries(
                conn, doc_id, packed + await _loose(conn, doc_id, after_seq + 1, end)
            )

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        if not is_uuid(doc_id):
            return []
        bound = (1 << 62) if before_seq is None else before_seq
        async with self._consistent() as conn:
            rows = await _fetch(
                conn,
                f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id::text = l.user_id "
                "WHERE l.doc_id = %s AND l.seq < %s ORDER BY l.seq DESC LIMIT %s",
                (doc_id, bound, limit),
            )
            found = [as_log_entry(r) for r in rows]
            below = found[-1].seq if found else bound
            if len(found) < limit and below > 1:
                top = min(below - 1, await _packed_through(conn, doc_id))
                if top >= 1:
                    lo = max(1, top - (limit - len(found)) + 1)
                    found += (await _entries(conn, doc_id, await _packed(conn, doc_id, lo, top)))[
                        ::-1
                    ]
            return found

    async def read_edit_runs(
        self, doc_id: str, before_seq: int | None, after_seq: int, entries: int, gap: float
    ) -> list[EditRun]:
        if not is_uuid(doc_id):
            return []
        bound = (1 << 62) if before_seq is None else before_seq
        async with self._consistent() as conn:
            top_row = await _fetch(
                conn, "SELECT MAX(seq) FROM ops_log WHERE doc_id = %s AND seq < %s", (doc_id, bound)
            )
            top = top_row[0][0] if top_row else None
            packed = await _packed_through(conn, doc_id)
            if top is None:
                top = min(bound - 1, packed) if packed else None
            if top is None or top < 1:
                return []
            lo = max(top - entries, after_seq)
            if lo < packed:  # the range reaches into packs: summed up here
                span = [
                    (r.seq, r.user_id, r.kind, r.length, r.created_at)
                    for r in await _packed(conn, doc_id, lo + 1, top)
                    + await _loose(conn, doc_id, lo + 1, top)
                ]
                return sum_runs(span, gap, await _names(conn, {s[1] for s in span}))
        # As in SQLite: a seq range (seqs are gap-free), LAG finds where a run starts, a running
        # SUM numbers the runs.
        rows = await self._all(
            "WITH e AS (SELECT seq, user_id, kind, length, created_at, "
            "CASE WHEN user_id = LAG(user_id) OVER w AND EXTRACT(EPOCH FROM "
            "created_at - LAG(created_at) OVER w) < %s THEN 0 ELSE 1 END AS starts "
            "FROM ops_log WHERE doc_id = %s AND seq > %s AND seq <= %s "
            "WINDOW w AS (ORDER BY seq)), "
            "g AS (SELECT *, SUM(starts) OVER (ORDER BY seq) AS grp FROM e), "
            "r AS (SELECT grp, MIN(user_id) AS user_id, MIN(seq) AS first, MAX(seq) AS last, "
            "MIN(created_at) AS started, MAX(created_at) AS ended, "
            "SUM(CASE WHEN kind = 'delete' THEN 0 ELSE length END) AS ins, "
            "SUM(CASE WHEN kind = 'delete' THEN length ELSE 0 END) AS del, COUNT(*) AS n "
            "FROM g GROUP BY grp) "
            "SELECT r.user_id, r.first, r.last, r.started, r.ended, r.ins, r.del, r.n, "
            "COALESCE(u.name, '') FROM r LEFT JOIN users u ON u.id::text = r.user_id "
            "ORDER BY r.grp DESC",
            (gap, doc_id, lo, top),
        )
        return [
            EditRun(
                user_id=r[0],
                first_seq=r[1],
                last_seq=r[2],
                started_at=r[3],
                ended_at=r[4],
                inserted=int(r[5]),
                deleted=int(r[6]),
                edits=int(r[7]),
                user_name=r[8],
            )
            for r in rows
        ]

    async def list_log_replicas(self, doc_id: str, after_seq: int) -> list[ReplicaAuthor]:
        if not is_uuid(doc_id):
            return []
        async with self._consistent() as conn:
            pairs = {
                (r[0], r[1])
                for r in await _fetch(
                    conn,
                    "SELECT DISTINCT replica, user_id FROM ops_log WHERE doc_id = %s AND seq > %s "
                    "UNION SELECT replica, user_id FROM ops_pack_authors "
                    "WHERE doc_id = %s AND seq_lo > %s",
                    (doc_id, after_seq, doc_id, after_seq),
                )
            }
            if after_seq > 0:  # the pack holding after_seq: only its entries after it
                pairs.update(
                    pack_authors(await _packed(conn, doc_id, after_seq + 1, after_seq + PACK_ROWS))
                )
            names = await _names(conn, {user for _, user in pairs})
        return [
            ReplicaAuthor(replica=r, user_id=u, user_name=names.get(u) or "")
            for r, u in sorted(pairs)
        ]

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        if not is_uuid(doc_id):
            return None
        # Equality on counter_hi (or IS NULL) lets the (doc_id, replica, counter_hi) index narrow
        # the rows whose payload is compared.
        hi = "counter_hi IS NULL" if counter_hi is None else "counter_hi = %(hi)s"
        async with self._consistent() as conn:
            cur = await conn.execute(
                f"SELECT seq FROM ops_log WHERE doc_id = %(doc)s AND replica = %(r)s AND {hi} "
                "AND payload = %(p)s ORDER BY seq DESC LIMIT 1".encode(),
                {"doc": doc_id, "r": replica, "hi": counter_hi, "p": payload},
            )
            row = await cur.fetchone()
            if row is not None:
                return int(row[0])
            # An old message re-sent: the packs this replica wrote in.
            for (blob,) in await _fetch(
                conn,
                "SELECT p.data FROM ops_packs p JOIN ops_pack_authors a ON a.doc_id = p.doc_id "
                "AND a.seq_lo = p.seq_lo WHERE p.doc_id = %s AND a.replica = %s "
                "ORDER BY p.seq_lo DESC",
                (doc_id, replica),
            ):
                hits = [
                    r.seq
                    for r in decode_pack(bytes(blob))
                    if r.replica == replica and r.counter_hi == counter_hi and r.payload == payload
                ]
                if hits:
                    return hits[-1]
        return None

    async def pack_log(self, doc_id: str, below_seq: int, max_packs: int | None = None) -> int:
        if not is_uuid(doc_id):
            return 0
        packed = 0
        while max_packs is None or packed < max_packs * PACK_ROWS:
            async with self._consistent() as conn:
                first = await _packed_through(conn, doc_id) + 1
                last = first + PACK_ROWS - 1
                # The newest entry stays a row: the document list reads its author from it.
                newest = await _fetch(conn, "SELECT seq FROM documents WHERE id = %s", (doc_id,))
                top = min(below_seq, int(newest[0][0]) - 1) if newest else 0
                rows = await _loose(conn, doc_id, first, last) if last <= top else []
            if not rows:
                return packed
            if len(rows) != PACK_ROWS:
                raise DocStreamError(
                    f"cannot pack seqs {first}-{last} of {doc_id}: {len(rows)} entries found"
                )
            try:  # a few milliseconds of CPU: off the event loop
                blob = await asyncio.to_thread(encode_checked, rows)
            except ValueError as exc:
                raise DocStreamError(f"cannot pack seqs {first}-{last} of {doc_id}: {exc}") from exc
            async with self._conn() as conn, conn.transaction():
                # Another packer may have been quicker: the primary key refuses a second pack,
                # and ON CONFLICT leaves that one alone.
                cur = await conn.execute(
                    b"INSERT INTO ops_packs VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (doc_id, first, last, blob),
                )
                if cur.rowcount != 1:
                    continue
                await conn.cursor().executemany(
                    b"INSERT INTO ops_pack_authors VALUES (%s, %s, %s, %s)",
                    [(doc_id, first, replica, user) for replica, user in pack_authors(rows)],
                )
                await conn.execute(
                    b"DELETE FROM ops_log WHERE doc_id = %s AND seq >= %s AND seq <= %s",
                    (doc_id, first, last),
                )
            packed += len(rows)
        return packed

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

    async def snapshot_seq(self, doc_id: str) -> int | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one("SELECT MAX(seq) FROM snapshots WHERE doc_id = %s", (doc_id,))
        return None if row is None or row[0] is None else int(row[0])

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
