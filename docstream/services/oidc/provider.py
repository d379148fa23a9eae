"""The OpenID Connect relying party: discovery, the authorization code flow with PKCE, ID tokens.

Nothing about a sign-in in progress is kept on the server: ``begin`` returns the provider's
authorization URL and a value for a short-lived cookie (a JWT signed with a key derived from the
node's JWT secret, so every worker and node can read it) holding the ``state``, the ``nonce``, the
PKCE ``code_verifier``, where to go afterwards and the redirect URI. ``finish`` checks the state
the provider sent back against that cookie, exchanges the code (with the verifier) at the token
endpoint, and validates the ID token: signature by a key of the provider's JWKS (asymmetric
algorithms only), ``iss``, ``aud`` (and ``azp`` when there are several audiences), ``exp``,
``iat`` and the ``nonce``. A code injected from another sign-in carries that sign-in's nonce and is
refused; the provider refuses a code used twice or a wrong verifier.

Authlib does the protocol pieces (the authorization URL with its S256 challenge, the token
request and its client authentication); joserfc, Authlib's JOSE library, checks the ID token.
Failures are :class:`SignOnFailed` with a stable ``reason`` that the sign-in page explains: the
provider's own words never reach the page (they would travel in its address).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt as jose_jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from docstream.services.oidc.checks import allowed_url, kid_of, safe_next
from docstream.settings import Settings

with warnings.catch_warnings():
    # Authlib warns that it prefers the httpx2 package; httpx is what DocStream uses.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

log = logging.getLogger(__name__)

#: How long a sign-in may take at the provider (seconds): the lifetime of the state cookie.
STATE_TTL = 600
#: How long discovery and the provider's keys are trusted before they are fetched again.
METADATA_TTL = 3600.0
#: Clock difference tolerated on ``exp`` and ``iat`` (seconds).
LEEWAY = 60
#: ID token algorithms DocStream accepts: asymmetric ones (never ``none``, never HMAC).
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class SignOnFailed(Exception):
    """A single sign-on that cannot go on. ``reason`` is one of a fixed set of codes (the
    sign-in page has a message for each); ``detail`` is for the server's log."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Metadata:
    """What discovery told about the provider."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]
    client_secret_post: bool


@dataclass(frozen=True, slots=True)
class PendingSignOn:
    """A sign-in in progress, as its cookie holds it."""

    state: str
    nonce: str
    verifier: str
    next: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class OidcProvider:
    """The configured provider (``oidc_issuer``): one per node, opened with ``async with``."""

    def __init__(self, settings: Settings, secret: str) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id  # Settings.validated checked
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._key = hmac.new(secret.encode(), b"docstream oidc state", hashlib.sha256).digest()
        self._http: httpx.AsyncClient | None = None
        self._metadata: tuple[float, Metadata] | None = None
        self._keys: tuple[float, KeySet] | None = None
        self._lock = asyncio.Lock()
        self._loopback_http = self.issuer.startswith("http://")

    async def __aenter__(self) -> OidcProvider:
        self._http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- the provider's configuration -----------------------------------------------------------

    async def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        assert self._http is not None, "the provider is not open"
        try:
            response = await self._http.get(url, **kwargs)
        except httpx.HTTPError as exc:
            raise SignOnFailed("provider", f"{url}: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise SignOnFailed("provider", f"{url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise SignOnFailed("provider", f"{url} did not answer JSON") from None
        if not isinstance(body, dict):
            raise SignOnFailed("provider", f"{url} did not answer a JSON object")
        return body

    async def metadata(self) -> Metadata:
        """The discovery document (``<issuer>/.well-known/openid-configuration``), cached."""
        cached = self._metadata
        if cached is not None and time.monotonic() - cached[0] < METADATA_TTL:
            return cached[1]
        async with self._lock:
            if self._metadata is not None and self._metadata is not cached:
                return self._metadata[1]
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            doc = await self._get_json(url)
            if doc.get("issuer") != self.issuer:
                raise SignOnFailed(
                    "provider",
                    f"the discovery document names the issuer {doc.get('issuer')!r}, not "
                    f"{self.issuer!r} (oidc_issuer must be exactly the provider's issuer)",
                )
            endpoints = {}
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not allowed_url(doc.get(name), loopback_http=self._loopback_http):
                    raise SignOnFailed("provider", f"the provider's {name} is not an https URL")
                endpoints[name] = str(doc[name])
            userinfo = doc.get("userinfo_endpoint")
            if not allowed_url(userinfo, loopback_http=self._loopback_http):
                userinfo = None
            offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
            algorithms = tuple(a for a in ASYMMETRIC if a in offered) or ("RS256",)
            methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            metadata = Metadata(
                authorization_endpoint=endpoints["authorization_endpoint"],
                token_endpoint=endpoints["token_endpoint"],
                jwks_uri=endpoints["jwks_uri"],
                userinfo_endpoint=userinfo,
                algorithms=algorithms,
                client_secret_post="client_secret_basic" not in methods
                and "client_secret_post" in methods,
            )
            self._metadata = (time.monotonic(), metadata)
            return metadata

    async def _key_set(self, metadata: Metadata, *, refresh: bool = False) -> KeySet:
        cached = self._keys
        if not refresh and cached is not None and time.monotonic() - cached[0] < METADATA_TTL:
            return cached[1]
        doc = await self._get_json(metadata.jwks_uri)
        keys = doc.get("keys")
        usable = (
            [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
            if isinstance(keys, list)
            else []
        )
        try:
            key_set = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as exc:
            raise SignOnFailed("provider", f"the provider's keys cannot be read: {exc}") from None
        self._keys = (time.monotonic(), key_set)
        return key_set

    # --- the flow -------------------------------------------------------------------------------

    async def begin(self, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """The provider's authorization URL and the state cookie's value for a new sign-in."""
        metadata = await self.metadata()
        pending = PendingSignOn(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),
            next=safe_next(next_path),
            redirect_uri=redirect_uri,
        )
        url = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=" ".join(self.settings.oidc_scopes),
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256",
        )
        now = int(time.time())
        cookie = jwt.encode(
            {
                "typ": "oidc_state",
                "st": pending.state,
                "nonce": pending.nonce,
                "cv": pending.verifier,
                "next": pending.next,
                "ru": pending.redirect_uri,
                "iat": now,
                "exp": now + STATE_TTL,
            },
            self._key,
            algorithm="HS256",
        )
        return url, cookie

    def pending(self, cookie: str | None) -> PendingSignOn:
        """The sign-in a state cookie holds (refused when missing, expired or forged)."""
        if not cookie:
            raise SignOnFailed(
                "expired", "no sign-in in progress in this browser (the state cookie is missing)"
            )
        try:
            claims = jwt.decode(
                cookie,
                self._key,
                algorithms=["HS256"],
                options={"require": ["exp", "iat", "typ", "st", "nonce", "cv", "next", "ru"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignOnFailed("expired", "the sign-in took too long") from None
        except jwt.PyJWTError:
            raise SignOnFailed("state", "the state cookie is invalid") from None
        if claims.get("typ") != "oidc_state":
            raise SignOnFailed("state", "the state cookie is invalid")
        try:
            target = safe_next(str(claims["next"]))
        except ValueError:  # signed by us, so never; but a redirect is checked where it is made
            raise SignOnFailed("state", "the state cookie names no local path") from None
        return PendingSignOn(
            state=str(claims["st"]),
            nonce=str(claims["nonce"]),
            verifier=str(claims["cv"]),
            next=target,
            redirect_uri=str(claims["ru"]),
        )

    async def finish(
        self, pending: PendingSignOn, state: str | None, code: str | None
    ) -> ProviderIdentity:
        """Check the provider's answer against the pending sign-in; who signed in."""
        if not state or not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise SignOnFailed("state", "the state does not match this browser's sign-in")
        if not code:
            raise SignOnFailed("provider", "the provider sent no authorization code")
        metadata = await self.metadata()
        token = await self._exchange(metadata, pending, code)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignOnFailed("token", "the provider answered without an ID token")
        claims = await self._validate(metadata, id_token, pending.nonce)
        subject = str(claims["sub"])
        if "email" not in claims and metadata.userinfo_endpoint and token.get("access_token"):
            info = await self._get_json(
                metadata.userinfo_endpoint,
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            if info.get("sub") == subject:  # else: not about this user; ignored (OIDC 5.3.2)
                claims = {**info, **claims}
        email = claims.get("email")
        verified = claims.get("email_verified")
        name = claims.get("name") or claims.get("preferred_username")
        return ProviderIdentity(
            issuer=self.issuer,
            subject=subject,
            email=email if isinstance(email, str) and email else None,
            email_verified=verified is True or verified == "true",
            name=name if isinstance(name, str) else None,
        )

    async def _exchange(self, metadata: Metadata, pending: PendingSignOn, code: str) -> Any:
        secret = self.settings.oidc_client_secret
        if secret is None:
            method = "none"
        else:
            method = "client_secret_post" if metadata.client_secret_post else "client_secret_basic"
        async with AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=secret,
            token_endpoint_auth_method=method,
            redirect_uri=pending.redirect_uri,
            timeout=10.0,
        ) as client:
            try:
                return await client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.verifier,
                    redirect_uri=pending.redirect_uri,
                )
            except OAuthError as exc:
                raise SignOnFailed("token", f"the token endpoint refused: {exc}") from None
            except (httpx.HTTPError, ValueError) as exc:
                raise SignOnFailed(
                    "provider", f"the token endpoint failed: {type(exc).__name__}: {exc}"
                ) from None

    async def _validate(self, metadata: Metadata, id_token: str, nonce: str) -> dict[str, Any]:
        keys = await self._key_set(metadata)
        kid = kid_of(id_token)
        if kid is not None and all(key.kid != kid for key in keys):
            # The provider rotated its keys since they were fetched: fetch them once more.
            keys = await self._key_set(metadata, refresh=True)
        try:
            decoded = jose_jwt.decode(id_token, keys, algorithms=list(metadata.algorithms))
            claims: dict[str, Any] = dict(decoded.claims)
            jose_jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except ExpiredTokenError:
            raise SignOnFailed("id_token", "the ID token has expired") from None
        except ClaimError as exc:
            raise SignOnFailed("id_token", f"the ID token's {exc.claim} claim is wrong") from None
        except (JoseError, ValueError) as exc:
            raise SignOnFailed("id_token", f"the ID token is invalid: {exc}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SignOnFailed("id_token", "the ID token was issued to another party (azp)")
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise SignOnFailed(
                "nonce", "the ID token's nonce is not this sign-in's (a code from another one?)"
            )
        return claims
