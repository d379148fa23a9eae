"""Schema-driven fuzzing of every REST route with schemathesis, against the in-process app.

Schemathesis reads ``/schema/openapi.json`` and generates requests for every operation, both valid
ones (``positive``) and ones that break the schema (``negative``). Each request is sent as one of
three callers (the owner of real documents, a stranger, nobody) and, half the time, with real ids in
the path so that it reaches the handlers rather than a 404. The assertion is the contract's: no 5xx,
and every 4xx is the documented envelope with ``X-Request-Id``.

Counts are printed (``pytest -s``) and written to ``test-artifacts/fuzz-<backend>.json``.
``DOCSTREAM_FUZZ_EXAMPLES`` (default 15) sets the examples per operation and mode; the run is
derandomized (the same cases every time, as CI wants) unless ``DOCSTREAM_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis import GenerationMode

from docstream.web.app import create_app
from testkit.config import SettingsFactory

EXAMPLES = int(os.environ.get("DOCSTREAM_FUZZ_EXAMPLES", "15"))
DERANDOMIZE = os.environ.get("DOCSTREAM_FUZZ_RANDOM", "") not in ("1", "true", "yes")
BASE_URL = "http://testserver.local"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CALLERS = ("owner", "stranger", "anonymous")


def _envelope_problem(response: httpx.Response) -> str | None:
    """Why a response breaks docs/protocol.md §7, or None."""
    if not response.headers.get("x-request-id"):
        return "no X-Request-Id"
    if response.status_code < 400:
        return None
    try:
        body = response.json()
        error = body["error"]
        if set(body) != {"error"} or not isinstance(error["code"], str):
            return f"not the envelope: {response.text[:200]}"
        if not isinstance(error["message"], str):
            return f"no message: {response.text[:200]}"
    except (ValueError, KeyError, TypeError):
        return f"not the envelope: {response.text[:200]}"
    if "Traceback" in response.text:
        return "a stack trace"
    return None


class Target:
    """The app under test with real accounts and documents for the fuzzer to aim at."""

    def __init__(self, client: TestClient[Litestar]) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        for who in ("owner", "stranger", "viewer"):
            response = client.post(
                "/auth/register",
                json={"email": f"fuzz-{who}@example.com", "password": "fuzzing password"},
            )
            assert response.status_code == 201, response.text
            self.tokens[who] = response.json()["access_token"]
            if who == "viewer":
                self.viewer_id = response.json()["user"]["id"]
        client.cookies.clear()
        self.doc_id = ""
        self.new_document()
        # The owner has a notification (the viewer shares a document with them): the
        # /notifications routes list and mark real rows.
        theirs = client.post(
            "/documents", json={"title": "For the owner"}, headers=self.headers("viewer")
        )
        assert theirs.status_code == 201, theirs.text
        told = client.post(
            f"/documents/{theirs.json()['id']}/share",
            json={"email": "fuzz-owner@example.com", "role": "editor"},
            headers=self.headers("viewer"),
        )
        assert told.status_code == 200, told.text

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}

    def new_document(self) -> None:
        owner = self.headers("owner")
        doc = self.client.post("/documents", json={"title": "Fuzz target"}, headers=owner)
        assert doc.status_code == 201, doc.text
        self.doc_id = doc.json()["id"]
        share = self.client.post(
            f"/documents/{self.doc_id}/share",
            json={"email": "fuzz-viewer@example.com", "role": "viewer"},
            headers=owner,
        )
        assert share.status_code == 200, share.text

    def real_path_parameters(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "user_id": self.viewer_id, "version": 1}


class Tally:
    def __init__(self) -> None:
        self.cases = 0
        self.by_status: Counter[int] = Counter()
        self.by_operation: Counter[str] = Counter()
        self.server_errors: list[str] = []
        self.envelope_errors: list[str] = []
        self.unsendable = 0
        self.skipped: list[str] = []

    def as_dict(self, backend: str, seconds: float) -> dict[str, Any]:
        return {
            "backend": backend,
            "examples_per_operation_and_mode": EXAMPLES,
            "derandomized": DERANDOMIZE,
            "cases": self.cases,
            "server_errors_5xx": len(self.server_errors),
            "envelope_violations": len(self.envelope_errors),
            "unsendable_cases": self.unsendable,
            "seconds": round(seconds, 1),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_operation": dict(sorted(self.by_operation.items())),
            "skipped_operation_modes": self.skipped,
            "server_error_samples": self.server_errors[:20],
            "envelope_error_samples": self.envelope_errors[:20],
        }


def _send(target: Target, case: Any, who: str) -> httpx.Response | None:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    headers = {
        k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"
    }
    headers.update(target.headers(who))
    content = kwargs.get("data")
    try:
        return target.client.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=headers,
            json=kwargs.get("json") if content is None else None,
            content=content,
            cookies=None,
        )
    except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError, TypeError, ValueError):
        return None  # a request no HTTP client could send (e.g. a header with a newline)


def _fuzz_operation(target: Target, operation: Any, mode: GenerationMode, tally: Tally) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        who=st.sampled_from(CALLERS),
        aim=st.booleans(),
    )
    def run(case: Any, who: str, aim: bool) -> None:
        if aim and case.path_parameters:
            real = target.real_path_parameters()
            for name in case.path_parameters:
                if name in real:
                    case.path_parameters[name] = real[name]
        response = _send(target, case, who)
        target.client.cookies.clear()
        if response is None:
            tally.unsendable += 1
            return
        tally.cases += 1
        tally.by_status[response.status_code] += 1
        tally.by_operation[f"{label} {mode.value}"] += 1
        where = f"{response.request.method} {response.request.url} as {who}"
        if response.status_code >= 500:
            tally.server_errors.append(f"{where} -> {response.status_code} {response.text[:200]}")
        problem = _envelope_problem(response)
        if problem:
            tally.envelope_errors.append(f"{where} -> {response.status_code}: {problem}")
        if (
            response.request.method == "DELETE"
            and response.status_code == 204
            and response.request.url.path == f"/documents/{target.doc_id}"
        ):
            target.new_document()

    try:
        run()
    except Unsatisfiable:
        tally.skipped.append(f"{label} {mode.value}: nothing to generate")


def test_fuzz_every_route(make_settings: SettingsFactory, backend: str) -> None:
    started = time.monotonic()
    tally = Tally()
    with TestClient(create_app(make_settings()), raise_server_exceptions=False) as client:
        spec = client.get("/schema/openapi.json").json()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = schemathesis.openapi.from_dict(spec)
        target = Target(client)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15, [f"{o.method} {o.path}" for o in operations]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz_operation(target, operation, mode, tally)
    report = tally.as_dict(backend, time.monotonic() - started)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"fuzz-{backend}.json").write_text(json.dumps(report, indent=2))
    print(
        f"\nfuzz[{backend}]: {report['cases']} cases over {len(operations)} operations, "
        f"{report['server_errors_5xx']} with 5xx, {report['envelope_violations']} envelope "
        f"violations, {report['unsendable_cases']} unsendable, {report['seconds']} s; "
        f"statuses {report['by_status']}"
    )
    assert not tally.server_errors, "\n".join(tally.server_errors[:20])
    assert not tally.envelope_errors, "\n".join(tally.envelope_errors[:20])
    assert tally.cases >= len(operations) * EXAMPLES
