"""Judging one ``ops`` message against a replica (no I/O): accepted as new, as a re-send, or
refused, with whether some of its ops reached the replica before the refusal."""

from __future__ import annotations

from docstream.collab.connection import Connection
from docstream.collab.room.validation import Accepted, Kind, Refused, accept
from docstream.crdt import Delete, Document, Insert, Op
from docstream.crdt.ids import MAX_COUNTER
from docstream.errors import ForbiddenReplicaError, InvalidInputError, ReadOnlyError, TooLargeError
from docstream.protocol.messages import SubmitOps
from docstream.settings import MAX_COUNTER_JUMP, Settings

REPLICA = "valReplica"


def conn(role: str = "editor") -> Connection:
    c = Connection(user_id="u1", name="Val", role=role, guest=False, queue_size=10)  # type: ignore[arg-type]
    c.attach(REPLICA)
    return c


def judge(doc: Document, msg: SubmitOps, role: str = "editor", **settings: int) -> object:
    return accept(doc, 0, Settings(**settings), conn(role), msg, 1)  # type: ignore[arg-type]


def test_a_new_insert_is_a_new_entry_with_its_history_columns() -> None:
    server, client = Document("serverReplica"), Document(REPLICA)
    outcome = judge(server, SubmitOps(ref=1, ops=client.insert(0, "hello")))
    assert isinstance(outcome, Accepted) and outcome.kind is Kind.NEW
    assert outcome.entry is not None
    assert (outcome.entry.kind, outcome.entry.position, outcome.entry.length) == ("insert", 0, 5)
    assert outcome.entry.preview == "hello" and server.text == "hello"


def test_an_exact_re_send_is_a_re_send_and_changes_nothing() -> None:
    server, client = Document("serverReplica"), Document(REPLICA)
    ops = client.insert(0, "hi")
    assert isinstance(judge(server, SubmitOps(ref=1, ops=ops)), Accepted)
    outcome = judge(server, SubmitOps(ref=2, ops=ops))
    assert isinstance(outcome, Accepted) and outcome.kind is Kind.RESEND
    assert outcome.entry is None and server.text == "hi"


def test_a_ghost_edit_is_new_known_parts_included() -> None:
    server, client = Document("serverReplica"), Document(REPLICA)
    stored = client.insert(0, "ab")
    judge(server, SubmitOps(ref=1, ops=stored))
    ghost = [*stored, *client.insert(2, "c")]
    outcome = judge(server, SubmitOps(ref=2, ops=ghost))
    assert isinstance(outcome, Accepted) and outcome.kind is Kind.NEW
    assert server.text == "abc"


def test_refusals_before_anything_is_applied() -> None:
    client = Document(REPLICA)
    cases: list[tuple[str, list[Op], type[Exception], dict[str, int]]] = [
        ("viewer", client.insert(0, "x"), ReadOnlyError, {}),
        ("editor", [], InvalidInputError, {}),
        ("editor", Document("intruderReplica").insert(0, "x"), ForbiddenReplicaError, {}),
        ("editor", [Insert(f"{REPLICA}:{MAX_COUNTER + 1}", None, "x")], InvalidInputError, {}),
        ("editor", [Insert(f"{REPLICA}:{MAX_COUNTER_JUMP + 5}", None, "x")], InvalidInputError, {}),
        ("editor", [Insert(f"{REPLICA}:1", None, "a\x00")], InvalidInputError, {}),
        (
            "editor",
            [Insert(f"{REPLICA}:1", None, "abcdef")],
            TooLargeError,
            {"max_insert_length": 3},
        ),
        (
            "editor",
            [Insert(f"{REPLICA}:1", None, "abcdef")],
            TooLargeError,
            {"max_document_chars": 3},
        ),
    ]
    for role, ops, error, settings in cases:
        server = Document("serverReplica")
        outcome = judge(server, SubmitOps(ref=1, ops=ops), role, **settings)
        assert isinstance(outcome, Refused), (role, ops)
        assert isinstance(outcome.error, error) and not outcome.applied, outcome
        assert server.text == ""


def test_a_refusal_after_the_first_op_says_the_replica_was_touched() -> None:
    server, client = Document("serverReplica"), Document(REPLICA)
    ops = [*client.insert(0, "ok"), Delete(f"{REPLICA}:999", 1)]  # the delete names no char
    outcome = judge(server, SubmitOps(ref=1, ops=ops))
    assert isinstance(outcome, Refused) and outcome.applied
    assert server.text == "ok"  # what the Room must undo by rebuilding the replica


def test_a_refused_first_op_leaves_no_trace() -> None:
    server = Document("serverReplica")
    outcome = judge(server, SubmitOps(ref=1, ops=[Delete(f"{REPLICA}:1", 1)]))
    assert isinstance(outcome, Refused) and not outcome.applied and server.text == ""
