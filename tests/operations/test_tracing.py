"""OpenTelemetry traces (docs/operations.md, "Traces"), recorded with the SDK's own in-memory
exporter from a real server: granian's embedded server running ``create_app`` in a thread of this
process (as ``docstream desktop`` does), on SQLite, spoken to over real sockets by the Python
client. What the spans say: HTTP spans named by route template with the status, a caller's
``traceparent`` continued, one span per WebSocket session with its document, role and close
code, commit groups that add up to the edits stored, document loads; JSON log lines carry the
trace. And, in fresh processes: with the OTEL_* variables unset (or the SDK disabled) nothing of
OpenTelemetry is even imported, and with them set the SDK is set up from them alone.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from docstream import logs, tracing
from docstream.collab.loader import LOAD_SPAN
from docstream.collab.room.commit import COMMIT_SPAN
from docstream.desktop.embedded import EmbeddedServer
from docstream.settings import Settings
from docstream.web.middleware import TracingMiddleware
from docstream.web.routes.ws import SESSION_SPAN
from testkit.accounts import Users, bearer
from testkit.config import FAST_ARGON2, UNLIMITED

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans of this process, kept in memory (the SDK's test exporter, synchronously)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.install(provider)
    try:
        yield memory
    finally:
        tracing.reset()
        provider.shutdown()


@pytest.fixture
def server(tmp_path: Path, exporter: InMemorySpanExporter) -> Iterator[EmbeddedServer]:
    settings = Settings(
        data_dir=tmp_path / "data", log_level="warning", **UNLIMITED, **FAST_ARGON2
    ).validated()
    embedded = EmbeddedServer(settings)
    embedded.start()
    try:
        embedded.wait_ready()
        yield embedded
    finally:
        assert embedded.stop()


def wait_for_spans(
    exporter: InMemorySpanExporter,
    match: Callable[[ReadableSpan], bool],
    count: int = 1,
    timeout: float = 10.0,
) -> list[ReadableSpan]:
    """The finished spans ``match`` accepts, once there are ``count`` of them (spans end on the
    server's thread, a little after the client saw the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in exporter.get_finished_spans() if match(s)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def of_doc(name: str, doc_id: str) -> Callable[[ReadableSpan], bool]:
    return lambda s: s.name == name and attrs(s).get("docstream.doc_id") == doc_id


# --- HTTP ------------------------------------------------------------------------------------


async def test_http_spans_are_named_by_route_template_and_continue_the_callers_trace(
    server: EmbeddedServer, exporter: InMemorySpanExporter
) -> None:
    users = Users(server.url)
    try:
        owner = await users.new("owner")
        doc = await owner.create_document("Traced")
        headers = {
            **bearer(owner.access_token or ""),
            "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
        }
        async with httpx.AsyncClient(base_url=server.url) as http:
            found = await http.get(f"/documents/{doc['id']}", headers=headers)
            missing = await http.get("/documents/no-such-document", headers=headers)
            unrouted = await http.post("/no/such/route")
    finally:
        await users.close()
    assert found.status_code == 200, found.text
    assert missing.status_code == 404, missing.text
    assert unrouted.status_code in (404, 405), unrouted.text

    name = "GET /documents/{doc_id}"
    spans = wait_for_spans(exporter, lambda s: s.name == name, count=2)
    by_status = {attrs(s)["http.response.status_code"]: s for s in spans}
    assert set(by_status) == {200, 404}
    ok = by_status[200]
    assert ok.kind is SpanKind.SERVER
    assert attrs(ok)["http.request.method"] == "GET"
    assert attrs(ok)["http.route"] == "/documents/{doc_id}"
    assert ok.status.status_code is StatusCode.UNSET
    # The caller's trace goes on: same trace id, the caller's span is the parent.
    assert format(ok.context.trace_id, "032x") == TRACE_ID
    assert ok.parent is not None and format(ok.parent.span_id, "016x") == PARENT_ID
    assert ok.parent.is_remote
    # A 4xx is the client's mistake, not a failure of the server: the status stays unset.
    assert by_status[404].status.status_code is StatusCode.UNSET
    # A request no route matched is named by its method alone, and has no route.
    [stray] = wait_for_spans(exporter, lambda s: s.name == "POST")
    assert "http.route" not in attrs(stray)
    assert attrs(stray)["http.response.status_code"] == unrouted.status_code
    assert format(stray.context.trace_id, "032x") != TRACE_ID  # no traceparent: a new trace
    # Never an id in a span's name (one name per route, whatever the document).
    assert not [s.name for s in exporter.get_finished_spans() if doc["id"] in s.name]


def _asgi_app(status: int | None) -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["path_template"] = "/boom/{n}"  # as Litestar's router sets it
        if status is None:
            raise RuntimeError("the handler failed")
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


@pytest.mark.parametrize("status", [None, 503])
async def test_a_5xx_or_a_crash_marks_the_http_span_as_an_error(
    exporter: InMemorySpanExporter, status: int | None
) -> None:
    middleware = TracingMiddleware(_asgi_app(status))
    scope = {"type": "http", "method": "POST", "path": "/boom/7", "headers": [], "scheme": "http"}
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    if status is None:
        with pytest.raises(RuntimeError):
            await middleware(scope, receive, send)
    else:
        await middleware(scope, receive, send)
    [span] = exporter.get_finished_spans()
    assert span.name == "POST /boom/{n}"
    assert attrs(span)["http.response.status_code"] == (status or 500)
    assert span.status.status_code is StatusCode.ERROR
    if status is None:  # the exception is on the span
        assert [e.name for e in span.events] == ["exception"]


# --- WebSocket sessions, commits, loads -------------------------------------------------------


async def test_a_socket_session_its_commits_and_the_loads_are_traced(
    server: EmbeddedServer, exporter: InMemorySpanExporter
) -> None:
    users = Users(server.url)
    try:
        owner = await users.new("owner")
        doc_id = (await owner.create_document("Typed"))["id"]
        live = owner.open(doc_id)
        await live.start()
        for i in range(40):
            live.insert(len(live.text), f"w{i} ")
            if i % 7 == 0:
                await asyncio.sleep(0.01)  # several commit groups, not one
        await live.synced(timeout=20)
        stored = live.seq
        await live.close()

        [session] = wait_for_spans(exporter, of_doc(SESSION_SPAN, doc_id))
        assert session.kind is SpanKind.SERVER
        assert attrs(session)["docstream.role"] == "owner"
        assert attrs(session)["docstream.ws.close_code"] == 1000
        assert attrs(session)["docstream.ws.closed_by"] == "client"
        assert session.status.status_code is StatusCode.UNSET

        # Every stored edit is in exactly one commit group, in seq order without a gap.
        commits = wait_for_spans(exporter, of_doc(COMMIT_SPAN, doc_id))
        assert stored >= 1
        assert sum(attrs(c)["docstream.commit.group_size"] for c in commits) == stored
        ranges = sorted(
            (attrs(c)["docstream.commit.first_seq"], attrs(c)["docstream.commit.last_seq"])
            for c in commits
            if attrs(c)["docstream.commit.group_size"]
        )
        assert ranges[0][0] == 1 and ranges[-1][1] == stored
        assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
        for commit in commits:
            # A trace of the Room's own, linked to the session whose edits it stored.
            assert commit.parent is None
            assert [link.context.span_id for link in commit.links] == [session.context.span_id]

        # The first open loaded the empty document, a child of the session's span. (Other
        # loads, such as the search index reading a closed document, are not a session's.)
        def room_loads(sessions: list[ReadableSpan]) -> list[ReadableSpan]:
            ids = {s.context.span_id for s in sessions}
            return [
                s
                for s in exporter.get_finished_spans()
                if of_doc(LOAD_SPAN, doc_id)(s) and s.parent and s.parent.span_id in ids
            ]

        [first] = room_loads([session])
        assert first.context.trace_id == session.context.trace_id
        assert attrs(first)["docstream.load.seq"] == 0

        # The Room stops when its last client left (and writes a snapshot); the next open
        # loads what was stored. An open that still found the Room running loads nothing: again.
        loads: list[ReadableSpan] = []
        for attempt in range(40):
            await asyncio.sleep(0.25)
            again = owner.open(doc_id)
            await again.start()
            assert again.text == live.text
            await again.close()
            sessions = wait_for_spans(exporter, of_doc(SESSION_SPAN, doc_id), count=attempt + 2)
            loads = room_loads(sessions)
            if len(loads) >= 2:
                break
        assert len(loads) == 2, [attrs(s) for s in loads]
        reload = max(loads, key=lambda s: s.start_time or 0)
        assert attrs(reload)["docstream.load.seq"] == stored
        replayed = attrs(reload)["docstream.load.replayed_entries"]
        snapshot_seq = attrs(reload)["docstream.load.snapshot_seq"]
        assert snapshot_seq + replayed == stored
        assert (attrs(reload)["docstream.load.snapshot_bytes"] > 0) == (snapshot_seq > 0)
    finally:
        await users.close()


async def test_a_refused_socket_records_the_close_code(
    server: EmbeddedServer, exporter: InMemorySpanExporter
) -> None:
    users = Users(server.url)
    try:
        owner = await users.new("owner")
        stranger = await users.new("stranger")
        doc_id = (await owner.create_document("Private"))["id"]
        live = stranger.open(doc_id)
        with pytest.raises(Exception):  # noqa: B017 - the client's own error for a refusal
            await live.start(timeout=5)
        await live.close()
    finally:
        await users.close()
    [session] = wait_for_spans(exporter, of_doc(SESSION_SPAN, doc_id))
    assert attrs(session)["docstream.ws.close_code"] in (4403, 4404)
    assert attrs(session)["docstream.ws.closed_by"] == "server"
    assert "docstream.role" not in attrs(session)


# --- logs ------------------------------------------------------------------------------------


def test_json_log_lines_carry_the_current_trace(exporter: InMemorySpanExporter) -> None:
    formatter = logs.JsonLines()
    context = logs.ContextFilter()

    def line(message: str) -> dict[str, Any]:
        record = logging.LogRecord("docstream.test", logging.INFO, __file__, 1, message, (), None)
        context.filter(record)
        parsed: dict[str, Any] = json.loads(formatter.format(record))
        return parsed

    outside = line("before")
    with tracing.span("work") as span:
        inside = line("during")
    assert "trace_id" not in outside and "span_id" not in outside
    [finished] = exporter.get_finished_spans()
    assert span.is_recording() is False  # ended
    assert inside["trace_id"] == format(finished.context.trace_id, "032x")
    assert inside["span_id"] == format(finished.context.span_id, "016x")


# --- on or off, in fresh processes -----------------------------------------------------------

#: Serves one request with the real app in a fresh process and tells what tracing did.
PROBE = r"""
import json, os, sys
from pathlib import Path
if os.environ.get("PROBE_WITHOUT_OTEL"):  # as if the extra were not installed
    for name in ("opentelemetry", "opentelemetry.trace", "opentelemetry.sdk"):
        sys.modules[name] = None
from litestar.testing import TestClient
from docstream.settings import Settings
from docstream.web.app import create_app
from docstream import tracing

app = create_app(Settings(data_dir=Path(sys.argv[1]), log_level="warning"))
with TestClient(app) as client:
    status = client.get("/health/live").status_code
# Litestar itself looks for its OpenTelemetry plugin whenever an app is built, which imports the
# semantic conventions' constants when they are installed: not ours, and no SDK.
loaded = sorted(
    m for m in sys.modules
    if m.startswith("opentelemetry.") and not m.startswith("opentelemetry.semconv")
)
provider = None
if not os.environ.get("PROBE_WITHOUT_OTEL"):
    from opentelemetry import trace
    provider = type(trace.get_tracer_provider()).__name__
print(json.dumps({"status": status, "enabled": tracing.enabled(), "loaded": loaded,
                  "provider": provider}), file=sys.stderr)
"""


def probe(tmp_path: Path, otel_env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Run :data:`PROBE` with only ``otel_env`` of the OTEL_* variables; its report and its
    standard output (where the console exporter writes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(otel_env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stderr.strip().splitlines()[-1])
    report["warnings"] = [
        "install docstream[otel]" for line in done.stderr.splitlines() if "docstream[otel]" in line
    ]
    assert report["status"] == 200
    return report, done.stdout


@pytest.mark.parametrize(
    "otel_env",
    [
        {},
        {"OTEL_SERVICE_NAME": "named-but-not-enabled"},
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
    ],
    ids=["unset", "service-name-only", "sdk-disabled", "exporter-none"],
)
def test_without_the_variables_nothing_of_opentelemetry_is_loaded(
    tmp_path: Path, otel_env: dict[str, str]
) -> None:
    report, _ = probe(tmp_path, otel_env)
    # No API, no SDK, no exporter was imported, and no tracer provider set: OpenTelemetry's
    # global is still its placeholder.
    assert report == {
        "status": 200,
        "enabled": False,
        "loaded": [],
        "provider": "ProxyTracerProvider",
        "warnings": [],
    }


def test_without_the_extra_a_server_asked_for_traces_runs_without_them(tmp_path: Path) -> None:
    report, _ = probe(
        tmp_path,
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "PROBE_WITHOUT_OTEL": "1"},
    )
    assert report["status"] == 200
    assert report["enabled"] is False
    assert report["warnings"] == ["install docstream[otel]"]


def test_the_variables_alone_set_the_sdk_up(tmp_path: Path) -> None:
    report, stdout = probe(
        tmp_path,
        {
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=test",
        },
    )
    assert report["enabled"] is True
    assert report["provider"] == "TracerProvider"
    assert "opentelemetry.sdk.trace" in report["loaded"]
    # The console exporter printed the request's span at shutdown (one JSON object per span).
    spans = json.loads("[" + stdout.replace("}\n{", "},\n{") + "]")
    [live] = [s for s in spans if s["name"] == "GET /health/live"]
    assert live["attributes"]["http.response.status_code"] == 200
    resource = live["resource"]["attributes"]
    assert resource["service.name"] == "docstream"  # the default, OTEL_SERVICE_NAME unset
    assert resource["deployment.environment.name"] == "test"

    named, stdout = probe(
        tmp_path, {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "docs-eu"}
    )
    assert named["enabled"] is True
    assert '"service.name": "docs-eu"' in stdout


class Collector:
    """An OTLP/HTTP trace receiver (``POST /v1/traces``, protobuf), decoding what it gets with
    the protocol's own message classes: what a collector would see."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        self.requests: list[Any] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    collector.requests.append((self.headers.get("Content-Type"), request))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) of every span received."""

        def value(v: Any) -> Any:
            return getattr(v, v.WhichOneof("value"))

        found = []
        for _, request in self.requests:
            for resource_spans in request.resource_spans:
                resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope_spans.spans]
        return found

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_an_otlp_endpoint_alone_sends_the_spans_there(tmp_path: Path) -> None:
    collector = Collector()
    try:
        report, _ = probe(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    finally:
        collector.close()
    assert report["enabled"] is True
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" in report["loaded"]
    assert {kind for kind, _ in collector.requests} == {"application/x-protobuf"}
    [(resource, span)] = [(r, s) for r, s in collector.spans() if s.name == "GET /health/live"]
    assert resource["service.name"] == "docstream"
    attributes = {a.key: a.value.int_value for a in span.attributes}
    assert attributes["http.response.status_code"] == 200


@pytest.mark.parametrize(
    ("otel_env", "names"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console,otlp"}, ["console", "otlp"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, []),
        ({"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, []),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"]),
    ],
)
def test_when_tracing_is_on(otel_env: dict[str, str], names: list[str]) -> None:
    assert tracing.exporter_names(otel_env) == names
