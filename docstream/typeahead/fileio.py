"""The few file-system calls the typeahead persistence relies on for durability.

``sync_file`` flushes a file's data and size to the device (``fdatasync`` on Linux,
``F_FULLFSYNC`` on macOS, where plain ``fsync`` stops at the drive cache). ``sync_directory``
makes a rename or a new file name durable; platforms that cannot open a directory (Windows)
skip it. Files are created 0600 and directories 0700 (``open_private``, ``PRIVATE_DIR``): they
hold document titles and collaborators' names, which are nobody else's business on the machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:  # POSIX only; Windows runs without the cross-process lock.
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]


#: Modes of what the typeahead creates (see docstream/datadir.py).
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def open_private(path: str | Path, flags: int) -> int:
    """``os.open`` that creates a missing file with mode 0600 (usable as an ``opener=``)."""
    return os.open(path, flags, PRIVATE_FILE)


def sync_file(fd: int) -> None:
    """Flush the data (and size) of an open file to stable storage."""
    if sys.platform == "darwin" and fcntl is not None:  # pragma: no cover - macOS only
        fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
    elif hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # pragma: no cover
        os.fsync(fd)


def sync_directory(directory: Path) -> None:
    """Make the directory's entries (created, renamed files) durable."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_exclusively(fd: int) -> bool:
    """Take a non-blocking exclusive lock on an open file; False if someone else holds it.

    The lock belongs to the open file description: a second open of the same file in this process
    conflicts too, and the OS releases it when the file is closed or the process dies.
    """
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
