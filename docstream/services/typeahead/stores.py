"""Where a node keeps its typeahead files, and how the services open them.

**Slots.** The worker processes of one node (``docstream serve --workers N``) share one data dir,
but a :class:`~docstream.typeahead.durable.DurableTrie` locks its files, so each process needs its
own copy. A service claims the lowest free *slot* ``<data_dir>/typeahead/<kind>-<n>`` by taking an
exclusive lock on ``<kind>-<n>.lock`` beside it, held until the service closes (the OS drops it
when the process dies). With one worker the slot is always ``<kind>-0``. Every copy is kept in step
by the cluster events (more than one worker requires Redis) and by reconciling with the database.

**Damaged files.** What the typeahead stores is either derived from the database (titles,
collaborator names) or a ranking hint (mention frequencies), so a store whose files cannot be
trusted (:class:`~docstream.errors.PersistenceError` on open) is moved aside as
``<file>.damaged-<unix time>``, logged as an error, and started empty; the service then rebuilds it
from the database. A store in a *newer* format (:class:`~docstream.errors.UnsupportedFormatError`)
is left alone and the error raised: a downgrade must not destroy what the newer build wrote.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from docstream.errors import PersistenceError, UnsupportedFormatError
from docstream.settings import Settings
from docstream.typeahead.durable import DurableTrie
from docstream.typeahead.fileio import PRIVATE_DIR, lock_exclusively, open_private

log = logging.getLogger(__name__)

#: The most worker processes of one node that can hold a slot of the same kind.
MAX_SLOTS = 64
#: The files of a store named ``name`` (see :mod:`docstream.typeahead.durable`).
STORE_SUFFIXES = (".wal", ".snapshot", ".snapshot.tmp")


class StoreOpener(Protocol):
    """``DurableTrie.open``'s signature; tests pass a wrapper that fails or stalls on purpose."""

    def __call__(
        self,
        directory: Path | str,
        *,
        max_words: int,
        name: str = ...,
        snapshot_writes: int = ...,
        snapshot_interval: float = ...,
        clock: Callable[[], float] = ...,
    ) -> DurableTrie: ...


def typeahead_directory(settings: Settings) -> Path:
    """Where the typeahead files of this node live."""
    return settings.data_dir / "typeahead"


class Slot:
    """A claimed directory for one process; :meth:`release` gives it back."""

    def __init__(self, directory: Path, fd: int) -> None:
        self.directory = directory
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def claim_slot(base: Path, kind: str) -> Slot:
    """Lock and return the lowest free ``base/<kind>-<n>`` directory (created if missing).

    Raises:
        PersistenceError: ``base`` cannot be created, or every slot is taken.
    """
    try:
        base.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError as exc:
        raise PersistenceError(f"cannot create the typeahead directory {base}: {exc}") from exc
    for n in range(MAX_SLOTS):
        lock_path = base / f"{kind}-{n}.lock"
        try:
            fd = open_private(lock_path, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            raise PersistenceError(f"cannot open {lock_path}: {exc}") from exc
        if not lock_exclusively(fd):
            os.close(fd)
            continue
        directory = base / f"{kind}-{n}"
        try:
            directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        except OSError as exc:
            os.close(fd)
            raise PersistenceError(f"cannot create {directory}: {exc}") from exc
        return Slot(directory, fd)
    raise PersistenceError(f"all {MAX_SLOTS} typeahead slots for {kind} under {base} are in use")


def open_store(
    opener: StoreOpener,
    directory: Path,
    name: str,
    *,
    max_words: int,
    snapshot_writes: int,
    snapshot_interval: float,
) -> DurableTrie:
    """Open (recover) a store; set damaged files aside and start it empty (see the module doc).

    Blocking: call it in a worker thread.

    Raises:
        UnsupportedFormatError: the files are of a newer format (left untouched).
        PersistenceError: the store cannot be opened even after setting its files aside.
    """

    def attempt() -> DurableTrie:
        return opener(
            directory,
            max_words=max_words,
            name=name,
            snapshot_writes=snapshot_writes,
            snapshot_interval=snapshot_interval,
        )

    try:
        return attempt()
    except UnsupportedFormatError:
        raise
    except PersistenceError as exc:
        if in_use(directory / f"{name}.wal"):
            raise  # another open store holds it: its files are fine, and not ours to move
        moved = set_aside(directory, name)
        if not moved:
            raise
        log.error(
            "typeahead store %s/%s cannot be trusted (%s); moved %s aside and rebuilding it",
            directory,
            name,
            exc.detail,
            ", ".join(p.name for p in moved),
        )
    return attempt()


def in_use(path: Path) -> bool:
    """Whether another open store holds the lock on the WAL at ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not lock_exclusively(fd)
    finally:
        os.close(fd)  # closing the descriptor drops the lock we may have taken


def set_aside(directory: Path, name: str) -> list[Path]:
    """Rename the store's files to ``*.damaged-<time>``; return the new paths (empty if none)."""
    stamp = int(time.time())
    moved = []
    for suffix in STORE_SUFFIXES:
        path = directory / f"{name}{suffix}"
        if not path.exists():
            continue
        target = path.with_name(f"{path.name}.damaged-{stamp}")
        try:
            path.rename(target)
        except OSError as exc:
            raise PersistenceError(f"cannot move the damaged {path} aside: {exc}") from exc
        moved.append(target)
    return moved


def delete_store(directory: Path, name: str) -> None:
    """Remove a (closed) store's files; missing files are fine, failures are logged."""
    for suffix in STORE_SUFFIXES:
        path = directory / f"{name}{suffix}"
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove %s: %s", path, exc)
