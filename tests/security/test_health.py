"""``/health`` tells a stranger only ``ok`` or ``degraded``; component details stay on the host.

The node id, pid, open documents, typeahead counters and version tell an attacker what to aim at
(and when a node restarted). A load balancer needs only the status and HTTP 200; the operator on
the host itself (a loopback peer, not forwarded by a proxy) still gets everything.
"""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from testkit.processes import ServerProcess
from tests.web.api import LoopbackPeer

Client = AsyncTestClient[Litestar]


async def test_health_tells_a_remote_caller_only_the_status(client: Client) -> None:
    response = await client.get("/health")  # the test client's peer is not loopback
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_health_through_a_proxy_on_this_host_is_not_local(server: ServerProcess) -> None:
    """A proxy on the same host connects from loopback too; its forwarding header gives it away."""
    for header in (
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
    ):
        response = httpx.get(f"{server.url}/health", headers=header)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}, header


async def test_health_details_are_for_requests_from_this_host(server: ServerProcess) -> None:
    body = httpx.get(f"{server.url}/health").json()
    assert body["status"] == "ok" and body["db"] == "ok" and body["redis"] == "disabled"
    assert {"node", "pid", "open_documents", "event_streams", "typeahead"} <= set(body["details"])
    assert body["version"]


async def test_a_loopback_peer_of_the_app_gets_the_details(client: Client) -> None:
    client.app.asgi_handler = LoopbackPeer(client.app.asgi_handler)  # type: ignore[assignment]
    body = (await client.get("/health")).json()
    assert body["db"] == "ok" and "details" in body
