"""Notifications: mentions, replies and shares, in the app, live, and in e-mail digests.

:mod:`.service` decides who is told what (an extension), :mod:`.digest` mails the unread ones,
:mod:`.messages` holds the typed messages of the REST API and the ``GET /events`` stream.
"""

from docstream.services.notifications.digest import DigestMailer
from docstream.services.notifications.service import NotificationService

__all__ = ["DigestMailer", "NotificationService"]
