"""Who is calling, and what an account's e-mail address and display name may be.

The types every layer passes around (``Identity``, ``Verified``, ``TokenPair``) and the rules for
addresses and names live here, apart from :mod:`docstream.services.auth` (hashing, sessions,
tokens), so a route or a service that only needs to know *who* does not import how sign-in works.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

from docstream.errors import InvalidInputError
from docstream.services.visible import refuse_invisible
from docstream.storage.base import User
from docstream.storage.records import NO_PASSWORD

# No whitespace and no control characters (PostgreSQL refuses NUL in text; a newline or escape
# in an address is never legitimate).
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 100


def normalize_email(email: str) -> str:
    """Trim and lower-case; raise InvalidInputError unless it looks like an email address."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise InvalidInputError("email must be a valid email address")
    return cleaned


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    session_id: str = ""


@dataclass(frozen=True, slots=True)
class Verified:
    """A checked access token: its user, its session and when it expires (epoch seconds).

    A personal API token (``docstream.services.api_tokens``) is checked into one too: ``scope``
    is then its scope (``read``: no changes) and ``token_id`` its id; it has no session."""

    user: User
    session_id: str
    expires_at: float
    scope: Literal["session", "read", "read-write"] = "session"
    token_id: str | None = None

    @property
    def api_token(self) -> bool:
        """Whether the caller presented a personal API token (not a signed-in session)."""
        return self.token_id is not None


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


def has_password(user: User) -> bool:
    """Whether the account can sign in with a password (not one made by single sign-on, nor an
    invited address that has not registered)."""
    return user.password_hash is not None and user.password_hash != NO_PASSWORD
