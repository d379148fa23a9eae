"""Structured logs: with ``--log-format json`` every line a server writes is one JSON object, and a
line about a client's socket names the request, the user, the document and the node."""

from __future__ import annotations

import json
import logging

import pytest

from docstream import logs
from docstream.errors import ConfigurationError
from docstream.settings import Settings
from testkit.accounts import Users
from testkit.processes import ServerFactory
from testkit.raw import RawPeer


async def test_json_lines_name_the_request_user_document_and_node(
    start_server: ServerFactory,
) -> None:
    with start_server(args=["--log-format", "json"]) as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Logged")
            assert ann.user is not None
            token = ann.access_token
            peer = await RawPeer.open(
                server.url, doc["id"], token, headers={"X-Request-Id": "trace-me-42"}
            )
            await peer.send({"type": "hello", "replica": "not a replica!", "since": 0})
            code, _ = await peer.closed()
            assert code != 1000
        finally:
            await users.close()
        server.stop()
        lines = [line for line in server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, granian's own included
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    closed = [r for r in records if r["message"].startswith("websocket closed by the server")]
    assert len(closed) == 1, records
    line = closed[0]
    assert line["request_id"] == "trace-me-42"
    assert line["user_id"] == ann.user["id"]
    assert line["doc_id"] == doc["id"]
    assert line["level"] == "info"
    # The supervisor's one line (the open-file limit, before any worker or node exists) has no node.
    supervisor = [r for r in records if r["logger"] == "docstream.limits"]
    assert len(supervisor) == 1 and "node" not in supervisor[0], supervisor
    workers = [r for r in records if r["logger"].startswith("docstream") and r not in supervisor]
    nodes = {r.get("node") for r in workers}
    assert line["node"] and nodes == {line["node"]}, nodes


def test_a_line_without_context_leaves_the_keys_out() -> None:
    record = logging.LogRecord(
        "docstream.x", logging.WARNING, __file__, 1, "hi %s", ("there",), None
    )
    logs.ContextFilter().filter(record)
    out = json.loads(logs.JsonLines().format(record))
    assert out["message"] == "hi there" and out["level"] == "warning"
    assert "user_id" not in out and "doc_id" not in out and "request_id" not in out
    assert out["time"].endswith("Z")


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="log_format"):
        Settings(log_format="yaml").validated()
