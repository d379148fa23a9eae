"""Which DocStream account a provider identity signs in to.

1. An identity linked before, by ``(issuer, subject)``: its account (the address may have changed
   at the provider since; the subject does not).
2. Else an account with the same e-mail address, linked now.
3. Else a new account (``AuthService.create_sso_account``, which applies the sign-up policy).

2 and 3 need an address the provider says is verified (``email_verified``, or the
``oidc_trust_email`` setting): otherwise anyone who can type someone's address into their
profile at the provider would take over that person's account, or, before that person has one,
receive what others share with the address. Both refusals look the same (no hint whether the
address has an account).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from docstream.errors import ConflictError, ForbiddenError, InvalidInputError
from docstream.services.auth import AuthService
from docstream.services.identity import TokenPair, normalize_email
from docstream.services.oidc.provider import ProviderIdentity, SignOnFailed
from docstream.storage.base import DocumentStore, User

Outcome = Literal["signed_in", "linked", "created"]


@dataclass(frozen=True, slots=True)
class SignedOn:
    """A completed single sign-on: the account, its new session, and how it was found."""

    user: User
    tokens: TokenPair
    outcome: Outcome


async def sign_on(
    store: DocumentStore, auth: AuthService, who: ProviderIdentity, *, trust_email: bool = False
) -> SignedOn:
    """Find, link or create the account of ``who`` and start a session (see the module doc)."""
    user_id = await store.identity_user(who.issuer, who.subject)
    if user_id is not None:
        user = await store.get_user(user_id)
        if user is None or user.pending:
            raise SignOnFailed("account", "the linked account no longer exists")
        if user.disabled:
            raise SignOnFailed("disabled", "this account is disabled")
        return SignedOn(user, await auth.start_session(user.id), "signed_in")
    if not who.email:
        raise SignOnFailed("no_email", "the provider did not tell the e-mail address")
    try:
        email = normalize_email(who.email)
    except InvalidInputError:
        raise SignOnFailed("no_email", "the provider's e-mail address is not valid") from None
    if not (who.email_verified or trust_email):
        raise SignOnFailed(
            "email_unverified",
            f"the provider does not say that {email} is verified: no account linked or created",
        )
    existing = await store.get_user_by_email(email)
    outcome: Outcome
    if existing is not None and not existing.pending:
        if existing.disabled:
            raise SignOnFailed("disabled", "this account is disabled")
        user, outcome = existing, "linked"
    else:
        try:
            user = await auth.create_sso_account(email, who.name)
        except ForbiddenError as exc:
            raise SignOnFailed("signup_refused", exc.detail) from None
        except ConflictError:  # registered a moment ago by someone else
            raise SignOnFailed("account", f"an account with {email} was just created") from None
        outcome = "created"
    try:
        await store.link_identity(who.issuer, who.subject, user.id)
    except ConflictError:  # the same identity signing in twice at once: the other one linked
        raise SignOnFailed("account", "this identity was just linked to an account") from None
    return SignedOn(user, await auth.start_session(user.id), outcome)
