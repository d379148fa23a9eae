"""``/auth/signup``: what the sign-up page needs to know before anyone signs in (public).

Whether accounts can be created here (the sign-up policy) and, for a server invitation's link,
which address it invites. Kept apart from ``/auth`` so other ways in (single sign-on) can add
what their page needs without touching the password routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from litestar import Router, get

from docstream.bootstrap import Services


class SignupOut(msgspec.Struct):
    """``policy``: open, invite-only or closed; ``first_account``: the server has no
    administrator yet, so the next account is allowed whatever the policy, and administers it."""

    policy: Literal["open", "invite-only", "closed"]
    first_account: bool


class SignupInvitationOut(msgspec.Struct):
    email: str
    expires_at: datetime


@get("/", summary="Whether accounts can be created here (the sign-up policy)")
async def signup(services: Services) -> SignupOut:
    policy = await services.auth.signup.current()
    return SignupOut(policy=policy, first_account=await services.store.count_admins() == 0)


@get(
    "/invitations/{token:str}",
    summary="The address a server invitation link invites (404: invalid, expired or used)",
)
async def signup_invitation(token: str, services: Services) -> SignupInvitationOut:
    found = await services.admin.preview_invitation(token)
    return SignupInvitationOut(email=found.email, expires_at=found.expires_at)


router = Router(path="/auth/signup", route_handlers=[signup, signup_invitation], tags=["auth"])
