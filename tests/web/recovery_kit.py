"""Helpers of the password reset and API token tests: an audit recorder, a real SMTP inbox
(aiosmtpd), administrators, and the links in received e-mails."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken, Extension
from testkit.ports import free_port


class AuditRecorder(Extension):
    """Records every ActionTaken (the audit log extension would store them)."""

    name = "test-audit"

    def __init__(self) -> None:
        self.events: list[ActionTaken] = []

    async def action_taken(self, event: ActionTaken) -> None:
        self.events.append(event)

    def actions(self) -> list[str]:
        return [e.action for e in self.events]


def services_of(client: Any) -> Services:
    services: Services = client.app.state.services
    return services


def record_audit(client: Any) -> AuditRecorder:
    recorder = AuditRecorder()
    services_of(client).recovery.extensions.add(recorder)
    return recorder


async def make_admin(client: Any, user_id: str) -> None:
    assert await services_of(client).store.set_admin(user_id, True) is not None


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        for _ in range(int(timeout / 0.05)):
            if len(self.messages) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")


def smtp_inbox() -> Iterator[tuple[int, Inbox]]:
    """Run a real SMTP server on a free port for one test."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def smtp_settings(port: int) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "docstream@example.com",
        "smtp_starttls": False,
        "public_url": "https://docs.example.com",
    }


_LINK = re.compile(r"https?://\S+/reset/([A-Za-z0-9_-]+)")


def reset_token_in(message: EmailMessage) -> str:
    body = message.get_body()
    assert body is not None
    found = _LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found[1]


def token_of_link(link: str) -> str:
    return link.rsplit("/reset/", 1)[1]
