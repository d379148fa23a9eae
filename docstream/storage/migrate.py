"""Discovering the SQL migrations shipped with DocStream.

Migrations are plain SQL files named ``NNNN_description.sql`` under ``migrations/<dialect>/``. In a
wheel or a PyInstaller bundle they live inside the package (``docstream/migrations``); in a source
checkout at the repository root. Each backend applies the ones it has not recorded in its
``schema_migrations`` table, each in its own transaction, and refuses to start if an applied file
was
changed afterwards (its checksum is recorded).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from docstream.errors import ConfigurationError, StorageError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_root() -> Path:
    """The folder holding one sub-folder of migrations per dialect."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if candidate.is_dir():
            return candidate
    raise ConfigurationError(
        f"DocStream's SQL migrations are missing (looked in {package / 'migrations'} and "
        f"{package.parent / 'migrations'}); the installation is incomplete"
    )


def discover(dialect: str) -> list[Migration]:
    folder = migrations_root() / dialect
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ConfigurationError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ConfigurationError(f"two {dialect} migrations share a version number")
    if not found:
        raise ConfigurationError(f"no {dialect} migrations found in {folder}")
    return found


def pending(available: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """The migrations still to apply, after checking the applied ones were not edited."""
    for migration in available:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise StorageError(
                f"migration {migration.name} was changed after it was applied; "
                "restore the original file or write a new migration"
            )
    known = {m.version for m in available}
    unknown = sorted(set(applied) - known)
    if unknown:
        raise StorageError(
            f"the database has migrations this DocStream does not know ({unknown}); "
            "it was upgraded by a newer version"
        )
    return [m for m in available if m.version not in applied]
