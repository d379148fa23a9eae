"""The in-memory store answers like SQLite and PostgreSQL, call for call, over random sequences.

The contract suite pins down chosen cases; this drives two stores with the same generated
sequence (users, documents, grants, links, the log, snapshots, versions, sessions, invitations,
replicas) and compares every answer, ids mapped to stable labels and timestamps left out. It skips
the few calls where the backends are allowed to differ in which error they raise for a broken
reference (a snapshot of a missing document, a reused session id or invitation token), and lets a
bounded replica prune on PostgreSQL take everything (which rows it picks is PostgreSQL's choice).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docstream.errors import DocStreamError
from docstream.storage.base import DocumentStore, NewLogEntry
from docstream.storage.memory import MemoryDocumentStore
from docstream.storage.postgres import PostgresDocumentStore
from docstream.storage.sqlite import SqliteDocumentStore

EMAILS = ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"]
REPLICAS = ["replicaA", "replicaB", "replicaC"]
MISSING = str(uuid.UUID(int=0))

OPS = [
    "register",
    "pending",
    "set_name",
    "set_password",
    "create_doc",
    "rename",
    "delete",
    "sharing",
    "set_link",
    "get_link",
    "grant",
    "revoke_grant",
    "get_role",
    "list_docs",
    "accessible",
    "collaborators",
    "titles",
    "count_owned",
    "append",
    "read_ops",
    "history",
    "find_seq",
    "snapshot",
    "latest_snapshot",
    "version",
    "list_versions",
    "get_version",
    "session",
    "rotate",
    "revoke_sessions",
    "dead_sessions",
    "invite",
    "list_invitations",
    "get_invitation",
    "delete_invitation",
    "redeem",
    "bind",
    "prune",
    "reset_issue",
    "reset_redeem",
    "token_create",
    "token_list",
    "token_get",
    "token_delete",
    "token_touch",
]


@dataclass
class Context:
    """One store's view of what the sequence created so far, in creation order."""

    users: dict[str, str] = field(default_factory=dict)  # email -> id
    docs: list[str] = field(default_factory=list)
    invitations: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)  # password reset token hashes
    api_tokens: list[str] = field(default_factory=list)  # API token ids
    api_hashes: list[str] = field(default_factory=list)
    seq: int = 0
    prune_all: bool = False  # which replicas a bounded prune takes is PostgreSQL's choice

    def user(self, i: int) -> str:
        return self.users.get(EMAILS[i % len(EMAILS)], MISSING)

    def existing_user(self, i: int) -> str | None:
        ids = list(self.users.values())
        return ids[i % len(ids)] if ids else None

    def doc(self, i: int) -> str:
        return self.docs[i % len(self.docs)] if self.docs and i < 5 else MISSING

    def labels(self) -> dict[str, str]:
        out = {uid: f"U:{email}" for email, uid in self.users.items()}
        out.update({d: f"D{n}" for n, d in enumerate(self.docs)})
        out.update({inv: f"I{n}" for n, inv in enumerate(self.invitations)})
        out.update({t: f"T{n}" for n, t in enumerate(self.api_tokens)})
        return out


def normalise(value: Any, labels: dict[str, str]) -> Any:
    if isinstance(value, msgspec.Struct):
        return {
            k: normalise(v, labels)
            for k, v in msgspec.structs.asdict(value).items()
            if not isinstance(v, datetime)
        }
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, (list, tuple)):
        return [normalise(v, labels) for v in value]
    if isinstance(value, set):
        return sorted(normalise(v, labels) for v in value)
    return value


def _hours(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=n)


async def apply(store: DocumentStore, ctx: Context, op: tuple[str, int, int, int, bool]) -> Any:
    """Run one generated call; return its answer (or its error's type) with ids as labels."""
    name, a, b, c, flag = op
    role = "editor" if flag else "viewer"
    try:
        result = await _call(store, ctx, name, a, b, c, flag, role)
    except DocStreamError as exc:
        return type(exc).__name__
    return normalise(result, ctx.labels())


