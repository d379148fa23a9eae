"""The data dir is private: its directories are 0700 and DocStream's files in it 0600.

The data dir holds the SQLite database (every document, every account's password hash), the
embedded JWT secret (whoever reads it can sign in as anyone), the desktop profile's password and
the typeahead files (titles and collaborators' names). On a shared machine none of it is for other
local users, so:

- every file DocStream creates is created with mode 0600 (``os.open(..., 0o600)``, whatever the
  umask), every directory with 0700; SQLite creates ``-wal`` and ``-shm`` with the database file's
  own mode, so creating the database file 0600 first covers them;
- on start, :func:`secure` tightens what an older version left looser: the data dir itself, the
  files DocStream keeps at its top level (:data:`TOP_LEVEL_FILES`) and everything under its own
  sub-folders (:data:`OWN_FOLDERS`), plus the SQLite files when the database lives elsewhere
  (``sqlite:///path``). Only DocStream's own files are touched (a data dir pointed at a folder that
  holds other things keeps those as they were), symbolic links are never followed, and files of
  another user are left alone with a warning.

POSIX modes only: on Windows the user's profile folder is already private, and ``chmod`` there
only toggles the read-only flag, so nothing is changed.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path

from docstream.errors import ConfigurationError
from docstream.settings import Settings

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
#: Files DocStream keeps directly in the data dir (the SQLite names with every suffix).
TOP_LEVEL_FILES = (
    "docstream.sqlite3",
    "jwt_secret",
    "desktop.lock",
    "desktop.json",
    "desktop.tmp",
    "desktop-profile.json",
    "desktop-profile.tmp",
)
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")
#: Sub-folders that are DocStream's alone: typeahead journals, the remote window's web storage.
OWN_FOLDERS = ("typeahead", "webview")

_POSIX = sys.platform != "win32"


def open_private(path: str | Path, flags: int) -> int:
    """``os.open`` creating a missing file with mode 0600 (usable as an ``opener=``)."""
    return os.open(path, flags, PRIVATE_FILE)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700, or tighten it if it exists."""
    try:
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the directory {path}: {exc}") from exc
    _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    """Make sure ``path`` exists with mode 0600 (created empty if missing, never truncated)."""
    try:
        os.close(open_private(path, os.O_WRONLY | os.O_CREAT))
    except OSError as exc:
        raise ConfigurationError(f"cannot create {path}: {exc}") from exc
    _tighten(path, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    """Remove the group and other bits of one file or directory (never through a symlink)."""
    if not _POSIX:
        return
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        log.warning("%s belongs to another user; leaving its mode as it is", path)
        return
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode, follow_symlinks=False)
    except NotImplementedError:  # no lchmod (Linux): lstat said it is not a link
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except OSError as exc:
        log.warning("cannot tighten the mode of %s: %s", path, exc)


def _tighten_tree(root: Path) -> None:
    if not root.is_dir() or root.is_symlink():
        return
    _tighten(root, PRIVATE_DIR)
    for folder, dirs, files in os.walk(root):  # os.walk does not follow symlinks by default
        base = Path(folder)
        for name in dirs:
            _tighten(base / name, PRIVATE_DIR)
        for name in files:
            _tighten(base / name, PRIVATE_FILE)


def secure(settings: Settings) -> None:
    """Create the data dir 0700 and tighten DocStream's files in it (see the module docstring)."""
    data_dir = private_dir(settings.data_dir)
    for name in TOP_LEVEL_FILES:
        for suffix in SQLITE_SUFFIXES if name.endswith(".sqlite3") else ("",):
            _tighten(data_dir / f"{name}{suffix}", PRIVATE_FILE)
    for folder in OWN_FOLDERS:
        _tighten_tree(data_dir / folder)
    if not settings.uses_postgres:
        for suffix in SQLITE_SUFFIXES:
            path = settings.sqlite_path
            _tighten(path.with_name(path.name + suffix), PRIVATE_FILE)
