"""A progress bar per table for the data commands (rich), silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class TableProgress:
    """``with TableProgress() as p: copy_store(..., progress=p)``."""

    def __init__(self, *, enabled: bool | None = None) -> None:
        console = Console(stderr=True)
        if enabled is None:
            enabled = console.is_terminal and sys.stderr.isatty()
        self._bar = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def table(self, name: str, total: int) -> None:
        self._task = self._bar.add_task(name, total=total or None)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, rows)