async def _call(
    store: DocumentStore, ctx: Context, name: str, a: int, b: int, c: int, flag: bool, role: Any
) -> Any:
    email = EMAILS[a % len(EMAILS)]
    if name in ("register", "pending"):
        if name == "register":
            user = await store.register_user(email, f"Name{b}", f"hash{c}")
        else:
            user = await store.get_or_create_pending_user(email)
        ctx.users[email] = user.id
        return user
    if name == "set_name":
        return await store.set_user_name(ctx.user(a), f"Renamed{b}")
    if name == "set_password":
        await store.set_password(ctx.user(a), f"pw{b}")
        return await store.get_user(ctx.user(a))
    if name == "create_doc":
        owner = ctx.existing_user(a)
        if owner is None:
            return "skipped"
        doc = await store.create_document(owner, f"Title{b}")
        ctx.docs.append(doc.id)
        return doc
    if name == "rename":
        return await store.rename_document(ctx.doc(a), f"Title{b}")
    if name == "delete":
        return await store.delete_document(ctx.doc(a))
    if name == "sharing":
        return await store.set_public_sharing(ctx.doc(a), flag, role)
    if name == "set_link":
        return await store.set_public_link(ctx.doc(a), f"token{b}" if c else None)
    if name == "get_link":
        return await store.get_public_link(ctx.doc(a))
    if name == "grant":
        return await store.set_permission(ctx.doc(a), ctx.user(b), role)
    if name == "revoke_grant":
        return await store.remove_permission(ctx.doc(a), ctx.user(b))
    if name == "get_role":
        return await store.get_role(ctx.doc(a), ctx.user(b))
    if name == "list_docs":  # the order by update time is pinned in the contract suite
        return sorted(map(repr, normalise(await store.list_documents(ctx.user(a)), ctx.labels())))
    if name == "accessible":
        ids = [*ctx.docs, MISSING, "junk"]
        return await store.accessible_document_ids(ctx.user(a), ids, include_public=flag)
    if name == "collaborators":
        return await store.list_collaborators(ctx.doc(a))
    if name == "titles":
        return sorted(map(repr, normalise(await store.all_document_titles(), ctx.labels())))
    if name == "count_owned":
        return await store.count_owned_documents(ctx.user(a))
    if name == "append":
        author = ctx.user(b) if c else "guest-1"
        entries = [
            NewLogEntry(
                user_id=author,
                replica=REPLICAS[(b + i) % len(REPLICAS)],
                payload=f"p{(c + i) % 3}".encode(),
                counter_hi=None if (c + i) % 2 else i,
                preview=f"v{i}",
            )
            for i in range(1 + c % 3)
        ]
        return await store.append_ops(ctx.doc(a), entries)
    if name == "read_ops":
        return await store.read_ops(ctx.doc(a), b - 1, c if flag else None)
    if name == "history":
        return await store.read_history(ctx.doc(a), b if flag else None, c + 1)
    if name == "find_seq":
        hi = None if c % 2 else b % 3
        return await store.find_seq_of_payload(
            ctx.doc(a), REPLICAS[b % 3], f"p{c % 3}".encode(), counter_hi=hi
        )
    if name == "snapshot":
        if await store.get_document(ctx.doc(a)) is None:
            return "skipped"  # SQLite: StorageError; PostgreSQL and memory: NotFoundError
        return await store.save_snapshot(ctx.doc(a), b, f"s{b}.{c}".encode(), keep=c)
    if name == "latest_snapshot":
        return await store.latest_snapshot(ctx.doc(a), before_seq=b if flag else None)
    if name == "version":
        kind = "named" if flag else "auto"
        return await store.create_version(ctx.doc(a), b, f"text{c}", kind, None, None, keep=c)
    if name == "list_versions":
        return await store.list_versions(ctx.doc(a))
    if name == "get_version":
        return await store.get_version(ctx.doc(a), b)
    if name == "session":
        ctx.seq += 1
        sid = str(uuid.UUID(int=ctx.seq))  # always new: a reused id is not part of the model
        await store.create_session(sid, ctx.user(a), f"jti{b}", _hours(1 if flag else -1))
        ctx.sessions.append(sid)
        return sid
    if name == "rotate":
        sid = ctx.sessions[a % len(ctx.sessions)] if ctx.sessions else MISSING
        return await store.rotate_session(sid, f"jti{b}", f"jti{c}", _hours(1))
    if name == "revoke_sessions":
        pick = ctx.sessions[b % len(ctx.sessions)] if ctx.sessions else None
        only, keep = (pick, None) if flag else (None, pick if c else None)
        return sorted(await store.revoke_sessions(ctx.user(a), only=only, keep=keep))
    if name == "dead_sessions":
        return await store.dead_sessions([*ctx.sessions, MISSING])
    if name == "invite":
        inviter = ctx.existing_user(b)
        if inviter is None:
            return "skipped"
        ctx.seq += 1
        token = f"hash{ctx.seq}"  # always new: a reused token is not part of the model
        inv = await store.create_invitation(
            ctx.doc(a), EMAILS[c % 4], role, inviter, token, _hours(1 if c < 3 else -1), 1 + b % 3
        )
        ctx.invitations.append(inv.id)
        ctx.tokens.append(token)
        return inv
    if name == "list_invitations":
        return await store.list_invitations(ctx.doc(a))
    if name == "get_invitation":
        return await store.get_invitation(ctx.tokens[a % len(ctx.tokens)] if ctx.tokens else "x")
    if name == "delete_invitation":
        inv_id = ctx.invitations[b % len(ctx.invitations)] if ctx.invitations else MISSING
        return await store.delete_invitation(ctx.doc(a), inv_id)
    if name == "redeem":
        user = ctx.existing_user(b)
        if user is None:
            return "skipped"
        return await store.redeem_invitation(
            ctx.tokens[a % len(ctx.tokens)] if ctx.tokens else "x", user
        )
    if name == "bind":
        return await store.bind_replica(REPLICAS[a % 3], ctx.user(b) if flag else "guest-1")
    if name == "prune":
        return await store.prune_replicas(
            _hours(1 if flag else -24), limit=99 if ctx.prune_all else c
        )
    if name.startswith(("reset_", "token_")):
        return await _recovery_call(store, ctx, name, a, b, c, flag)
    raise AssertionError(name)


