"""``/auth/tokens``: personal API tokens (list, create: the secret is shown once, revoke).

Managing tokens needs a signed-in session: a token cannot list, create or revoke tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Router, delete, get, post
from msgspec import Meta

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.services.identity import Verified
from docstream.storage.base import ApiToken, TokenScope
from docstream.web.deps import client_ip, refuse_api_token
from docstream.web.schemas import Name


class TokenBody(msgspec.Struct):
    name: Name
    scope: TokenScope
    #: Days until it expires (1 to 3650); null: never.
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class TokenOut(msgspec.Struct):
    id: str
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            scope=token.scope,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
        )


class NewTokenOut(msgspec.Struct):
    """A new token with its secret: shown this once, never again."""

    token: TokenOut
    secret: str


@get("/", summary="Your personal API tokens (never their secrets)")
async def list_tokens(verified: Verified, services: Services) -> list[TokenOut]:
    refuse_api_token(verified, "list API tokens")
    return [TokenOut.of(t) for t in await services.recovery.tokens.list(verified.user.id)]


@post(
    "/",
    status_code=201,
    summary="Create a personal API token (scope read or read-write); the secret is in this reply "
    "only",
)
async def create_token(
    data: TokenBody, verified: Verified, services: Services, request: Request[Any, Any, Any]
) -> NewTokenOut:
    refuse_api_token(verified, "create API tokens")
    token, secret = await services.recovery.tokens.create(
        verified.user.id, data.name, data.scope, data.expires_in_days
    )
    await services.recovery.extensions.emit(
        ActionTaken(
            action="auth.token_created",
            actor_id=verified.user.id,
            ip=client_ip(request),
            subject_id=verified.user.id,
            detail=(("name", token.name), ("scope", token.scope)),
        )
    )
    return NewTokenOut(token=TokenOut.of(token), secret=secret)


@delete("/{token_id:str}", status_code=204, summary="Revoke one of your API tokens")
async def revoke_token(
    token_id: str, verified: Verified, services: Services, request: Request[Any, Any, Any]
) -> None:
    refuse_api_token(verified, "revoke API tokens")
    await services.recovery.tokens.revoke(verified.user.id, token_id)
    await services.recovery.extensions.emit(
        ActionTaken(
            action="auth.token_revoked",
            actor_id=verified.user.id,
            ip=client_ip(request),
            subject_id=verified.user.id,
            detail=(("token_id", token_id),),
        )
    )


router = Router(
    path="/auth/tokens", route_handlers=[list_tokens, create_token, revoke_token], tags=["auth"]
)
