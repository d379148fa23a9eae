"""Accounts and tokens: argon2id password hashing and HS256 JWTs.

Hashing runs in worker threads, at most ``max_concurrent_hashes`` at a time, so a burst of logins
can neither block the event loop nor exhaust memory (each argon2id hash holds
``argon2_memory_kib``). An unknown email and a wrong password take the same path (a dummy hash is
verified) and produce the same error. Access and refresh tokens are told apart by the ``typ`` claim;
the algorithm is pinned.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import stat
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from docstream.errors import (
    ConfigurationError,
    InvalidInputError,
    UnauthorizedError,
)
from docstream.services.visible import refuse_invisible
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, User

TokenType = Literal["access", "refresh"]
# No whitespace and no control characters (PostgreSQL refuses NUL in text; a newline or escape
# in an address is never legitimate).
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_NAME = 100
_BAD_LOGIN = "invalid email or password"


def normalize_email(email: str) -> str:
    """Trim and lower-case; raise InvalidInputError unless it looks like an email address."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise InvalidInputError("email must be a valid email address")
    return cleaned


def load_or_create_secret(data_dir: Path) -> str:
    """The embedded mode's JWT secret: generated once, kept in the data dir with mode 0600."""
    path = data_dir / "jwt_secret"
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(0o600)
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise ConfigurationError(f"{path} holds a secret shorter than 32 bytes") from None
        return secret
    except OSError as exc:
        raise ConfigurationError(f"cannot create {path}: {exc}") from exc
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
        f.flush()
        os.fsync(f.fileno())
    return secret


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: a user id (or a guest id), a display name, and the public link token the
    request presented, if any (it grants the public role of that document only)."""

    user_id: str
    name: str
    guest: bool = False
    link: str | None = None


def default_name() -> str:
    """The display name of an account registered without one: never made from the address
    (other people see names; only owners and editors see addresses)."""
    return f"User {secrets.token_hex(3)}"


def validate_name(name: str) -> str:
    """A display name as shown to others: trimmed, at most ``MAX_NAME`` characters, no control
    or invisible characters, not an e-mail address."""
    display = name.strip()
    if not display:
        raise InvalidInputError("name must not be empty")
    if len(display) > MAX_NAME:
        raise InvalidInputError(f"name must be at most {MAX_NAME} characters")
    if _CONTROL.search(display):
        raise InvalidInputError("name must not contain control characters")
    if _EMAIL.match(display.lower()):
        raise InvalidInputError(
            "name must not be an e-mail address: other people see your name, not your address"
        )
    return refuse_invisible(display, "name")


class AuthService:
    def __init__(self, store: DocumentStore, settings: Settings, secret: str) -> None:
        self._store = store
        self._settings = settings
        self._secret = secret
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._hash_slots = asyncio.Semaphore(settings.max_concurrent_hashes)
        self._dummy_hash: str | None = None

    # --- passwords -------------------------------------------------------------------------------

    async def _hash(self, password: str) -> str:
        async with self._hash_slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        async with self._hash_slots:
            return await asyncio.to_thread(check)

    async def register(self, email: str, password: str, name: str | None) -> tuple[User, TokenPair]:
        email = normalize_email(email)
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(f"password must be at least {MIN_PASSWORD} characters")
        if len(password) > MAX_PASSWORD:
            raise InvalidInputError(f"password must be at most {MAX_PASSWORD} characters")
        display = validate_name(name) if name and name.strip() else default_name()
        user = await self._store.register_user(email, display, await self._hash(password))
        return user, self.issue(user.id)

    async def rename(self, user_id: str, name: str) -> User:
        """Change the caller's display name (``PATCH /auth/me``)."""
        user = await self._store.set_user_name(user_id, validate_name(name))
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        return user

    async def login(self, email: str, password: str) -> tuple[User, TokenPair]:
        try:
            email = normalize_email(email)
        except InvalidInputError:
            email = ""
        user = await self._store.get_user_by_email(email) if email else None
        if user is None or user.password_hash is None or len(password) > MAX_PASSWORD:
            if self._dummy_hash is None:
                self._dummy_hash = await self._hash(secrets.token_hex(16))
            await self._verify(self._dummy_hash, password[:MAX_PASSWORD])
            raise UnauthorizedError(_BAD_LOGIN)
        if not await self._verify(user.password_hash, password):
            raise UnauthorizedError(_BAD_LOGIN)
        return user, self.issue(user.id)

    async def refresh(self, refresh_token: str) -> TokenPair:
        claims = self.decode(refresh_token, "refresh")
        if await self._store.is_token_revoked(str(claims.get("jti", ""))):
            raise UnauthorizedError("this session was signed out; sign in again")
        user = await self._store.get_user(claims["sub"])
        if user is None or user.pending:
            raise UnauthorizedError("the account no longer exists")
        return self.issue(user.id)

    async def logout(self, refresh_token: str | None) -> None:
        """Revoke a refresh token (if it is a valid one) so it cannot be used again."""
        if not refresh_token:
            return
        try:
            claims = self.decode(refresh_token, "refresh")
        except UnauthorizedError:
            return  # expired or foreign: nothing to revoke
        if "jti" in claims:
            expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
            await self._store.revoke_token(str(claims["jti"]), expires)

    # --- tokens ----------------------------------------------------------------------------------

    def _token(self, user_id: str, typ: TokenType, ttl: int) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "typ": typ,
            "iat": now,
            "exp": now + ttl,
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def issue(self, user_id: str) -> TokenPair:
        return TokenPair(
            access_token=self._token(user_id, "access", self._settings.access_token_ttl),
            refresh_token=self._token(user_id, "refresh", self._settings.refresh_token_ttl),
        )

    def decode(self, token: str, typ: TokenType) -> dict[str, Any]:
        """Verify a token of the given type; raise UnauthorizedError with a clear reason."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "typ"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("the token has expired") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("the token is invalid") from None
        if claims.get("typ") != typ:
            raise UnauthorizedError(f"a {typ} token is required")
        if not isinstance(claims.get("sub"), str):
            raise UnauthorizedError("the token is invalid")
        return claims

    async def authenticate(self, access_token: str) -> User:
        """The registered user an access token belongs to."""
        claims = self.decode(access_token, "access")
        user = await self._store.get_user(claims["sub"])
        if user is None or user.pending:
            raise UnauthorizedError("the account no longer exists")
        return user
