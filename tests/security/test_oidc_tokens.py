"""The ID token checks, one attack at a time, with real keys and real signatures: a token that
is unsigned, HMAC-signed, signed by another key, for another audience or issuer, expired, issued
in the future, or without this sign-in's nonce is refused."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from docstream.services.oidc import OidcProvider, SignOnFailed
from docstream.services.oidc.provider import Metadata
from docstream.settings import Settings

ISSUER = "https://id.example.com"
CLIENT = "docstream"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, another key
METADATA = Metadata(
    authorization_endpoint=f"{ISSUER}/authorize",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/jwks",
    userinfo_endpoint=None,
    algorithms=("RS256",),
    client_secret_post=False,
)


@pytest.fixture
def provider() -> OidcProvider:
    settings = Settings(oidc_issuer=ISSUER, oidc_client_id=CLIENT).validated()
    checker = OidcProvider(settings, "s" * 32)
    public = KeySet([RSAKey.import_key(KEY.as_dict(private=False))])
    checker._keys = (time.monotonic(), public)  # as fetched from the provider's JWKS
    return checker


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "s1", "iat": now, "exp": now + 300, "nonce": "n1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(body: dict[str, Any], key: Any = KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": "k1"}, body, key, algorithms=[alg])


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_good_token_passes(provider: OidcProvider) -> None:
    got = await provider._validate(METADATA, signed(claims()), "n1")
    assert got["sub"] == "s1"
    # Several audiences: only when it was issued to us (azp).
    many = claims(aud=[CLIENT, "other"], azp=CLIENT)
    assert (await provider._validate(METADATA, signed(many), "n1"))["sub"] == "s1"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: f"{b64({'alg': 'none'})}.{b64(claims())}.", "id_token"),
        (
            lambda: signed(claims(), OctKey.import_key(b"k" * 32), "HS256"),
            "id_token",
        ),
        (lambda: signed(claims(), OTHER), "id_token"),
        (lambda: signed(claims(iss="https://evil.example.com")), "id_token"),
        (lambda: signed(claims(aud="another-client")), "id_token"),
        (lambda: signed(claims(aud=[CLIENT, "other"])), "id_token"),
        (lambda: signed(claims(aud=[CLIENT, "other"], azp="other")), "id_token"),
        (lambda: signed(claims(exp=int(time.time()) - 3600)), "id_token"),
        (lambda: signed(claims(iat=int(time.time()) + 3600)), "id_token"),
        (lambda: signed(claims(sub=None)), "id_token"),
        (lambda: signed(claims(nonce=None)), "nonce"),
        (lambda: signed(claims(nonce="n2")), "nonce"),
        (lambda: "not.a.token", "id_token"),
    ],
    ids=[
        "unsigned",
        "hmac",
        "another-key",
        "issuer",
        "audience",
        "audiences-without-azp",
        "azp-of-another",
        "expired",
        "future",
        "no-subject",
        "no-nonce",
        "another-nonce",
        "garbage",
    ],
)
async def test_a_bad_token_is_refused(provider: OidcProvider, token: Any, reason: str) -> None:
    with pytest.raises(SignOnFailed) as refused:
        await provider._validate(METADATA, token(), "n1")
    assert refused.value.reason == reason
