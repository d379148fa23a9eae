"""Outgoing e-mail (invitations) through an SMTP server, when one is configured.

The stdlib ``smtplib`` does the job (no extra dependency); it blocks, so each message is sent in a
worker thread, never on the event loop. ``smtp_starttls`` upgrades a plain connection (port 587);
port 465 speaks TLS from the start. Without ``smtp_host`` nothing is sent and nothing fails: the
inviter copies the link shown in the share dialog.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr

from docstream.settings import Settings


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self._settings.smtp_host)

    def message(self, to: str, subject: str, body: str, sender_name: str = "") -> EmailMessage:
        settings = self._settings
        assert settings.smtp_from is not None
        msg = EmailMessage()
        msg["From"] = (
            formataddr((sender_name, settings.smtp_from)) if sender_name else (settings.smtp_from)
        )
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        return msg

    async def send(self, msg: EmailMessage) -> None:
        """Deliver one message (raises ``OSError``/``smtplib.SMTPException`` on failure)."""
        await asyncio.to_thread(self._send, msg)

    def _send(self, msg: EmailMessage) -> None:
        s = self._settings
        assert s.smtp_host is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_port == 465:
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        with smtp:
            if s.smtp_port != 465 and s.smtp_starttls:
                smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(msg)
