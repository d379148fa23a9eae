"""Where a copy reads from and writes to: a SQLite file (or a data dir holding one) or PostgreSQL.

``parse_endpoint`` reads what the CLI's ``--from`` / ``--to`` accept; ``from_settings`` names the
store ``docstream serve`` would use with the same flags and environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from docstream.settings import Settings


@dataclass(frozen=True, slots=True)
class SqliteFile:
    path: Path

    def __str__(self) -> str:
        return f"SQLite {self.path}"


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    dsn: str

    def __str__(self) -> str:
        # user:password@host: the password is not for the terminal or the logs.
        return "PostgreSQL " + re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", self.dsn)


Endpoint = SqliteFile | PostgresUrl


def parse_endpoint(text: str) -> Endpoint:
    """``postgresql://...`` / ``postgres://...``, ``sqlite:///path``, a data dir (its
    ``docstream.sqlite3``) or a SQLite file."""
    if text.startswith(("postgres://", "postgresql://")):
        return PostgresUrl(text)
    if text.startswith("sqlite:///"):
        return SqliteFile(Path(text.removeprefix("sqlite:///")))
    path = Path(text).expanduser()
    if path.is_dir():
        return SqliteFile(Settings(data_dir=path).sqlite_path)
    return SqliteFile(path)


def from_settings(settings: Settings) -> Endpoint:
    if settings.uses_postgres:
        assert settings.database_url is not None
        return PostgresUrl(settings.database_url)
    return SqliteFile(settings.sqlite_path)
