"""Accounts and tokens: register/login/refresh/me, email rules, and every way a token can be bad."""

from __future__ import annotations

import base64
import json
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.errors import ConfigurationError
from docstream.settings import Settings
from docstream.web.app import create_app
from testkit.config import PG_SECRET, SettingsFactory
from tests.web.api import PASSWORD, assert_error, bearer, register, unique_email

Client = AsyncTestClient[Litestar]


def secret_of(settings: Settings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    return (settings.data_dir / "jwt_secret").read_text().strip()


def claims_for(user_id: str, settings: Settings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- the happy path -------------------------------------------------------------------------------


async def test_register_login_refresh_me(client: Client) -> None:
    response = await client.post(
        "/auth/register", json={"email": "ann@example.com", "password": PASSWORD, "name": "Ann"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {"user", "access_token", "refresh_token"}
    assert body["user"]["email"] == "ann@example.com"
    assert body["user"]["name"] == "Ann"
    # Neither the password nor its hash comes back (``has_password`` is the only password field).
    assert PASSWORD not in response.text and "argon2" not in response.text
    assert "password_hash" not in response.text and body["user"]["has_password"] is True
    user_id = body["user"]["id"]

    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user_id and me.json()["email"] == "ann@example.com"

    login = await client.post(
        "/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["id"] == user_id
    assert login.json()["access_token"] != body["access_token"]

    refreshed = await client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    assert set(tokens) >= {"access_token", "refresh_token"}
    me_again = await client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me_again.status_code == 200 and me_again.json()["id"] == user_id


async def test_name_defaults_to_a_neutral_name_never_the_address(client: Client) -> None:
    response = await client.post(
        "/auth/register", json={"email": "bob.smith@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201
    name = response.json()["user"]["name"]
    assert name.startswith("User ") and "bob" not in name.lower()


async def test_email_is_trimmed_and_case_insensitive(client: Client) -> None:
    response = await client.post(
        "/auth/register", json={"email": "  Carol@Example.COM \t", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == "carol@example.com"
    login = await client.post(
        "/auth/login", json={"email": " CAROL@example.com ", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    again = await client.post(
        "/auth/register", json={"email": "carol@EXAMPLE.com", "password": PASSWORD}
    )
    assert_error(again, 409, "CONFLICT")


@pytest.mark.parametrize("password", ["", "a", "1234567", "seven77"])
async def test_short_passwords_are_refused(client: Client, password: str) -> None:
    response = await client.post(
        "/auth/register", json={"email": unique_email(), "password": password}
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_eight_characters_is_enough(client: Client) -> None:
    response = await client.post(
        "/auth/register", json={"email": unique_email(), "password": "12345678"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "email",
    ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "x" * 250 + "@example.com"],
)
async def test_invalid_emails_are_refused(client: Client, email: str) -> None:
    response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_unknown_email_and_wrong_password_are_indistinguishable(client: Client) -> None:
    account = await register(client)
    wrong_password = await client.post(
        "/auth/login", json={"email": account.email, "password": "not the one"}
    )
    unknown_email = await client.post(
        "/auth/login", json={"email": unique_email("ghost"), "password": PASSWORD}
    )
    malformed_email = await client.post(
        "/auth/login", json={"email": "not an email", "password": PASSWORD}
    )
    assert_error(wrong_password, 401, "UNAUTHORIZED")
    for other in (unknown_email, malformed_email):
        assert other.status_code == wrong_password.status_code
        assert other.content == wrong_password.content  # byte-identical bodies
        assert other.headers["content-type"] == wrong_password.headers["content-type"]


async def test_a_pending_user_cannot_log_in(client: Client) -> None:
    owner = await register(client)
    doc = (await client.post("/documents", json={"title": "t"}, headers=owner.headers)).json()
    invited = unique_email("invited")
    share = await client.post(
        f"/documents/{doc['id']}/share",
        json={"email": invited, "role": "viewer"},
        headers=owner.headers,
    )
    assert share.status_code == 200, share.text
    unknown = await client.post(
        "/auth/login", json={"email": unique_email("ghost"), "password": PASSWORD}
    )
    pending = await client.post("/auth/login", json={"email": invited, "password": PASSWORD})
    assert_error(pending, 401, "UNAUTHORIZED")
    assert pending.content == unknown.content


# --- tokens ---------------------------------------------------------------------------------------


def _bad_tokens(user_id: str, refresh_token: str, settings: Settings) -> dict[str, str]:
    secret = secret_of(settings)
    now = int(time.time())

    def hs256(**changes: Any) -> str:
        return jwt.encode(claims_for(user_id, settings, **changes), secret, algorithm="HS256")

    header_none = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_for(user_id, settings)).encode())
    return {
        "expired": hs256(iat=now - 3600, exp=now - 60),
        "forged signature": jwt.encode(
            claims_for(user_id, settings),
            "another-secret-of-at-least-32-bytes!!",
            algorithm="HS256",
        ),
        "tampered payload": ".".join(
            [
                hs256().split(".")[0],
                _b64(json.dumps(claims_for(str(uuid.uuid4()), settings)).encode()),
                hs256().split(".")[2],
            ]
        ),
        "alg none": f"{header_none}.{payload}.",
        "alg none with signature": f"{header_none}.{payload}.{_b64(b'x')}",
        "HS512 with the right secret": jwt.encode(
            claims_for(user_id, settings), secret, algorithm="HS512"
        ),
        "wrong audience": hs256(aud="someone-else"),
        "wrong issuer": hs256(iss="evil"),
        "missing typ": hs256(typ=None),
        "missing exp": hs256(exp=None),
        "missing sub": hs256(sub=None),
        "unknown typ": hs256(typ="admin"),
        "numeric sub": hs256(sub=12345),
        "unknown user": hs256(sub=str(uuid.uuid4())),
        "refresh token as access token": refresh_token,
        "garbage": "not-a-jwt",
        "empty segments": "..",
    }


async def test_bad_access_tokens_get_401(client: Client, make_settings: SettingsFactory) -> None:
    account = await register(client)
    settings = make_settings()
    for name, token in _bad_tokens(account.id, account.refresh_token, settings).items():
        for path in ("/auth/me", "/documents"):
            response = await client.get(path, headers=bearer(token))
            assert response.status_code == 401, (name, path, response.text)
            assert_error(response, 401, "UNAUTHORIZED")
    # The good one still works, so the failures above are about the tokens.
    assert (await client.get("/auth/me", headers=account.headers)).status_code == 200


async def test_bad_refresh_tokens_get_401(client: Client, make_settings: SettingsFactory) -> None:
    account = await register(client)
    settings = make_settings()
    bad = _bad_tokens(account.id, account.refresh_token, settings)
    del bad["refresh token as access token"]
    secret = secret_of(settings)
    bad["access token as refresh token"] = account.access_token
    bad["expired refresh"] = jwt.encode(
        claims_for(account.id, settings, typ="refresh", exp=int(time.time()) - 1),
        secret,
        algorithm="HS256",
    )
    bad["refresh with alg none"] = (
        _b64(json.dumps({"alg": "none"}).encode())
        + "."
        + _b64(json.dumps(claims_for(account.id, settings, typ="refresh")).encode())
        + "."
    )
    for name, token in bad.items():
        response = await client.post("/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401, (name, response.text)
        assert_error(response, 401, "UNAUTHORIZED")
    ok = await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer"]
)
async def test_malformed_authorization_headers_get_401(client: Client, header: str) -> None:
    response = await client.get("/auth/me", headers={"Authorization": header})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_no_token_gets_401(client: Client) -> None:
    assert_error(await client.get("/auth/me"), 401, "UNAUTHORIZED")


async def test_tokens_carry_the_documented_claims(
    client: Client, make_settings: SettingsFactory
) -> None:
    account = await register(client)
    settings = make_settings()
    header = jwt.get_unverified_header(account.access_token)
    assert header["alg"] == "HS256"
    for token, typ, ttl in (
        (account.access_token, "access", 15 * 60),
        (account.refresh_token, "refresh", 7 * 24 * 3600),
    ):
        claims = jwt.decode(
            token,
            secret_of(settings),
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
        assert claims["typ"] == typ
        assert claims["sub"] == account.id
        assert claims["exp"] - claims["iat"] == ttl


# --- secrets and hashing parameters ---------------------------------------------------------------


async def test_sqlite_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "embedded"
    settings = Settings(
        data_dir=data_dir, log_level="warning", argon2_memory_kib=1024, argon2_time_cost=1
    )
    assert settings.jwt_secret is None
    async with AsyncTestClient(create_app(settings)) as first:
        account = await register(first)
    secret_file = data_dir / "jwt_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret.encode()) >= 32
    # A restart reuses the secret: the old token still verifies, the file is unchanged.
    async with AsyncTestClient(create_app(settings)) as second:
        me = await second.get("/auth/me", headers=account.headers)
        assert me.status_code == 200, me.text
    assert secret_file.read_text().strip() == secret
    # Another data dir gets another secret, so the token is worthless there.
    other = settings.replace(data_dir=tmp_path / "other")
    async with AsyncTestClient(create_app(other)) as third:
        assert_error(await third.get("/auth/me", headers=account.headers), 401, "UNAUTHORIZED")
    assert (tmp_path / "other" / "jwt_secret").read_text().strip() != secret


async def test_sqlite_secret_file_with_loose_mode_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "embedded"
    data_dir.mkdir()
    (data_dir / "jwt_secret").write_text("s" * 48)
    (data_dir / "jwt_secret").chmod(0o644)
    settings = Settings(
        data_dir=data_dir, log_level="warning", argon2_memory_kib=1024, argon2_time_cost=1
    )
    async with AsyncTestClient(create_app(settings)) as client:
        account = await register(client)
    assert stat.S_IMODE((data_dir / "jwt_secret").stat().st_mode) == 0o600
    jwt.decode(account.access_token, "s" * 48, algorithms=["HS256"], audience="docstream")


def test_configured_secret_wins_over_the_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=PG_SECRET).validated()
    assert settings.jwt_secret == PG_SECRET
    assert not (tmp_path / "jwt_secret").exists()


@pytest.mark.parametrize("secret", [None, "", "short", "x" * 31])
def test_postgres_needs_a_32_byte_secret(secret: str | None) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(database_url="postgresql://u@localhost/db", jwt_secret=secret).validated()
    message = info.value.detail
    assert "JWT_SECRET" in message and "32 bytes" in message, message
    env = {"DATABASE_URL": "postgresql://u@localhost/db"}
    if secret:
        env["JWT_SECRET"] = secret
    with pytest.raises(ConfigurationError, match="32 bytes"):
        Settings.from_env(env)


def test_postgres_with_a_32_byte_secret_is_accepted() -> None:
    Settings(database_url="postgresql://u@localhost/db", jwt_secret="x" * 32).validated()
    Settings.from_env(
        {"DATABASE_URL": "postgresql://u@localhost/db", "DOCSTREAM_JWT_SECRET": "y" * 32}
    )


async def test_default_argon2_parameters_are_owasp_minimum(tmp_path: Path) -> None:
    defaults = Settings()
    assert (defaults.argon2_memory_kib, defaults.argon2_time_cost, defaults.argon2_parallelism) == (
        19 * 1024,
        2,
        1,
    )
    settings = Settings(data_dir=tmp_path, log_level="warning")  # default hashing parameters
    app = create_app(settings)
    async with AsyncTestClient(app) as client:
        account = await register(client, email="owasp@example.com")
        user = await app.state.services.store.get_user(account.id)
    assert user is not None and user.password_hash is not None
    # $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
    _, variant, version, params, salt, digest = user.password_hash.split("$")
    assert variant == "argon2id" and version == "v=19"
    values = dict(p.split("=") for p in params.split(","))
    assert int(values["m"]) >= 19 * 1024 and int(values["t"]) >= 2 and int(values["p"]) >= 1
    assert (values["m"], values["t"], values["p"]) == ("19456", "2", "1")
    assert salt and digest


async def test_the_auth_cookie_is_httponly_strict_and_cleared_on_logout(client: Client) -> None:
    response = await client.post(
        "/auth/register", json={"email": unique_email(), "password": PASSWORD}
    )
    assert response.status_code == 201
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert (await client.get("/auth/me")).status_code == 200  # same-origin use: the cookie
    logout = await client.post("/auth/logout", json={})  # JSON: the cookie's CSRF rule
    assert logout.status_code == 204
    assert_error(await client.get("/auth/me"), 401, "UNAUTHORIZED")
    # A header wins over the cookie, and a bad header is not rescued by a good cookie.
    await client.post(
        "/auth/login", json={"email": response.json()["user"]["email"], "password": PASSWORD}
    )
    assert_error(await client.get("/auth/me", headers=bearer("forged")), 401, "UNAUTHORIZED")
    client.cookies.clear()


async def test_signing_out_revokes_the_refresh_token(client: Client) -> None:
    reply = await client.post(
        "/auth/register", json={"email": unique_email(), "password": PASSWORD}
    )
    refresh_token = reply.json()["refresh_token"]
    other_session = await client.post(
        "/auth/login", json={"email": reply.json()["user"]["email"], "password": PASSWORD}
    )
    assert (
        await client.post("/auth/refresh", json={"refresh_token": refresh_token})
    ).status_code == 200
    assert (
        await client.post("/auth/logout", json={"refresh_token": refresh_token})
    ).status_code == 204
    assert_error(
        await client.post("/auth/refresh", json={"refresh_token": refresh_token}),
        401,
        "UNAUTHORIZED",
    )
    # Another session (another device) is not signed out by this one.
    still = await client.post(
        "/auth/refresh", json={"refresh_token": other_session.json()["refresh_token"]}
    )
    assert still.status_code == 200
    # Signing out with a garbage or missing token still clears the cookie and answers 204.
    assert (await client.post("/auth/logout", json={"refresh_token": "garbage"})).status_code == 204
    assert (await client.post("/auth/logout")).status_code == 204
