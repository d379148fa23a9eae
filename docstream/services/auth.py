"""Accounts, sessions and tokens: argon2id password hashing and HS256 JWTs.

Hashing runs in worker threads, at most ``max_concurrent_hashes`` at a time, so a burst of logins
can neither block the event loop nor exhaust memory (each argon2id hash holds
``argon2_memory_kib``). An unknown email and a wrong password take the same path (a dummy hash is
verified) and produce the same error. Access and refresh tokens are told apart by the ``typ`` claim;
the algorithm is pinned.

Every sign-in starts a *session* (a row in the store; its id is the tokens' ``sid`` claim). A
refresh token works once: refreshing swaps it for a new one, and presenting an already swapped
one (a stolen copy, or the legitimate owner after a thief refreshed first) signs the whole session
out. Signing out revokes the session, which ends its access tokens too: every authenticated request
checks that its session is alive, through a small cache trusted for ``session_cache_seconds`` (an
indexed lookup at most once a second per session), and revocations are pushed to the cache and to
live sockets at once (the ``SessionsRevoked`` event to the node's extensions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import stat
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from docstream.collab.extensions import Extensions, SessionsRevoked
from docstream.errors import (
    ConfigurationError,
    ForbiddenError,
    InvalidInputError,
    UnauthorizedError,
)
from docstream.services.identity import (
    MAX_NAME,
    TokenPair,
    Verified,
    default_name,
    normalize_email,
    validate_name,
)
from docstream.services.signup import SignupPolicy
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, User
from docstream.storage.records import NO_PASSWORD

log = logging.getLogger(__name__)
TokenType = Literal["access", "refresh"]
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_BAD_LOGIN = "invalid email or password"
DISABLED = "this account is disabled; ask an administrator"
INVITE_ONLY = "sign-up on this server is by invitation only; ask an administrator"
CLOSED = "sign-up on this server is closed; ask an administrator for an account"


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


class AuthService:
    """Accounts, sessions and tokens; a sign-out is told to ``extensions`` (``SessionsRevoked``)."""

    def __init__(
        self,
        store: DocumentStore,
        settings: Settings,
        secret: str,
        *,
        extensions: Extensions | None = None,
        signup: SignupPolicy | None = None,
    ) -> None:
        self._store = store
        #: Who may create an account (``check_signup``).
        self.signup = signup if signup is not None else SignupPolicy(store, settings)
        self._extensions = extensions if extensions is not None else Extensions()
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
        #: session id -> monotonic time it was last seen alive in the store.
        self._alive: dict[str, float] = {}
        #: sessions known to be signed out (bounded; the store stays the truth).
        self._dead: dict[str, None] = {}

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

    def _passwords_allowed(self) -> None:
        if self._settings.sso_only:
            raise ForbiddenError(
                "this server signs in with single sign-on only: passwords are not used"
            )

    async def create_sso_account(self, email: str, name: str | None) -> User:
        """Create (or register an invited address as) an account that signs in by single sign-on
        only: it has no password (``NO_PASSWORD`` never verifies), which the store keeps apart
        from an invited user (no password hash at all)."""
        email = normalize_email(email)
        await self.check_signup(email)
        display = default_name()
        if name and name.strip():
            # A provider's name we would refuse from a person: the neutral one instead.
            with contextlib.suppress(InvalidInputError):
                display = validate_name(name[:MAX_NAME])
        return await self.create_account(email, display, None)

    async def register(self, email: str, password: str, name: str | None) -> tuple[User, TokenPair]:
        self._passwords_allowed()
        email = normalize_email(email)
        _check_password(password)
        display = validate_name(name) if name and name.strip() else default_name()
        await self.check_signup(email)
        user = await self.create_account(email, display, password)
        return user, await self.start_session(user.id)

    async def check_signup(self, email: str) -> None:
        """Raise ForbiddenError unless the sign-up policy lets ``email`` (normalised) create an
        account: every path that creates one calls this first. The very first account of a
        server without an administrator is always allowed (it becomes the administrator)."""
        policy = await self.signup.current()
        if policy == "open" or await self._store.count_admins() == 0:
            return
        if policy == "invite-only" and await self._store.signup_invited(email):
            return
        raise ForbiddenError(INVITE_ONLY if policy == "invite-only" else CLOSED)

    async def create_account(
        self, email: str, name: str, password: str | None, *, admin: bool = False
    ) -> User:
        """Create an account (after ``check_signup``; the CLI skips it): its server invitation
        is used up, and it becomes the administrator if the server has none (``admin``: it
        becomes one either way). ``password`` None: none at all (single sign-on; the
        ``NO_PASSWORD`` marker never verifies)."""
        if password is None:
            password_hash = NO_PASSWORD
        else:
            _check_password(password)
            password_hash = await self._hash(password)
        user = await self._store.register_user(email, name, password_hash)
        await self._store.use_server_invitations(email)
        if admin:
            promoted = await self._store.set_admin(user.id, True)
            user = promoted or user
        elif await self._store.claim_first_admin(user.id):
            log.info("%s is the first account: it administers this server", user.email)
            user = (await self._store.get_user(user.id)) or user
        return user

    async def rename(self, user_id: str, name: str) -> User:
        """Change the caller's display name (``PATCH /auth/me``)."""
        user = await self._store.set_user_name(user_id, validate_name(name))
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        return user

    async def login(self, email: str, password: str) -> tuple[User, TokenPair]:
        self._passwords_allowed()
        try:
            email = normalize_email(email)
        except InvalidInputError:
            email = ""
        user = await self._store.get_user_by_email(email) if email else None
        if (
            user is None
            or user.password_hash is None
            or user.password_hash == NO_PASSWORD  # single sign-on only: no password verifies
            or len(password) > MAX_PASSWORD
        ):
            if self._dummy_hash is None:
                self._dummy_hash = await self._hash(secrets.token_hex(16))
            await self._verify(self._dummy_hash, password[:MAX_PASSWORD])
            raise UnauthorizedError(_BAD_LOGIN)
        if not await self._verify(user.password_hash, password):
            raise UnauthorizedError(_BAD_LOGIN)
        if user.disabled:
            raise ForbiddenError(DISABLED)
        return user, await self.start_session(user.id)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Swap a refresh token for new tokens of the same session (the old one is used up)."""
        claims = self.decode(refresh_token, "refresh")
        sid, jti = _session_of(claims), str(claims.get("jti", ""))
        new_jti = uuid.uuid4().hex
        expires = datetime.fromtimestamp(time.time() + self._settings.refresh_token_ttl, UTC)
        outcome = await self._store.rotate_session(sid, jti, new_jti, expires)
        if outcome == "reused":
            log.warning("refresh token reuse in session %s: the session is signed out", sid)
            await self._revoked([sid])
            raise UnauthorizedError(
                "this refresh token was already used; the session is signed out for safety, "
                "sign in again"
            )
        if outcome != "rotated":
            raise UnauthorizedError("this session was signed out; sign in again")
        user = await self._store.get_user(claims["sub"])
        if user is None or user.pending:
            raise UnauthorizedError("the account no longer exists")
        if user.disabled:
            raise UnauthorizedError(DISABLED)
        self._alive[sid] = time.monotonic()
        return self._pair(user.id, sid, new_jti)

    async def logout(self, *tokens: str | None) -> None:
        """Sign out the session of the first valid token given (refresh or access token).

        An expired token still names its session (its signature is checked); a foreign or
        malformed one is ignored.
        """
        for token in tokens:
            if not token:
                continue
            try:
                claims = jwt.decode(
                    token,
                    self._secret,
                    algorithms=["HS256"],
                    audience=self._settings.jwt_audience,
                    issuer=self._settings.jwt_issuer,
                    options={"verify_exp": False, "require": ["sub", "sid"]},
                )
            except jwt.PyJWTError:
                continue
            if isinstance(claims.get("sub"), str) and isinstance(claims.get("sid"), str):
                revoked = await self._store.revoke_sessions(claims["sub"], only=claims["sid"])
                await self._revoked(revoked or [claims["sid"]])
                return

    async def logout_all(self, user_id: str) -> None:
        """Sign out every session of the user (every device)."""
        await self._revoked(await self._store.revoke_sessions(user_id))

    async def check_password(self, user: User, password: str) -> bool:
        """Whether ``password`` is the user's (for actions that ask for it again)."""
        if user.password_hash is None or len(password) > MAX_PASSWORD:
            return False
        return await self._verify(user.password_hash, password)

    async def change_password(
        self, verified: Verified, current: str, new: str
    ) -> tuple[User, TokenPair]:
        """Check the current password, set the new one and sign out every session, the caller's
        included; the caller continues in a new session (the returned tokens)."""
        self._passwords_allowed()
        user = verified.user
        if user.password_hash == NO_PASSWORD:
            raise ForbiddenError("this account signs in with single sign-on: it has no password")
        if user.password_hash is None or not await self._verify(user.password_hash, current):
            raise ForbiddenError("the current password is wrong")
        _check_password(new)
        await self._store.set_password(user.id, await self._hash(new))
        await self._revoked(await self._store.revoke_sessions(user.id))
        tokens = await self.start_session(user.id)
        fresh = await self._store.get_user(user.id)
        return fresh or user, tokens

    async def new_password_hash(self, password: str) -> str:
        """Check a new password against the rules and hash it (a reset by link sets it)."""
        _check_password(password)
        return await self._hash(password)

    # --- sessions --------------------------------------------------------------------------------

    async def start_session(self, user_id: str) -> TokenPair:
        sid, jti = str(uuid.uuid4()), uuid.uuid4().hex
        expires = datetime.fromtimestamp(time.time() + self._settings.refresh_token_ttl, UTC)
        await self._store.create_session(sid, user_id, jti, expires)
        self._alive[sid] = time.monotonic()
        return self._pair(user_id, sid, jti)

    async def _revoked(self, session_ids: list[str]) -> None:
        if not session_ids:
            return
        self.forget(session_ids)
        # Close their sockets, tell the other nodes (an extension's failure is only logged: it
        # must not undo a committed sign-out).
        await self._extensions.emit(SessionsRevoked(tuple(session_ids)))

    def forget(self, session_ids: Sequence[str]) -> None:
        """These sessions are signed out (told by this node or another one)."""
        for sid in session_ids:
            self._alive.pop(sid, None)
            self._dead[sid] = None
        while len(self._dead) > 100_000:
            del self._dead[next(iter(self._dead))]

    def known_signed_out(self, session_id: str) -> bool:
        """Whether this node has heard that the session was signed out (no lookup)."""
        return session_id in self._dead

    async def session_alive(self, session_id: str) -> bool:
        """Whether a session is signed in, trusting the last look for ``session_cache_seconds``."""
        if session_id in self._dead:
            return False
        seen = self._alive.get(session_id)
        now = time.monotonic()
        if seen is not None and now - seen < self._settings.session_cache_seconds:
            return True
        if await self._store.dead_sessions([session_id]):
            self.forget([session_id])
            return False
        if len(self._alive) > 100_000:
            self._alive.clear()
        self._alive[session_id] = now
        return True

    # --- tokens ----------------------------------------------------------------------------------

    def _token(self, user_id: str, typ: TokenType, ttl: int, sid: str, jti: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "sid": sid,
            "typ": typ,
            "iat": now,
            "exp": now + ttl,
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "jti": jti,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def _pair(self, user_id: str, sid: str, refresh_jti: str) -> TokenPair:
        return TokenPair(
            access_token=self._token(
                user_id, "access", self._settings.access_token_ttl, sid, uuid.uuid4().hex
            ),
            refresh_token=self._token(
                user_id, "refresh", self._settings.refresh_token_ttl, sid, refresh_jti
            ),
            session_id=sid,
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

    async def verify(self, access_token: str) -> Verified:
        """Check an access token, its session (still signed in?) and its user."""
        claims = self.decode(access_token, "access")
        sid = _session_of(claims)
        if not await self.session_alive(sid):
            raise UnauthorizedError("this session was signed out; sign in again")
        user = await self._store.get_user(claims["sub"])
        if user is None or user.pending:
            raise UnauthorizedError("the account no longer exists")
        if user.disabled:
            raise UnauthorizedError(DISABLED)
        return Verified(user=user, session_id=sid, expires_at=float(claims["exp"]))

    async def authenticate(self, access_token: str) -> User:
        """The registered user an access token belongs to."""
        return (await self.verify(access_token)).user


def _session_of(claims: dict[str, Any]) -> str:
    sid = claims.get("sid")
    if not isinstance(sid, str) or not sid:
        # Tokens from before sessions existed cannot be signed out: refuse them.
        raise UnauthorizedError("this token is from an older version; sign in again")
    return sid


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInputError(f"password must be at most {MAX_PASSWORD} characters")
