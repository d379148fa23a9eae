"""The ops log, snapshots and versions in SQLite.

``append_ops`` is the hot path: one ``BEGIN IMMEDIATE`` on the writer thread advances
``documents.seq`` and inserts the batch, so seqs are gap-free and a batch is all or nothing.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any, Literal

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
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import LOG_COLUMNS, as_log_entry, as_version, now_iso, parse_ts


def _names(conn: sqlite3.Connection, users: set[str]) -> dict[str, str]:
    if not users:
        return {}
    marks = ",".join("?" * len(users))
    return dict(conn.execute(f"SELECT id, name FROM users WHERE id IN ({marks})", [*users]))


def _entries(conn: sqlite3.Connection, doc_id: str, rows: list[Row]) -> list[LogEntry]:
    names = _names(conn, {r.user_id for r in rows})
    return log_entries(doc_id, rows, names)


def _packed(conn: sqlite3.Connection, doc_id: str, lo: int, hi: int) -> list[Row]:
    """The packed entries with ``lo <= seq <= hi``, oldest first."""
    blobs = conn.execute(
        "SELECT data FROM ops_packs WHERE doc_id = ? AND seq_hi >= ? AND seq_lo <= ? "
        "ORDER BY seq_lo",
        (doc_id, lo, hi),
    ).fetchall()
    return [r for (blob,) in blobs for r in decode_pack(bytes(blob)) if lo <= r.seq <= hi]


def _loose(conn: sqlite3.Connection, doc_id: str, lo: int, hi: int) -> list[Row]:
    """The entries with ``lo <= seq <= hi`` still in ``ops_log``, oldest first."""
    return [
        Row._make((*r[:5], bytes(r[5]), *r[6:10], parse_ts(r[10])))
        for r in conn.execute(
            f"SELECT {ROW_COLUMNS} FROM ops_log WHERE doc_id = ? AND seq >= ? AND seq <= ? "
            "ORDER BY seq",
            (doc_id, lo, hi),
        )
    ]


def _rows(conn: sqlite3.Connection, doc_id: str, lo: int, hi: int) -> list[Row]:
    """Every entry with ``lo <= seq <= hi``, packed or not, oldest first (call in a
    transaction: a pack written in between would otherwise hide its entries from both reads)."""
    return _packed(conn, doc_id, lo, hi) + _loose(conn, doc_id, lo, hi)


def _packed_through(conn: sqlite3.Connection, doc_id: str) -> int:
    """The last seq in a pack (0: none packed)."""
    row = conn.execute("SELECT MAX(seq_hi) FROM ops_packs WHERE doc_id = ?", (doc_id,)).fetchone()
    return int(row[0] or 0)


class SqliteLog(SqliteStoreBase):
    """Ops log, snapshots and versions."""

    # --- ops log ---------------------------------------------------------------------------------

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if not entries:
            raise DocStreamError("append_ops needs at least one entry")
        n = len(entries)

        def run(conn: sqlite3.Connection) -> int:
            now = now_iso()
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "UPDATE documents SET seq = seq + ?, updated_at = ? WHERE id = ? RETURNING seq",
                (n, now, doc_id),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("the document no longer exists")
            last = int(row[0])
            first = last - n + 1
            conn.executemany(
                "INSERT INTO ops_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        doc_id,
                        first + i,
                        e.user_id,
                        e.replica,
                        e.counter_lo,
                        e.counter_hi,
                        e.payload,
                        e.kind,
                        e.position,
                        e.length,
                        e.preview,
                        now,
                    )
                    for i, e in enumerate(entries)
                ],
            )
            conn.execute("COMMIT")
            return last

        return await self._write(run)

    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        after_seq = max(after_seq, 0)  # seqs start at 1

        def run(conn: sqlite3.Connection) -> list[LogEntry]:
            rows = conn.execute(
                f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id = l.user_id "
                "WHERE l.doc_id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?",
                (doc_id, after_seq, -1 if limit is None else limit),
            ).fetchall()
            if rows and rows[0][1] == after_seq + 1:
                return [as_log_entry(r) for r in rows]  # the tail: nothing packed in between
            conn.execute("BEGIN")
            end = (1 << 62) if limit is None else after_seq + limit
            if _packed_through(conn, doc_id) <= after_seq:
                conn.execute("COMMIT")
                return [as_log_entry(r) for r in rows]
            found = _entries(conn, doc_id, _rows(conn, doc_id, after_seq + 1, end))
            conn.execute("COMMIT")
            return found

        return await self._read(run)

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        bound = (1 << 62) if before_seq is None else before_seq

        def run(conn: sqlite3.Connection) -> list[LogEntry]:
            conn.execute("BEGIN")
            rows = conn.execute(
                f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id = l.user_id "
                "WHERE l.doc_id = ? AND l.seq < ? ORDER BY l.seq DESC LIMIT ?",
                (doc_id, bound, limit),
            ).fetchall()
            found = [as_log_entry(r) for r in rows]
            below = found[-1].seq if found else bound
            if len(found) < limit and below > 1:
                top = min(below - 1, _packed_through(conn, doc_id))
                if top >= 1:
                    lo = max(1, top - (limit - len(found)) + 1)
                    found += _entries(conn, doc_id, _packed(conn, doc_id, lo, top))[::-1]
            conn.execute("COMMIT")
            return found

        return await self._read(run)

    async def read_edit_runs(
        self, doc_id: str, before_seq: int | None, after_seq: int, entries: int, gap: float
    ) -> list[EditRun]:
        bound = (1 << 62) if before_seq is None else before_seq

        def run(conn: sqlite3.Connection) -> list[EditRun]:
            # Seqs are gap-free, so "the last n entries" is a seq range (bounds first, so the
            # primary key narrows the scan). SQLite's window functions (LAG) cost more than this
            # loop over compact rows (measured), so the runs are summed up here, on the reader
            # thread; times come as julianday floats and only run bounds are parsed.
            conn.execute("BEGIN")
            top = conn.execute(
                "SELECT MAX(seq) FROM ops_log WHERE doc_id = ? AND seq < ?", (doc_id, bound)
            ).fetchone()[0]
            packed = _packed_through(conn, doc_id)
            if top is None:
                top = min(bound - 1, packed) if packed else None
            if top is None or top < 1:
                conn.execute("COMMIT")
                return []
            lo = max(top - entries, after_seq)
            if lo < packed:  # the range reaches into packs: summed up here
                span = [
                    (r.seq, r.user_id, r.kind, r.length, r.created_at)
                    for r in _rows(conn, doc_id, lo + 1, top)
                ]
                conn.execute("COMMIT")
                return sum_runs(span, gap, _names(conn, {s[1] for s in span}))
            conn.execute("COMMIT")
            rows = conn.execute(
                "SELECT seq, user_id, kind, length, julianday(created_at), created_at "
                "FROM ops_log WHERE doc_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (doc_id, lo, top),
            )
            limit_days = gap / 86400.0
            runs: list[list[Any]] = []
            cur: list[Any] | None = None
            prev_user, prev_t = None, 0.0
            for seq, user, kind, length, t, at in rows:
                if cur is not None and user == prev_user and t - prev_t < limit_days:
                    cur[2], cur[4] = seq, at
                    cur[7] += 1
                else:
                    cur = [user, seq, seq, at, at, 0, 0, 1]
                    runs.append(cur)
                if kind == "delete":
                    cur[6] += length
                else:
                    cur[5] += length
                prev_user, prev_t = user, t
            users = {r[0] for r in runs}
            names: dict[str, str] = {}
            if users:
                marks = ",".join("?" * len(users))
                names = dict(
                    conn.execute(f"SELECT id, name FROM users WHERE id IN ({marks})", [*users])
                )
            return [
                EditRun(
                    user_id=r[0],
                    first_seq=r[1],
                    last_seq=r[2],
                    started_at=parse_ts(r[3]),
                    ended_at=parse_ts(r[4]),
                    inserted=r[5],
                    deleted=r[6],
                    edits=r[7],
                    user_name=names.get(r[0]) or "",
                )
                for r in reversed(runs)
            ]

        return await self._read(run)

    async def list_log_replicas(self, doc_id: str, after_seq: int) -> list[ReplicaAuthor]:
        def run(conn: sqlite3.Connection) -> list[ReplicaAuthor]:
            conn.execute("BEGIN")
            pairs = set(
                conn.execute(
                    "SELECT DISTINCT replica, user_id FROM ops_log WHERE doc_id = ? AND seq > ? "
                    "UNION SELECT replica, user_id FROM ops_pack_authors "
                    "WHERE doc_id = ? AND seq_lo > ?",
                    (doc_id, after_seq, doc_id, after_seq),
                )
            )
            if after_seq > 0:  # the pack holding after_seq: only its entries after it
                pairs.update(
                    pack_authors(_packed(conn, doc_id, after_seq + 1, after_seq + PACK_ROWS))
                )
            names = _names(conn, {user for _, user in pairs})
            conn.execute("COMMIT")
            return [
                ReplicaAuthor(replica=r, user_id=u, user_name=names.get(u) or "")
                for r, u in sorted(pairs)
            ]

        return await self._read(run)

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        def run(conn: sqlite3.Connection) -> int | None:
            conn.execute("BEGIN")
            row = conn.execute(
                "SELECT seq FROM ops_log WHERE doc_id = ? AND replica = ? AND counter_hi IS ? "
                "AND payload = ? ORDER BY seq DESC LIMIT 1",
                (doc_id, replica, counter_hi, payload),
            ).fetchone()
            if row is None:  # an old message re-sent: the packs this replica wrote in
                for (blob,) in conn.execute(
                    "SELECT p.data FROM ops_packs p JOIN ops_pack_authors a ON "
                    "a.doc_id = p.doc_id AND a.seq_lo = p.seq_lo WHERE p.doc_id = ? "
                    "AND a.replica = ? ORDER BY p.seq_lo DESC",
                    (doc_id, replica),
                ).fetchall():
                    hits = [
                        r.seq
                        for r in decode_pack(bytes(blob))
                        if r.replica == replica
                        and r.counter_hi == counter_hi
                        and r.payload == payload
                    ]
                    if hits:
                        row = (hits[-1],)
                        break
            conn.execute("COMMIT")
            return int(row[0]) if row else None

        return await self._read(run)

    async def pack_log(self, doc_id: str, below_seq: int, max_packs: int | None = None) -> int:
        def read(conn: sqlite3.Connection) -> tuple[int, list[Row], bytes] | None:
            conn.execute("BEGIN")
            first = _packed_through(conn, doc_id) + 1
            last = first + PACK_ROWS - 1
            # The newest entry stays a row: the document list reads its author from it.
            newest = conn.execute("SELECT seq FROM documents WHERE id = ?", (doc_id,)).fetchone()
            top = min(below_seq, int(newest[0]) - 1) if newest else 0
            rows = _loose(conn, doc_id, first, last) if last <= top else []
            conn.execute("COMMIT")
            if not rows:
                return None
            if len(rows) != PACK_ROWS:
                raise DocStreamError(
                    f"cannot pack seqs {first}-{last} of {doc_id}: {len(rows)} entries found"
                )
            try:
                blob = encode_checked(rows)
            except ValueError as exc:
                raise DocStreamError(f"cannot pack seqs {first}-{last} of {doc_id}: {exc}") from exc
            return first, rows, blob

        def write(conn: sqlite3.Connection, first: int, rows: list[Row], blob: bytes) -> bool:
            last = first + PACK_ROWS - 1
            conn.execute("BEGIN IMMEDIATE")
            if _packed_through(conn, doc_id) != first - 1:  # another packer was quicker
                conn.execute("ROLLBACK")
                return False
            conn.execute("INSERT INTO ops_packs VALUES (?, ?, ?, ?)", (doc_id, first, last, blob))
            conn.executemany(
                "INSERT INTO ops_pack_authors VALUES (?, ?, ?, ?)",
                [(doc_id, first, replica, user) for replica, user in pack_authors(rows)],
            )
            conn.execute(
                "DELETE FROM ops_log WHERE doc_id = ? AND seq >= ? AND seq <= ?",
                (doc_id, first, last),
            )
            conn.execute("COMMIT")
            return True

        packed = 0
        while max_packs is None or packed < max_packs * PACK_ROWS:
            found = await self._read(read)
            if found is None:
                break
            first, rows, blob = found
            if await self._write(functools.partial(write, first=first, rows=rows, blob=blob)):
                packed += len(rows)
        return packed

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT (doc_id, seq) DO NOTHING",
                (doc_id, seq, state, now_iso()),
            )
            conn.execute(
                "DELETE FROM snapshots WHERE doc_id = ? AND seq NOT IN (SELECT seq FROM snapshots "
                "WHERE doc_id = ? ORDER BY seq DESC LIMIT ?)",
                (doc_id, doc_id, keep),
            )
            conn.execute("COMMIT")

        await self._write(run)

    async def snapshot_seq(self, doc_id: str) -> int | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT MAX(seq) FROM snapshots WHERE doc_id = ?", (doc_id,)
            ).fetchone()
        )
        return None if row[0] is None else int(row[0])

    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        bound = (1 << 62) if before_seq is None else before_seq
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, seq, state, created_at FROM snapshots WHERE doc_id = ? "
                "AND seq < ? ORDER BY seq DESC LIMIT 1",
                (doc_id, bound),
            ).fetchone()
        )
        if row is None:
            return None
        return Snapshot(doc_id=row[0], seq=row[1], state=bytes(row[2]), created_at=parse_ts(row[3]))

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
        def run(conn: sqlite3.Connection) -> VersionRecord:
            conn.execute("BEGIN IMMEDIATE")
            exists = conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if exists is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("the document no longer exists")
            row = conn.execute(
                "INSERT INTO versions SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?, ?, ?, ? "
                "FROM versions WHERE doc_id = ? RETURNING doc_id, version, seq, kind, label, "
                "author_id, length, created_at, NULL",
                (doc_id, seq, kind, label, author_id, text, len(text), now_iso(), doc_id),
            ).fetchone()
            conn.execute(
                "DELETE FROM versions WHERE doc_id = ? AND kind = ? AND version NOT IN ("
                "SELECT version FROM versions WHERE doc_id = ? AND kind = ? "
                "ORDER BY version DESC LIMIT ?)",
                (doc_id, kind, doc_id, kind, keep),
            )
            conn.execute("COMMIT")
            return as_version(row, with_text=False)

        return await self._write(run)

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, NULL "
                "FROM versions WHERE doc_id = ? ORDER BY version DESC",
                (doc_id,),
            ).fetchall()
        )
        return [as_version(r, with_text=False) for r in rows]

    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, text "
                "FROM versions WHERE doc_id = ? AND version = ?",
                (doc_id, version),
            ).fetchone()
        )
        return as_version(row, with_text=True) if row else None
