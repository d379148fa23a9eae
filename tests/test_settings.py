"""Settings: environment parsing, seed names, validation, and docs that match the code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from docstream.errors import ConfigurationError
from docstream.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    documented = DOCS.read_text()
    missing = [f.name for f in dataclasses.fields(Settings) if f"| `{f.name}` |" not in documented]
    assert missing == []


def test_environment_variables_and_seed_names() -> None:
    s = Settings.from_env(
        {
            "DOCSTREAM_PORT": "9001",
            "REDIS_URL": "redis://r:6379/0",
            "DOCSTREAM_WORKERS": "3",
            "ALLOWED_ORIGIN": "https://a.example, https://b.example",
            "DOCSTREAM_SNAPSHOT_MIN_INTERVAL": "0.5",
        }
    )
    assert s.port == 9001 and s.workers == 3 and s.redis_url == "redis://r:6379/0"
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert s.snapshot_min_interval == 0.5


def test_docstream_variables_win_over_seed_names_and_flags_win_over_both() -> None:
    env = {"DATABASE_URL": "sqlite:///one.db", "DOCSTREAM_DATABASE_URL": "sqlite:///two.db"}
    assert Settings.from_env(env).database_url == "sqlite:///two.db"
    assert Settings.from_env(env, database_url="sqlite:///three.db").database_url == (
        "sqlite:///three.db"
    )
    assert Settings.from_env(env, database_url=None).database_url == "sqlite:///two.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DOCSTREAM_PORT": "eighty"}, "port"),
        ({"DOCSTREAM_PORT": "70000"}, "port"),
        ({"DOCSTREAM_WORKERS": "2"}, "Redis"),
        ({"DATABASE_URL": "mysql://x"}, "postgresql://"),
        ({"DATABASE_URL": "postgresql://db/x"}, "JWT_SECRET"),
        ({"DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "short"}, "32 bytes"),
        ({"DOCSTREAM_SNAPSHOT_EVERY": "0"}, "snapshot_every"),
        ({"DOCSTREAM_WS_MAX_SOCKETS_PER_USER": "0"}, "ws_max_sockets_per_user"),
        ({"DOCSTREAM_SEND_QUEUE_BYTES": "0"}, "send_queue_bytes"),
        ({"DOCSTREAM_WS_BYTE_BURST": "1000"}, "ws_byte_burst"),
        ({"DOCSTREAM_REPLICA_RETENTION_DAYS": "0"}, "replica_retention_days"),
        (
            {"DOCSTREAM_OIDC_ISSUER": "http://id.example.com", "DOCSTREAM_OIDC_CLIENT_ID": "c"},
            "https://",
        ),
        ({"DOCSTREAM_OIDC_ISSUER": "https://id.example.com"}, "oidc_client_id"),
        (
            {
                "DOCSTREAM_OIDC_ISSUER": "https://id.example.com?x=1",
                "DOCSTREAM_OIDC_CLIENT_ID": "c",
            },
            "plain URL",
        ),
        (
            {
                "DOCSTREAM_OIDC_ISSUER": "https://id.example.com",
                "DOCSTREAM_OIDC_CLIENT_ID": "c",
                "DOCSTREAM_OIDC_SCOPES": "email",
            },
            "openid",
        ),
        ({"DOCSTREAM_SSO_ONLY": "true"}, "oidc_issuer"),
        ({"DOCSTREAM_AUDIT_RETENTION_DAYS": "-1"}, "audit_retention_days"),
        ({"DOCSTREAM_AUDIT_PURGE_INTERVAL": "0"}, "audit_purge_interval"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env(env)
    assert message in refused.value.detail


def test_single_sign_on_settings() -> None:
    s = Settings.from_env(
        {
            "DOCSTREAM_OIDC_ISSUER": "https://id.example.com/realms/team",
            "DOCSTREAM_OIDC_CLIENT_ID": "docstream",
            "DOCSTREAM_OIDC_SCOPES": "openid,email",
            "DOCSTREAM_SSO_ONLY": "yes",
        }
    )
    assert s.oidc_scopes == ("openid", "email") and s.sso_only and s.oidc_name == "single sign-on"
    # Plain http only for a provider on this machine (tests, development).
    for issuer in ("http://127.0.0.1:9400", "http://localhost:9400", "http://[::1]:9400"):
        assert Settings(oidc_issuer=issuer, oidc_client_id="c").validated().oidc_issuer == issuer
