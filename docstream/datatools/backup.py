"""Backups: a copy of a store into a single SQLite file, and its restore.

A backup file **is** a DocStream SQLite database (the schema of ``migrations/sqlite``, every
migration of the DocStream that wrote it applied), plus one table ``docstream_backup`` of
key/value metadata: ``format``, ``docstream_version``, ``source_dialect``, ``created_at`` and
``counts`` (rows per table, JSON). So a backup can be opened as an embedded store
(``docstream serve --database-url sqlite:///path``), inspected with ``sqlite3``, or restored into
either backend. A SQLite store is backed up by SQLite's page copy (:mod:`.pages`), PostgreSQL by
the row copier. It is written to ``FILE.partial-<pid>`` and renamed to ``FILE`` only when
complete: an interrupted backup leaves nothing that looks like one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from docstream import __version__
from docstream.datatools.copier import CopyResult, Progress, copy_store
from docstream.datatools.endpoints import Endpoint, SqliteFile
from docstream.datatools.sides import Source, SqliteSource, Target
from docstream.errors import ConfigurationError, StorageError
from docstream.storage.records import utcnow

FORMAT = "1"


def backup(source: Endpoint, file: Path, progress: Progress | None = None) -> CopyResult:
    """Write a backup of ``source`` to ``file`` (which must not exist)."""
    if file.exists():
        raise ConfigurationError(f"{file} already exists; give the backup a new name")
    if not file.parent.is_dir():
        raise ConfigurationError(f"the folder {file.parent} does not exist")
    created = utcnow().isoformat()

    def metadata(result: CopyResult) -> dict[str, str]:
        return {
            "format": FORMAT,
            "docstream_version": __version__,
            "source_dialect": result.source_dialect,
            "created_at": created,
            "counts": json.dumps(result.counts, sort_keys=True),
        }

    if isinstance(source, SqliteFile):
        from docstream.datatools.copier import NoProgress
        from docstream.datatools.pages import page_backup

        return page_backup(source.path, file, progress or NoProgress(), metadata)
    return copy_store(source, SqliteFile(file), progress=progress, metadata=metadata)


def _check_backup(source: Source) -> None:
    meta = source.metadata() if isinstance(source, SqliteSource) else {}
    if not meta:
        raise ConfigurationError(
            "this file is not a DocStream backup (no docstream_backup table); to copy a store "
            "use `docstream copy`"
        )
    if meta.get("format") != FORMAT:
        raise ConfigurationError(
            f"this backup has format {meta.get('format')!r}; this DocStream reads format {FORMAT}"
        )


def restore(
    file: Path,
    target: Endpoint,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    announce: Callable[[Target], None] | None = None,
) -> CopyResult:
    """Restore the backup ``file`` into ``target`` (empty, unless ``replace``)."""
    if not file.is_file():
        raise ConfigurationError(f"there is no backup file {file}")
    return copy_store(
        SqliteFile(file),
        target,
        replace=replace,
        progress=progress,
        check_source=_check_backup,
        announce=announce,
        verify=_check_counts,
    )


def _check_counts(result: CopyResult, source: Source) -> None:
    """The rows read must be the rows the backup says it holds (else it was altered or damaged;
    nothing is committed)."""
    meta = source.metadata() if isinstance(source, SqliteSource) else {}
    expected = json.loads(meta.get("counts", "{}"))
    if expected != result.counts:
        raise StorageError(
            f"the backup holds {result.counts} rows per table but says it holds {expected}; it "
            "was altered or damaged, nothing was restored"
        )
