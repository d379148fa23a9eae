"""Single sign-on with OpenID Connect: the provider conversation (``provider``) and the accounts
it signs in to (``accounts``)."""

from docstream.services.oidc.accounts import SignedOn, sign_on
from docstream.services.oidc.checks import safe_next
from docstream.services.oidc.provider import (
    OidcProvider,
    PendingSignOn,
    ProviderIdentity,
    SignOnFailed,
)

__all__ = [
    "OidcProvider",
    "PendingSignOn",
    "ProviderIdentity",
    "SignOnFailed",
    "SignedOn",
    "safe_next",
    "sign_on",
]
