"""Fuzzing ``GET /search`` on both backends: the schema-driven fuzzer of every route
(``tests/web/test_fuzz.py``) aimed at this one operation with more examples, then hypothesis-made
queries mixing FTS5 and tsquery syntax, quotes, NUL and other control characters, any Unicode and
lengths around the limits, by the owner, a viewer, a stranger and nobody.

The contract: never a 5xx; a 4xx is the error envelope; a 200 lists only documents the caller can
open (the stranger finds nothing, ever).
"""

from __future__ import annotations

import time
import warnings

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis import GenerationMode

from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.test_fuzz import CALLERS, Tally, Target, _envelope_problem, _fuzz_operation

SYNTAX = [
    '"',
    "'",
    "*",
    "^",
    ":",
    "(",
    ")",
    "{",
    "}",
    "&",
    "|",
    "!",
    "-",
    "+",
    "<->",
    "<2>",
    ":*",
    "\\",
    "\x00",
    "\x1f",
    "\u2028",
    "\ufeff",
    " AND ",
    " OR ",
    " NOT ",
    " NEAR(",
    " NEAR/3 ",
    "title:",
    "body:",
    "fuzz",
    "target",
    "Fuzz",
    "😀",
    "é",
    "e\u0301",
]
queries = st.one_of(
    st.lists(st.sampled_from(SYNTAX), max_size=30).map("".join),
    st.text(max_size=80),
    st.integers(min_value=490, max_value=520).map(lambda n: "fuzz " * (n // 5)),
    st.integers(min_value=14, max_value=18).map(lambda n: " ".join(f"w{i}" for i in range(n))),
)


def test_fuzz_search(make_settings: SettingsFactory) -> None:
    tally = Tally()
    with TestClient(create_app(make_settings()), raise_server_exceptions=False) as client:
        spec = client.get("/schema/openapi.json").json()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = schemathesis.openapi.from_dict(spec)
        target = Target(client)
        [operation] = [
            op
            for op in (r.ok() for r in schema.get_all_operations())
            if op.path == "/search" and op.method.upper() == "GET"
        ]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(target, operation, mode, tally)
        assert not tally.server_errors, "\n".join(tally.server_errors[:20])
        assert not tally.envelope_errors, "\n".join(tally.envelope_errors[:20])
        assert tally.cases >= 10

        # What each caller may find: exactly the documents in their own list (the target, and
        # for the owner also the one the viewer shared with them); the stranger, nothing.
        visible = {
            who: {d["id"] for d in client.get("/documents", headers=target.headers(who)).json()}
            for who in ("owner", "viewer")
        }
        client.cookies.clear()
        assert target.doc_id in visible["owner"] and target.doc_id in visible["viewer"]
        statuses: set[int] = set()

        @settings(
            max_examples=400,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(q=queries, who=st.sampled_from((*CALLERS, "viewer")))
        def run(q: str, who: str) -> None:
            response = client.get("/search", params={"q": q}, headers=target.headers(who))
            client.cookies.clear()
            statuses.add(response.status_code)
            assert response.status_code < 500, (q, response.text)
            assert _envelope_problem(response) is None, (q, response.text)
            if who == "anonymous":
                assert response.status_code == 401
            if response.status_code == 200:
                found = {r["id"] for r in response.json()["results"]}
                assert found <= visible.get(who, set()), (q, who, found)

        run()
        assert {200, 400, 401} <= statuses, statuses
        # The target's title (indexed a second after it was made) is found through the syntax,
        # as plain words.
        deadline = time.monotonic() + 15
        while True:
            page = client.get(
                "/search", params={"q": '("fuzz" | tar*)'}, headers=target.headers("viewer")
            )
            found = [r["id"] for r in page.json()["results"]]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert found == [target.doc_id]
