"""How a route records what someone did: an ``ActionTaken`` with the client's address.

Routes emit (not the services) because a route knows who acted and from where (``client_ip``:
the peer, or what the trusted proxies say). The audit log extension stores the entry before
``record`` returns, and never raises.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.web.deps import client_ip

#: The longest e-mail address, as typed, kept in an entry (a refused sign-in can send anything).
MAX_TYPED = 120


async def record(
    request: Request[Any, Any, Any],
    services: Services,
    action: str,
    actor_id: str | None,
    *,
    doc_id: str | None = None,
    subject_id: str | None = None,
    **detail: str,
) -> None:
    await services.documents.extensions.emit(
        ActionTaken(
            action=action,
            actor_id=actor_id,
            ip=client_ip(request),
            doc_id=doc_id,
            subject_id=subject_id,
            detail=tuple(detail.items()),
        )
    )
