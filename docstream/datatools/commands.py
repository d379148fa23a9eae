"""The data commands of the CLI: ``backup``, ``restore``, ``copy``, ``import`` and ``export``.

Each returns the process exit code and prints one line per outcome; ``docstream.cli`` parses the
arguments and turns DocStream errors into messages. Ctrl+C is safe: the copier writes its target
all or nothing, so an interrupted command leaves it as it was (exit code 130).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from docstream.datatools.copier import CopyResult
from docstream.datatools.endpoints import from_settings, parse_endpoint
from docstream.datatools.progress import TableProgress
from docstream.datatools.sides import Target
from docstream.errors import ConfigurationError, DocStreamError
from docstream.settings import Settings
from docstream.storage.base import DocumentStore


def _summary(verb: str, result: CopyResult, started: float) -> None:
    seconds = time.monotonic() - started
    tables = ", ".join(f"{n} {name}" for name, n in result.counts.items() if n) or "no rows"
    print(f"docstream: {verb} {result.rows} rows in {seconds:.1f} s ({tables})")


def _announce(target: Target) -> None:
    if target.wiped:
        listed = ", ".join(f"{n} {name}" for name, n in target.wiped.items())
        print(f"docstream: --replace: wiping what the target holds ({listed})", flush=True)


def backup(settings: Settings, file: Path) -> int:
    from docstream.datatools.backup import backup as run

    started = time.monotonic()
    source = from_settings(settings)
    with TableProgress() as progress:
        result = run(source, file, progress)
    _summary(f"backed up {source} to {file}:", result, started)
    return 0


def restore(settings: Settings, file: Path, replace: bool) -> int:
    from docstream.datatools.backup import restore as run

    started = time.monotonic()
    target = from_settings(settings)
    with TableProgress() as progress:
        result = run(file, target, replace=replace, progress=progress, announce=_announce)
    meta = result.source_metadata
    made = f" (a backup of {meta.get('source_dialect')} made {meta.get('created_at')})"
    _summary(f"restored {file}{made} into {target}:", result, started)
    return 0


def copy(source: str, target: str, replace: bool) -> int:
    from docstream.datatools.copier import copy_store

    started = time.monotonic()
    src, dst = parse_endpoint(source), parse_endpoint(target)
    with TableProgress() as progress:
        result = copy_store(src, dst, replace=replace, progress=progress, announce=_announce)
    _summary(f"copied {src} to {dst}:", result, started)
    return 0


def interrupted() -> int:
    print("docstream: interrupted; the target was left as it was", file=sys.stderr)
    return 130


def _files(paths: list[Path]) -> list[Path]:
    """The files named, and the .txt/.md files under the folders named (sorted)."""
    from docstream.datatools.textimport import SUFFIXES

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            )
        else:
            found.append(path)
    return found


def import_files(store: DocumentStore, settings: Settings, paths: list[Path], owner: str) -> int:
    """Import the files; one line per file; exit 1 when any was skipped (the others are in)."""
    from docstream.datatools.textimport import Limits, import_file

    async def run() -> int:
        skipped = 0
        async with store:
            await store.migrate()
            user = await store.get_user_by_email(owner.strip().lower())
            if user is None or user.pending:
                raise ConfigurationError(f"there is no account with the e-mail {owner}")
            limits = Limits(settings.max_document_chars, settings.max_documents_per_user)
            for path in _files(paths):
                try:
                    data = path.read_bytes()
                    doc = await import_file(store, user.id, path.name, data, limits)
                except OSError as exc:
                    skipped += 1
                    print(f"skipped {path}: cannot read it ({exc.strerror})", flush=True)
                except DocStreamError as exc:
                    skipped += 1
                    print(f"skipped {path}: {exc.detail}", flush=True)
                else:
                    print(f"imported {path} as “{doc.title}” ({doc.id})", flush=True)
        if skipped:
            print(f"docstream: {skipped} file(s) skipped", file=sys.stderr)
        return 1 if skipped else 0

    return asyncio.run(run())


def export_all(
    store: DocumentStore, settings: Settings, directory: Path, owner: str | None, fmt: str = "md"
) -> int:
    from docstream.datatools.textexport import export_all as run_export

    async def run() -> int:
        async with store:
            await store.migrate()
            done = await run_export(store, directory, owner, fmt)
        for item in done:
            print(f"exported {item.doc_id} to {item.path}")
        print(f"docstream: exported {len(done)} document(s) to {directory}")
        return 0

    return asyncio.run(run())