def _pick(items: list[str], i: int, missing: str = MISSING) -> str:
    return items[i % len(items)] if items else missing


async def _recovery_call(
    store: DocumentStore, ctx: Context, name: str, a: int, b: int, c: int, flag: bool
) -> Any:
    """Password resets and personal API tokens."""
    if name == "reset_issue":
        ctx.seq += 1
        token_hash = f"reset{ctx.seq}"  # always new: a reused hash is not part of the model
        await store.create_password_reset(ctx.user(a), token_hash, _hours(1 if flag else -1))
        ctx.resets.append(token_hash)
        return token_hash
    if name == "reset_redeem":
        return await store.redeem_password_reset(_pick(ctx.resets, a, "x"), f"pw{b}")
    if name == "token_create":
        owner = ctx.existing_user(a)
        if owner is None:
            return "skipped"
        ctx.seq += 1
        secret_hash = f"api{ctx.seq}"
        expires = None if c == 0 else _hours(1 if flag else -1)
        scope = "read" if b % 2 else "read-write"
        token = await store.create_api_token(
            owner, f"Token{b}", scope, secret_hash, expires, 1 + c % 3
        )
        ctx.api_tokens.append(token.id)
        ctx.api_hashes.append(secret_hash)
        return token
    if name == "token_list":
        return await store.list_api_tokens(ctx.user(a))
    if name == "token_get":
        return await store.get_api_token(_pick(ctx.api_hashes, a, "x"))
    if name == "token_delete":
        return await store.delete_api_token(ctx.user(a), _pick(ctx.api_tokens, b))
    if name == "token_touch":
        return await store.touch_api_token(_pick(ctx.api_tokens, a), _hours(0))
    raise AssertionError(name)


async def compare(real_store: DocumentStore, ops: list[tuple[str, int, int, int, bool]]) -> None:
    """Run ``ops`` on ``real_store`` (migrated and empty) and on a new in-memory store."""
    prune_all = isinstance(real_store, PostgresDocumentStore)
    real, model = Context(prune_all=prune_all), Context(prune_all=prune_all)
    async with MemoryDocumentStore() as memory:
        for step, op in enumerate([*PRELUDE, *ops]):
            expected = await apply(real_store, real, op)
            assert await apply(memory, model, op) == expected, (step, op)


async def compare_with_sqlite(ops: list[tuple[str, int, int, int, bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.sqlite3"
        async with SqliteDocumentStore(path, synchronous="OFF", readers=1) as sqlite:
            await sqlite.migrate()
            await compare(sqlite, ops)


async def compare_with_postgres(dsn: str, ops: list[tuple[str, int, int, int, bool]]) -> None:
    async with PostgresDocumentStore(dsn) as postgres:
        await postgres.migrate()
        async with postgres._conn() as conn:  # one database for every example: empty it
            # CASCADE: and every table that refers to these (single sign-on identities...).
            await conn.execute(
                "TRUNCATE users, documents, document_permissions, replicas, ops_log, snapshots, "
                "versions, sessions, invitations, password_resets, api_tokens CASCADE"
            )
        await compare(postgres, ops)


# Every sequence starts from a few users, documents and log entries, so that the generated calls
# mostly meet things that exist.
PRELUDE: list[tuple[str, int, int, int, bool]] = [
    ("register", 0, 0, 0, False),
    ("register", 1, 1, 0, False),
    ("pending", 2, 0, 0, False),
    ("create_doc", 0, 0, 0, False),
    ("create_doc", 1, 1, 0, False),
    ("append", 0, 0, 1, False),
    ("append", 1, 1, 2, False),
    ("append", 0, 2, 3, True),
]

operation = st.tuples(
    st.sampled_from(OPS),
    st.integers(0, 5),
    st.integers(0, 4),
    st.integers(0, 3),
    st.booleans(),
)


sequences = st.lists(operation, min_size=40, max_size=120)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences)
def test_the_memory_store_answers_like_sqlite(ops: list[tuple[str, int, int, int, bool]]) -> None:
    asyncio.run(compare_with_sqlite(ops))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=sequences)
def test_the_memory_store_answers_like_postgresql(
    pg_dsn: str, ops: list[tuple[str, int, int, int, bool]]
) -> None:
    asyncio.run(compare_with_postgres(pg_dsn, ops))
