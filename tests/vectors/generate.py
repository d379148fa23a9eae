"""Regenerate the JSON test vectors in this folder: ``python -m tests.vectors.generate``.

The cases are written here by hand (edits, messages, delivery orders); the expected values come from
the Python engine and are cross-checked against the naive reference RGA (tests/crdt/reference.py)
before anything is written: texts after integration, and every op a local edit emits. Review the
diff of the JSON files like code -- the TypeScript engine must reproduce every value byte for byte.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import msgspec

from docstream.crdt import Change, Delete, Document, Insert, Op, op_decoder
from docstream.errors import DocStreamError, UnknownIdError
from tests.crdt.reference import RefDoc

HERE = Path(__file__).parent
A, B, C = "replica-A", "replica-B", "replica-C"


def wire(ops: list[Op]) -> list[dict[str, Any]]:
    return msgspec.to_builtins(ops)  # type: ignore[no-any-return]


def change(ch: Change) -> list[Any]:
    return [ch.index, ch.deleted, ch.inserted]


# ------------------------------------------------------------------ integration cases


class Session:
    """Replicas that edit locally and deliver named messages; records a vector case."""

    def __init__(self, name: str, description: str, replicas: list[str]) -> None:
        self.name = name
        self.description = description
        self.docs = {r: Document(r) for r in replicas}
        self.messages: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []  # creation order (causal)
        self.schedule: list[dict[str, Any]] = []

    def edit(self, msg: str, replica: str, action: str, *args: Any) -> None:
        doc = self.docs[replica]
        ops = doc.insert(*args) if action == "insert" else doc.delete(*args)
        self.messages[msg] = {"from": replica, "ops": wire(ops)}
        self.order.append(msg)
        self.schedule.append({"replica": replica, "message": msg, "local": True, "text": doc.text})

    def raw(self, msg: str, replica: str, ops: list[Op]) -> None:
        """A message made of hand-written ops (valid ones), applied by its sender."""
        doc = self.docs[replica]
        doc.apply(ops)
        self.messages[msg] = {"from": replica, "ops": wire(ops)}
        self.order.append(msg)
        self.schedule.append({"replica": replica, "message": msg, "local": True, "text": doc.text})

    def deliver(self, replica: str, *msgs: str) -> None:
        doc = self.docs[replica]
        for msg in msgs:
            ops = op_decoder.decode(json.dumps(self.messages[msg]["ops"]).encode())
            changes = doc.apply_and_diff(ops)
            self.schedule.append(
                {
                    "replica": replica,
                    "message": msg,
                    "changes": [change(c) for c in changes],
                    "text": doc.text,
                }
            )

    def deliver_rest(self, rnd: random.Random | None = None) -> None:
        """Every replica gets every message it lacks (shuffled, waiting for dependencies)."""
        for replica in self.docs:
            seen = {s["message"] for s in self.schedule if s["replica"] == replica}
            pending = [m for m in self.order if m not in seen]
            if rnd:
                rnd.shuffle(pending)
            while pending:
                waiting = []
                for msg in pending:
                    ops = op_decoder.decode(json.dumps(self.messages[msg]["ops"]).encode())
                    probe = Document.decode_state(
                        self.docs[replica].encode_state(), "probe-replica"
                    )
                    try:
                        probe.apply(ops)
                    except UnknownIdError:
                        waiting.append(msg)
                        continue
                    self.deliver(replica, msg)
                assert len(waiting) < len(pending)
                pending = waiting

    def case(self) -> dict[str, Any]:
        ref = RefDoc("replica-R")
        for msg in self.order:
            ref.apply(op_decoder.decode(json.dumps(self.messages[msg]["ops"]).encode()))
        texts = {r: d.text for r, d in self.docs.items()}
        assert set(texts.values()) == {ref.text}, (self.name, texts, ref.text)
        states = {d.encode_state() for d in self.docs.values()}
        assert len(states) == 1
        return {
            "name": self.name,
            "description": self.description,
            "replicas": list(self.docs),
            "messages": self.messages,
            "schedule": self.schedule,
            "expected": {"text": ref.text, "state": base64.b64encode(states.pop()).decode()},
        }


def integration_cases() -> list[dict[str, Any]]:
    cases = []

    s = Session(
        "seed-hello-beautiful-world",
        "The seed's case: A types 'Hello World'; B inserts ' Beautiful' after 'Hello' and "
        "C appends '!' concurrently; A also appends '?'. Delivered in different orders.",
        [A, B, C],
    )
    s.edit("a1", A, "insert", 0, "Hello World")
    s.deliver(B, "a1")
    s.deliver(C, "a1")
    s.edit("b1", B, "insert", 5, " Beautiful")
    s.edit("c1", C, "insert", 11, "!")
    s.edit("a2", A, "insert", 11, "?")
    s.deliver(A, "c1", "b1")
    s.deliver(B, "a2", "c1")
    s.deliver(C, "b1", "a2")
    cases.append(s.case())

    s = Session(
        "siblings-at-document-start",
        "Three replicas insert at the start of an empty document with the same counter: "
        "siblings are ordered by id descending, replica strings compared as strings.",
        [A, B, C],
    )
    s.edit("a", A, "insert", 0, "a")
    s.edit("b", B, "insert", 0, "b")
    s.edit("c", C, "insert", 0, "c")
    s.deliver(A, "b", "c")
    s.deliver(B, "c", "a")
    s.deliver(C, "a", "b")
    cases.append(s.case())

    s = Session(
        "counters-compare-as-integers",
        "replica-A:10 and replica-A:9 are siblings; 10 > 9 as integers (not as strings).",
        [A, B],
    )
    s.raw("a9", A, [Insert(f"{A}:9", None, "9")])
    s.raw("a10", A, [Insert(f"{A}:10", None, "T")])
    s.deliver(B, "a10", "a9")
    cases.append(s.case())

    s = Session(
        "nested-descendants",
        "B answers inside A's word while C continues B's insert and A types after the "
        "same parent: descendants stay under their ancestor.",
        [A, B, C],
    )
    s.edit("a1", A, "insert", 0, "base")
    s.deliver(B, "a1")
    s.deliver(C, "a1")
    s.edit("b1", B, "insert", 2, "XY")  # "baXYse"
    s.deliver(C, "b1")
    s.edit("c1", C, "insert", 3, "(c)")  # after X
    s.edit("a2", A, "insert", 2, "--")  # same parent as b1, concurrent
    s.edit("a3", A, "insert", 3, "*")  # inside A's own insert
    s.deliver(A, "b1", "c1")
    s.deliver(B, "a2", "c1", "a3")
    s.deliver(C, "a2", "a3")
    cases.append(s.case())

    s = Session(
        "insert-into-the-middle-of-a-run",
        "A pastes a run; B inserts in its middle; A keeps typing at the end.",
        [A, B],
    )
    s.edit("a1", A, "insert", 0, "abcdef")
    s.deliver(B, "a1")
    s.edit("b1", B, "insert", 3, "XYZ")
    s.edit("a2", A, "insert", 6, "gh")
    s.deliver(A, "b1")
    s.deliver(B, "a2")
    cases.append(s.case())

    s = Session(
        "tombstones-keep-their-place",
        "A deletes a word and retypes it (after the tombstones) while B, who has not seen "
        "the deletion, inserts right after the deleted word and deletes part of it too.",
        [A, B],
    )
    s.edit("a1", A, "insert", 0, "one two three")
    s.deliver(B, "a1")
    s.edit("a2", A, "delete", 4, 3)
    s.edit("a3", A, "insert", 4, "2")
    s.edit("b1", B, "insert", 7, "!")
    s.edit("b2", B, "delete", 5, 1)
    s.deliver(A, "b1", "b2")
    s.deliver(B, "a2", "a3")
    cases.append(s.case())

    s = Session(
        "concurrent-deletes-of-overlapping-ranges",
        "Both replicas delete overlapping ranges; deleting a tombstone again is a no-op.",
        [A, B],
    )
    s.edit("a1", A, "insert", 0, "0123456789")
    s.deliver(B, "a1")
    s.edit("a2", A, "delete", 2, 5)
    s.edit("b1", B, "delete", 4, 5)
    s.deliver(A, "b1")
    s.deliver(B, "a2")
    cases.append(s.case())

    s = Session(
        "duplicate-delivery",
        "Messages delivered twice (a reconnect re-sends unacknowledged ops): no change.",
        [A, B],
    )
    s.edit("a1", A, "insert", 0, "abc")
    s.edit("a2", A, "delete", 1, 1)
    s.deliver(B, "a1", "a2", "a1", "a2")
    s.edit("b1", B, "insert", 2, "Z")
    s.deliver(A, "b1", "b1")
    cases.append(s.case())

    s = Session(
        "unicode-accents-and-cjk",
        "Accented letters (precomposed and combining), CJK: one element per code point.",
        [A, B],
    )
    s.edit("a1", A, "insert", 0, "caf\u00e9 cafe\u0301 \u4e2d\u6587")
    s.deliver(B, "a1")
    s.edit("b1", B, "insert", 10, "\u00fc")  # between "e" and the combining accent
    s.edit("a2", A, "delete", 12, 1)
    s.edit("a3", A, "insert", 12, "\u570b")
    s.deliver(A, "b1")
    s.deliver(B, "a2", "a3")
    cases.append(s.case())

    s = Session(
        "emoji-and-astral-plane",
        "Emoji and other astral code points are one element each (not two UTF-16 units);"
        " a skin-tone emoji is two code points, a flag two regional indicators.",
        [A, B],
    )
    s.edit("a1", A, "insert", 0, "\U0001f600\U0001f44d\U0001f3fd\U0001f1eb\U0001f1f7\U0001d11e")
    s.deliver(B, "a1")
    s.edit("b1", B, "insert", 1, "x")  # after the grinning face
    s.edit("b2", B, "insert", 3, "y")  # between thumbs-up and its skin tone
    s.edit("a2", A, "delete", 3, 2)  # the flag
    s.edit("a3", A, "insert", 3, "\U0001f30d")
    s.deliver(A, "b1", "b2")
    s.deliver(B, "a2", "a3")
    cases.append(s.case())

    s = Session(
        "lamport-counters",
        "A jumps to counter 100 (as if it had seen much); B, after seeing it, continues "
        "from 101; C, who has not, inserts with small counters concurrently.",
        [A, B, C],
    )
    s.raw("a1", A, [Insert(f"{A}:100", None, "start")])
    s.deliver(B, "a1")
    s.edit("b1", B, "insert", 5, " B")
    s.edit("c1", C, "insert", 0, "c")
    s.deliver(C, "a1", "b1")
    s.edit("c2", C, "insert", 1, "C")
    s.deliver(A, "c1", "b1", "c2")
    s.deliver(B, "c1", "c2")
    cases.append(s.case())

    s = Session(
        "concurrent-typing-at-one-spot",
        "Two replicas type words at the same position: each word stays contiguous.",
        [A, B],
    )
    s.edit("a0", A, "insert", 0, "[]")
    s.deliver(B, "a0")
    for i, ch in enumerate("left"):
        s.edit(f"a{i + 1}", A, "insert", 1 + i, ch)
    for i, ch in enumerate("right"):
        s.edit(f"b{i + 1}", B, "insert", 1 + i, ch)
    s.deliver(A, *[f"b{i + 1}" for i in range(5)])
    s.deliver(B, *[f"a{i + 1}" for i in range(4)])
    cases.append(s.case())

    for seed in (1, 2, 3):
        rnd = random.Random(seed)
        s = Session(
            f"random-session-{seed}",
            "A seeded random session of three replicas with random partial delivery; "
            "at the end everyone receives the rest in a random causal order.",
            [A, B, C],
        )
        pool = "ab \u00e9\u6f22\U0001f642"
        for k in range(24):
            who = rnd.choice([A, B, C])
            doc = s.docs[who]
            if rnd.random() < 0.65 or not len(doc):
                text = "".join(rnd.choice(pool) for _ in range(rnd.randint(1, 4)))
                s.edit(f"m{k}", who, "insert", rnd.randint(0, len(doc)), text)
            else:
                at = rnd.randrange(len(doc))
                s.edit(f"m{k}", who, "delete", at, min(len(doc) - at, rnd.randint(1, 3)))
            if rnd.random() < 0.5:
                target = rnd.choice([A, B, C])
                seen = {e["message"] for e in s.schedule if e["replica"] == target}
                ready = [m for m in s.order if m not in seen]
                if ready:
                    pick = ready[0]  # the oldest message it lacks: always causally ready
                    s.deliver(target, pick)
        s.deliver_rest(rnd)
        cases.append(s.case())
    return cases


# ------------------------------------------------------------------ local-edit cases


def local_case(
    name: str, description: str, replica: str, start: list[Op], edits: list[tuple[str, int, Any]]
) -> dict[str, Any]:
    doc, ref = Document(replica), RefDoc(replica)
    doc.apply(start)
    ref.apply(start)
    steps = []
    for action, index, arg in edits:
        if action == "insert":
            ops = doc.insert(index, arg)
            assert ops == ref.insert(index, arg), name
            steps.append(
                {
                    "insert": [index, arg],
                    "ops": wire(ops),
                    "text": doc.text,
                    "max_counter": doc.max_counter,
                }
            )
        else:
            ops = doc.delete(index, arg)
            assert ops == ref.delete(index, arg), name
            steps.append(
                {
                    "delete": [index, arg],
                    "ops": wire(ops),
                    "text": doc.text,
                    "max_counter": doc.max_counter,
                }
            )
        assert doc.text == ref.text
    for step in steps:
        if len(step["text"]) > 1000:
            del step["text"]  # keep the files small; the ops say it all
    return {
        "name": name,
        "description": description,
        "replica": replica,
        "start": wire(start),
        "edits": steps,
    }


def local_cases() -> list[dict[str, Any]]:
    base = [Insert(f"{A}:1", None, "hello world")]
    mixed = [
        Insert(f"{A}:1", None, "abcdef"),
        Insert(f"{B}:10", f"{A}:3", "XY"),
        Delete(f"{A}:5", 1),
    ]
    return [
        local_case(
            "typing-at-the-end",
            "A replica types into an empty document, one key at a "
            "time: counters 1, 2, 3...; each char's parent is the previous one.",
            B,
            [],
            [("insert", 0, "h"), ("insert", 1, "i"), ("insert", 2, "!"), ("insert", 3, " there")],
        ),
        local_case(
            "insert-at-start-middle-end",
            "Parents: null at the start, the char before "
            "otherwise; counters continue from max_counter.",
            B,
            base,
            [("insert", 0, ">"), ("insert", 6, ","), ("insert", 13, "!"), ("insert", 3, "")],
        ),
        local_case(
            "insert-after-tombstones",
            "The parent is the element just before the visible "
            "char at the index -- after any tombstones there (also at index 0 and at the "
            "end).",
            B,
            base,
            [
                ("delete", 0, 2),
                ("insert", 0, "H"),
                ("delete", 8, 2),
                ("insert", 8, "LD"),
                ("delete", 4, 2),
                ("insert", 4, "_"),
            ],
        ),
        local_case(
            "delete-one-op-per-id-run",
            "A delete emits one op per stretch of newly "
            "deleted chars with consecutive ids, in document order.",
            C,
            mixed,
            [("delete", 1, 6)],
        ),
        local_case(
            "delete-across-an-old-tombstone",
            "Newly deleted chars on both sides of an "
            "older tombstone with consecutive ids are still one op when the tombstone is "
            "another replica's; a tombstone of the same id run splits the op.",
            C,
            [
                Insert(f"{A}:1", None, "abcdef"),
                Insert(f"{B}:10", f"{A}:3", "XY"),
                Delete(f"{B}:10", 2),
            ],
            [("delete", 0, 6)],
        ),
        local_case(
            "delete-around-an-own-tombstone",
            "ids 1-3 and 5-6 around the tombstone 4: two ops.",
            A,
            [Insert(f"{A}:1", None, "abcdef"), Delete(f"{A}:4", 1)],
            [("delete", 0, 5)],
        ),
        local_case(
            "lamport-after-remote-ops",
            "After applying an op with counter 41 the next "
            "local counter is 42, whatever this replica used before.",
            A,
            [Insert(f"{A}:1", None, "ab"), Insert(f"{B}:41", f"{A}:2", "z")],
            [("insert", 3, "c"), ("insert", 0, "0")],
        ),
        local_case(
            "astral-plane-indexes",
            "Indexes count code points: an emoji is one.",
            A,
            [Insert(f"{B}:1", None, "\U0001f600\U0001f601\U0001f602")],
            [
                ("insert", 1, "\u00e9"),
                ("insert", 3, "\U0001d11e"),
                ("delete", 2, 2),
                ("insert", 3, "\u4e2d"),
            ],
        ),
        local_case(
            "long-insert-is-chained",
            "An insert longer than 65,536 code points becomes "
            "several ops, each after the previous one's last id.",
            A,
            [],
            [("insert", 0, "a" * 65536 + "bcd"), ("insert", 1, "Z")],
        ),
    ]


# ------------------------------------------------------------------ state cases


def state_cases() -> dict[str, Any]:
    worked = [
        Insert("Ab3xQ9kZ:1", None, "hello"),
        Delete("Ab3xQ9kZ:3", 2),
        Insert("Zz81mmQa:6", "Ab3xQ9kZ:5", "\u00e9!"),
    ]
    cases = [
        ("empty", []),
        ("worked-example-of-docs-state-format", worked),
        ("one-run", [Insert(f"{A}:1", None, "abc")]),
        ("tombstones-only", [Insert(f"{A}:1", None, "abc"), Delete(f"{A}:1", 3)]),
        (
            "runs-with-gaps-and-big-counters",
            [
                Insert(f"{A}:1", None, "ab"),
                Insert(f"{A}:300", f"{A}:2", "cd"),
                Insert(f"{B}:2000000", f"{A}:1", "X"),
                Delete(f"{A}:301", 1),
                Insert(f"{A}:{2**40}", None, "big"),
            ],
        ),
        (
            "interleaved-replicas-and-unicode",
            [
                Insert(f"{A}:1", None, "caf\u00e9 \U0001f600"),
                Insert(f"{B}:10", f"{A}:3", "\u4e2d\u6587"),
                Insert(f"{C}:10", f"{A}:3", "\U0001d11e"),
                Delete(f"{A}:2", 3),
                Insert(f"{A}:12", f"{B}:11", "!"),
            ],
        ),
    ]
    out = []
    for name, ops in cases:
        doc = Document("vector-replica")
        doc.apply(ops)
        blob = doc.encode_state()
        again = Document.decode_state(blob, replica="vector-other")
        assert again.text == doc.text and again.encode_state() == blob
        out.append(
            {
                "name": name,
                "ops": wire(ops),
                "text": doc.text,
                "max_counter": doc.max_counter,
                "state": base64.b64encode(blob).decode(),
                "state_hex": blob.hex(" "),
            }
        )
    good = base64.b64decode(out[1]["state"])
    bad = [
        ("empty-blob", b""),
        ("unknown-version", b"\x02" + good[1:]),
        ("truncated", good[:-1]),
        ("trailing-byte", good + b"\x00"),
        ("non-minimal-varint", b"\x01\x80\x00\x00\x00"),
        ("replica-id-too-short", b"\x01\x01\x03abc\x00\x00"),
        ("first-run-without-replica", b"\x01\x01\x08replica1\x00\x01\x04"),
        ("text-longer-than-runs", b"\x01\x01\x08replica1\x01x\x01\x05\x00"),
        ("invalid-utf8", b"\x01\x01\x08replica1\x02\xc3(\x01\x0b\x00\x01"),
        ("overlapping-ids", b"\x01\x01\x08replica1\x00\x02\x07\x00\x01\x06\x01"),
    ]
    for name, blob in bad:
        try:
            Document.decode_state(blob, replica="vector-other")
        except DocStreamError as exc:
            assert type(exc).__name__ == "StateFormatError", (name, exc)
        else:
            raise AssertionError(f"{name} decoded")
    return {
        "encode": out,
        "refuse": [{"name": n, "state": base64.b64encode(b).decode()} for n, b in bad],
    }


# ------------------------------------------------------------------ error cases


def error_cases() -> list[dict[str, Any]]:
    start = [Insert(f"{A}:1", None, "hello"), Insert(f"{A}:10", f"{A}:5", "world")]
    cases = [
        ("unknown-parent", [Insert(f"{B}:20", f"{A}:7", "x")], "unknown_id"),
        ("unknown-replica", [Insert(f"{B}:20", "replica-Q:1", "x")], "unknown_id"),
        ("delete-unknown-id", [Delete(f"{A}:7", 1)], "unknown_id"),
        ("delete-past-known-ids", [Delete(f"{A}:12", 4)], "unknown_id"),
        ("delete-len-zero", [Delete(f"{A}:1", 0)], "unknown_id"),
        ("empty-insert", [Insert(f"{B}:20", None, "")], "bad_message"),
        ("lamport-violation", [Insert(f"{B}:5", f"{A}:5", "x")], "bad_message"),
        ("reused-ids-other-text", [Insert(f"{A}:1", None, "HELLO")], "duplicate_id_conflict"),
        ("partly-known-ids", [Insert(f"{A}:4", None, "lo!")], "duplicate_id_conflict"),
        ("malformed-id", [Insert(f"{A}:01", None, "x")], "bad_message"),
        ("short-replica-id", [Insert("short:1", None, "x")], "bad_message"),
        ("counter-above-2-53", [Insert(f"{A}:{2**53}", None, "x")], "bad_message"),
        (
            "third-op-refused",
            [
                Insert(f"{B}:20", None, ">"),
                Delete(f"{A}:1", 1),
                Insert(f"{B}:21", "replica-Q:1", "?"),
                Insert(f"{B}:22", None, "z"),
            ],
            "unknown_id",
        ),
    ]
    ok = [
        ("resend-is-a-no-op", [Insert(f"{A}:2", f"{A}:1", "ell")]),
        (
            "resend-over-tombstones-is-a-no-op",
            [Delete(f"{A}:2", 3), Insert(f"{A}:1", None, "h???o")],
        ),
        ("delete-twice-is-a-no-op", [Delete(f"{A}:2", 2), Delete(f"{A}:1", 3)]),
        ("new-ids-in-a-gap", [Insert(f"{A}:6", f"{A}:5", "-")]),
    ]
    out = []
    for name, ops, code in cases:
        doc = Document("vector-replica")
        doc.apply(start)
        try:
            doc.apply(ops)
        except DocStreamError as exc:
            assert exc.code == code, (name, exc)
            index = int(exc.detail.split(":")[0].removeprefix("op "))
        else:
            raise AssertionError(f"{name} was accepted")
        out.append(
            {
                "name": name,
                "start": wire(start),
                "apply": wire(ops),
                "error": code,
                "op_index": index,
                "text": doc.text,
            }
        )
    for name, ops in ok:
        doc = Document("vector-replica")
        doc.apply(start)
        doc.apply(ops)
        out.append(
            {
                "name": name,
                "start": wire(start),
                "apply": wire(ops),
                "error": None,
                "text": doc.text,
            }
        )
    return out


def pretty(value: Any, indent: str = "") -> str:
    """JSON with one op (or change, or short list) per line: diffable and still compact."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or len(flat) <= 100 - len(indent):
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {pretty(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    return "[\n" + ",\n".join(inner + pretty(v, inner) for v in value) + "\n" + indent + "]"


def dump(name: str, cases: Any) -> None:
    path = HERE / name
    body = {"format": "docstream-crdt-vectors", "version": 1, "cases": cases}
    path.write_text(pretty(body) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main() -> None:
    dump("integration.json", integration_cases())
    dump("local_edits.json", local_cases())
    dump("state.json", state_cases())
    dump("errors.json", error_cases())


if __name__ == "__main__":
    main()
