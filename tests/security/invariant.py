"""The document-integrity invariant, as one reusable check.

Whatever clients sent, a document has one truth: its ops log. The server's copy of the text (what
REST, export, versions and fresh joiners get), the replay of the log from seq 0, the latest snapshot
plus the log after it, and every connected replica that has caught up must all be the same text.
A message applied to the server's replica but never logged (or logged but never broadcast) breaks
one of these equalities, which is why the check reads the log itself through the project's own
store classes and replays it with the project's own CRDT, rather than trusting any cache.

Use it from anything that can reach the store: a fuzzer against a real server (open the server's
database with ``SqliteDocumentStore`` / ``PostgresDocumentStore`` beside it; only read methods are
called), or a state machine over a ``Room``::

    views = await check_integrity(store, doc_id, text=room.doc.text, seq=room.seq,
                                  clients={"alice": alice.text})
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from docstream.collab.loader import decode_payload, unseal_state
from docstream.crdt import Document
from docstream.errors import DocStreamError
from docstream.storage.base import DocumentStore
from docstream.storage.postgres import PostgresDocumentStore
from docstream.storage.sqlite import SqliteDocumentStore
from testkit.processes import ServerProcess

#: The replica the check's own documents edit as (they never create ops).
REPLAY_REPLICA = "integrity-replay"
#: How many of the newest versions are compared with the replay (each needs the text at its seq).
VERSIONS_CHECKED = 5


class IntegrityError(AssertionError):
    """The invariant does not hold; the message lists every broken equality."""


@dataclass
class LogViews:
    """What the store says a document is, computed only from the log, snapshots and versions."""

    doc_id: str
    #: ``documents.seq`` (None if the document row is gone).
    doc_seq: int | None
    #: The seq of the last log entry (0 for an empty log).
    log_seq: int
    #: The text of replaying the whole log from seq 0.
    replay_text: str
    #: The seq of the latest snapshot (None without one).
    snapshot_seq: int | None
    #: The latest snapshot's text plus the log after it (== replay_text when there is no snapshot).
    snapshot_text: str
    #: The latest snapshot's own text (None without one).
    snapshot_own_text: str | None = None
    #: The replay's text at given seqs (the snapshot's and the checked versions').
    replay_at: dict[int, str] = field(default_factory=dict)
    #: (version number, seq, text) of the newest versions.
    versions: list[tuple[int, int, str]] = field(default_factory=list)
    #: Structural faults found while reading: gaps, undecodable payloads, unappliable entries.
    faults: list[str] = field(default_factory=list)


def _replica_doc() -> Document:
    return Document(replica=REPLAY_REPLICA)


async def read_views(store: DocumentStore, doc_id: str) -> LogViews:
    """Read the log, the latest snapshot and the newest versions, and replay them."""
    faults: list[str] = []
    record = await store.get_document(doc_id)
    entries = await store.read_ops(doc_id, 0)
    snapshot = await store.latest_snapshot(doc_id)
    versions = (await store.list_versions(doc_id))[:VERSIONS_CHECKED]
    wanted = {v.seq for v in versions}
    if snapshot is not None:
        wanted.add(snapshot.seq)

    doc = _replica_doc()
    replay_at: dict[int, str] = {}
    if 0 in wanted:
        replay_at[0] = ""
    expected = 1
    for entry in entries:
        if entry.seq != expected:
            faults.append(f"the log jumps from seq {expected - 1} to {entry.seq}")
            expected = entry.seq
        expected += 1
        try:
            doc.apply(decode_payload(entry.payload))
        except DocStreamError as exc:
            faults.append(f"log entry {entry.seq} cannot be replayed: {exc.detail}")
        if entry.seq in wanted:
            replay_at[entry.seq] = doc.text
    log_seq = entries[-1].seq if entries else 0

    snapshot_seq: int | None = None
    snapshot_own_text: str | None = None
    snapshot_text = doc.text
    if snapshot is not None:
        snapshot_seq = snapshot.seq
        try:
            state = unseal_state(snapshot.state)  # the stored form carries a checksum
            from_snapshot = Document.decode_state(state, replica=REPLAY_REPLICA)
            snapshot_own_text = from_snapshot.text
            for entry in entries:
                if entry.seq > snapshot.seq:
                    from_snapshot.apply(decode_payload(entry.payload))
            snapshot_text = from_snapshot.text
        except DocStreamError as exc:
            faults.append(f"the snapshot at seq {snapshot.seq} plus the log: {exc.detail}")
            snapshot_text = f"<unreadable: {exc.detail}>"

    checked: list[tuple[int, int, str]] = []
    for v in versions:
        full = await store.get_version(doc_id, v.version)
        if full is not None and full.text is not None:
            checked.append((v.version, v.seq, full.text))
    return LogViews(
        doc_id=doc_id,
        doc_seq=None if record is None else record.seq,
        log_seq=log_seq,
        replay_text=doc.text,
        snapshot_seq=snapshot_seq,
        snapshot_text=snapshot_text,
        snapshot_own_text=snapshot_own_text,
        replay_at=replay_at,
        versions=checked,
        faults=faults,
    )


def _short(text: str, limit: int = 120) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"...({len(text)} chars)"


def integrity_problems(
    views: LogViews,
    *,
    text: str | None = None,
    seq: int | None = None,
    clients: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> list[str]:
    """Every broken equality between the log's views, the server's copy and the clients.

    ``text``/``seq``: the server's current text and the seq it reflects (REST ``GET
    /documents/{id}``, or a Room's ``doc.text``/``seq``). ``clients``: name -> text of each replica
    that has caught up with ``seq``.
    """
    problems = list(views.faults)
    if views.doc_seq is not None and views.doc_seq != views.log_seq:
        problems.append(f"documents.seq is {views.doc_seq} but the log ends at {views.log_seq}")
    if views.snapshot_seq is not None:
        if views.snapshot_seq > views.log_seq:
            problems.append(
                f"the latest snapshot is at seq {views.snapshot_seq}, beyond the log "
                f"({views.log_seq})"
            )
        at = views.replay_at.get(views.snapshot_seq)
        if at is not None and views.snapshot_own_text is not None and views.snapshot_own_text != at:
            problems.append(
                f"the snapshot at seq {views.snapshot_seq} = {_short(views.snapshot_own_text)} but "
                f"the replay at that seq = {_short(at)}"
            )
    if views.snapshot_text != views.replay_text:
        problems.append(
            f"snapshot (seq {views.snapshot_seq}) + log = {_short(views.snapshot_text)} but the "
            f"replay from seq 0 = {_short(views.replay_text)}"
        )
    for version, vseq, vtext in views.versions:
        at = views.replay_at.get(vseq)
        if vseq > views.log_seq:
            problems.append(f"version {version} is at seq {vseq}, beyond the log ({views.log_seq})")
        elif at is not None and at != vtext:
            problems.append(
                f"version {version} (seq {vseq}) = {_short(vtext)} but the replay at that seq "
                f"= {_short(at)}"
            )
    if seq is not None and seq != views.log_seq:
        problems.append(f"the server says seq {seq} but the log ends at {views.log_seq}")
    if text is not None and text != views.replay_text:
        problems.append(
            f"the server's text = {_short(text)} but the replay of its log = "
            f"{_short(views.replay_text)}"
        )
    reference = views.replay_text
    pairs = clients.items() if isinstance(clients, Mapping) else clients
    for name, client_text in pairs:
        if client_text != reference:
            problems.append(
                f"client {name} has {_short(client_text)} but the log says {_short(reference)}"
            )
    return problems


async def check_integrity(
    store: DocumentStore,
    doc_id: str,
    *,
    text: str | None = None,
    seq: int | None = None,
    clients: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> LogViews:
    """Read the views and raise :class:`IntegrityError` listing every problem (or return them)."""
    views = await read_views(store, doc_id)
    problems = integrity_problems(views, text=text, seq=seq, clients=clients)
    if problems:
        raise IntegrityError(f"document {doc_id}: " + "; ".join(problems))
    return views


@contextlib.asynccontextmanager
async def server_store(
    server: ServerProcess, backend_args: Sequence[str]
) -> AsyncIterator[DocumentStore]:
    """The database of a running ``docstream serve``, opened beside it (read methods only).

    ``backend_args`` are the server's backend arguments (the ``server_backend`` fixture): with
    ``--database-url`` the same PostgreSQL database, else the SQLite file in its data dir (WAL mode
    lets a second process read while the server writes).
    """
    args = list(backend_args)
    store: DocumentStore
    if "--database-url" in args:
        store = PostgresDocumentStore(args[args.index("--database-url") + 1], max_size=2)
    else:
        assert server.data_dir is not None
        store = SqliteDocumentStore(server.data_dir / "docstream.sqlite3", readers=1)
    async with store:
        yield store
