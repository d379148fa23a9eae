"""Fixtures of the REST tests: an app per backend (SQLite in a temp dir, a throwaway PostgreSQL).

Every test that uses ``make_settings`` or ``client`` runs once per backend. Tests use a cheap argon2
cost (through Settings fields) so that registering dozens of accounts stays fast;
``test_auth.py::test_default_argon2_parameters_are_owasp_minimum`` checks the real defaults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.settings import Settings
from docstream.web.app import create_app

#: A fixed 32+ byte secret for PostgreSQL (which refuses to start without one).
PG_SECRET = "tests-only-jwt-secret-0123456789abcdef-0123456789"
FAST_ARGON2: dict[str, Any] = {
    "argon2_memory_kib": 1024,
    "argon2_time_cost": 1,
    "argon2_parallelism": 1,
}

SettingsFactory = Callable[..., Settings]
#: Every rate budget and cap out of the way (tests/security/ and test_rate_limit.py set them).
UNLIMITED: dict[str, Any] = {
    "rate_limit_per_minute": 1_000_000,
    "auth_rate_limit_per_minute": 1_000_000,
    "auth_rate_limit_per_account": 1_000_000,
    "ws_handshakes_per_minute": 1_000_000,
    "typeahead_rate_limit_per_minute": 1_000_000,
    "ws_max_sockets_per_user": 100_000,
    "ws_max_sockets_per_address": 100_000,
}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_settings(backend: str, data_dir: Path, request: pytest.FixtureRequest) -> SettingsFactory:
    """``make_settings(**overrides)``: settings for this test's backend (one database per test)."""
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "log_level": "warning",
        # The limiters have their own tests; the others make more than 100 requests a minute.
        **UNLIMITED,
        **FAST_ARGON2,
    }
    if backend == "postgres":
        base["database_url"] = request.getfixturevalue("pg_dsn")
        base["jwt_secret"] = PG_SECRET

    def make(**overrides: Any) -> Settings:
        return Settings(**{**base, **overrides}).validated()

    return make


@pytest.fixture
def app(make_settings: SettingsFactory) -> Litestar:
    return create_app(make_settings())


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as test_client:
        yield test_client
