"""The settings every test server runs with, as ``Settings`` fields and as environment variables.

Rate limits and connection caps are raised out of the way (they have their own tests, which set
them), argon2 is made cheap so that registering dozens of accounts stays fast (a test checks the
real defaults), and the JWT secret is fixed so that tests can mint and inspect tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from docstream.settings import Settings

#: The database backends every backend-parametrized fixture runs on.
BACKENDS = ["sqlite", "postgres"]
#: The secret of the server processes' tokens (tests that forge tokens sign with it).
JWT_SECRET = "collab-tests-secret-" + "x" * 32
#: A fixed 32+ byte secret for in-process apps on PostgreSQL (which refuses to start without one).
PG_SECRET = "tests-only-jwt-secret-0123456789abcdef-0123456789"

#: Every rate budget and cap out of the way (tests/security/ and the rate-limit tests set them).
UNLIMITED: dict[str, Any] = {
    "rate_limit_per_minute": 1_000_000,
    "auth_rate_limit_per_minute": 1_000_000,
    "auth_rate_limit_per_account": 1_000_000,
    "ws_handshakes_per_minute": 1_000_000,
    "typeahead_rate_limit_per_minute": 1_000_000,
    "ws_max_sockets_per_user": 100_000,
    "ws_max_sockets_per_address": 100_000,
}
#: The cheapest argon2 cost Settings accepts, for in-process apps.
FAST_ARGON2: dict[str, Any] = {
    "argon2_memory_kib": 1024,
    "argon2_time_cost": 1,
    "argon2_parallelism": 1,
}


def env_of(fields: dict[str, Any]) -> dict[str, str]:
    """``Settings`` fields as the ``DOCSTREAM_*`` environment variables a server process reads."""
    return {f"DOCSTREAM_{name.upper()}": str(value) for name, value in fields.items()}


#: The environment of every ``docstream serve`` a test starts (tests add to it).
BASE_ENV: dict[str, str] = {
    **env_of(UNLIMITED),
    "DOCSTREAM_JWT_SECRET": JWT_SECRET,
    "DOCSTREAM_ARGON2_MEMORY_KIB": "19456",
}

#: ``make_settings(**overrides)``: the fixture that builds a test's validated Settings.
SettingsFactory = Callable[..., Settings]
