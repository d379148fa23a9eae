"""Damaged snapshots and stored data: the log is the truth, and the caller is never blamed.

Against a real server per backend: the snapshots of a document are damaged in the database while
the server is stopped (a bit flipped on disk, a torn write, a wrong tag); on restart the document
opens with exactly its log's text, from an older snapshot or a full replay, and the log says so.
A damaged log entry (which nothing can replace) is a server error without internals, not a 400.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from docstream.client import DocStreamClient
from docstream.collab.loader import SEAL_TAG, seal_state, unseal_state
from docstream.crdt import Document
from docstream.errors import StateFormatError
from testkit.accounts import Users
from testkit.processes import ServerFactory

ENV = {"DOCSTREAM_SNAPSHOT_EVERY": "5", "DOCSTREAM_SNAPSHOT_MIN_INTERVAL": "0"}


def test_a_sealed_state_unseals_and_any_damage_is_detected() -> None:
    doc = Document("sealtest1")
    doc.insert(0, "hello world")
    state = doc.encode_state()
    sealed = seal_state(state)
    assert sealed[0] == SEAL_TAG and unseal_state(sealed) == state
    assert unseal_state(state) == state  # snapshots stored before sealing still open
    for damaged in (
        sealed[:-1],  # torn write
        sealed[:7] + bytes([sealed[7] ^ 0x10]) + sealed[8:],  # one bit flipped
        sealed[:3],
        b"\x7fjunk",
        b"",
    ):
        with pytest.raises(StateFormatError):
            unseal_state(damaged)


@contextlib.contextmanager
def database(data_dir: str, backend: list[str]) -> Iterator[object]:
    """A DB-API connection to the (stopped) server's database."""
    if backend:
        with psycopg.connect(backend[backend.index("--database-url") + 1], autocommit=True) as c:
            yield c
    else:
        conn = sqlite3.connect(Path(data_dir) / "docstream.sqlite3", isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()


def execute(conn: object, sql: str, *args: object) -> list[tuple[object, ...]]:
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql.replace("%s", "?"), args).fetchall()
    assert isinstance(conn, psycopg.Connection)
    with conn.cursor() as cur:
        cur.execute(sql, args)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


async def write_and_stop(start_server: ServerFactory, data_dir: str) -> tuple[str, str, str]:
    """Type into a document until it has several snapshots, then stop the server.

    Returns the document id, its text and the owner's e-mail address.
    """
    with start_server(["--data-dir", data_dir], env=ENV) as server:
        users = Users(server.url)
        ann = await users.new("ann")
        doc_id = (await ann.create_document("Snapshots"))["id"]
        async with ann.open(doc_id) as live:
            for word in ("one ", "two ", "three ", "four ", "five ", "six "):
                for ch in word:
                    live.insert(len(live.text), ch)
                await live.synced()
            text = live.text
        email = str(ann.user["email"])  # type: ignore[index]
        await users.close()
        assert server.stop() == 0  # the last client left: final snapshot; then a clean stop
    return doc_id, text, email


def query(data_dir: str, backend: list[str], sql: str, *args: object) -> list[tuple[object, ...]]:
    """Run ``sql`` on the database of a stopped server."""
    with database(data_dir, backend) as conn:
        return execute(conn, sql, *args)


def flipped(blob: object) -> bytes:
    damaged = bytearray(bytes(blob))  # type: ignore[call-overload]
    damaged[len(damaged) // 2] ^= 0x40  # one bit in the middle
    return bytes(damaged)


@pytest.mark.parametrize("damage", ["latest", "all"])
async def test_a_damaged_snapshot_falls_back_to_an_older_one_or_a_full_replay(
    start_server: ServerFactory, server_backend: list[str], tmp_path: Path, damage: str
) -> None:
    data_dir = str(tmp_path / "data")
    doc_id, text, email = await write_and_stop(start_server, data_dir)
    rows = query(
        data_dir,
        server_backend,
        "SELECT seq, state FROM snapshots WHERE doc_id = %s ORDER BY seq DESC",
        doc_id,
    )
    assert len(rows) >= 2, rows
    for seq, state in rows[:1] if damage == "latest" else rows:
        query(
            data_dir,
            server_backend,
            "UPDATE snapshots SET state = %s WHERE doc_id = %s AND seq = %s",
            flipped(state),
            doc_id,
            seq,
        )
    with start_server(["--data-dir", data_dir], env=ENV) as server:
        ann = DocStreamClient(server.url)
        await ann.login(email, "password123")
        assert (await ann.get_document(doc_id))["text"] == text
        async with ann.open(doc_id) as live:  # a fresh replica gets the same document
            await live.synced()
            assert live.text == text
            live.insert(0, ">")  # and the document goes on
            await live.synced()
        assert (await ann.get_document(doc_id))["text"] == ">" + text
        await ann.aclose()
        log = server.log()
    assert "is damaged" in log
    assert ("replaying the whole log" in log) == (damage == "all")
    assert "Traceback" not in log


async def test_a_damaged_log_entry_is_a_server_error_without_internals(
    start_server: ServerFactory, server_backend: list[str], tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "data")
    doc_id, _, email = await write_and_stop(start_server, data_dir)
    query(data_dir, server_backend, "DELETE FROM snapshots WHERE doc_id = %s", doc_id)
    query(
        data_dir,
        server_backend,
        "UPDATE ops_log SET payload = %s WHERE doc_id = %s AND seq = 3",
        b"\x01[{not json",
        doc_id,
    )
    with start_server(["--data-dir", data_dir], env=ENV) as server:
        ann = DocStreamClient(server.url)
        await ann.login(email, "password123")
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.get(
                f"/documents/{doc_id}", headers={"Authorization": f"Bearer {ann.access_token}"}
            )
        assert response.status_code == 500
        assert response.json() == {
            "error": {"code": "INTERNAL_ERROR", "message": "internal server error"}
        }
        await ann.aclose()
