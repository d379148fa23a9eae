"""Several processes opening one new SQLite database at once (``docstream serve --workers N``).

Each worker opens the store and migrates it. Switching a new database to WAL needs it to itself,
and SQLite answers "database is locked" at once rather than through the busy timeout; a worker
that met it died while starting. Real processes, released together, several rounds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

WORKER = """
import asyncio, sys, time
from pathlib import Path
from docstream.storage.sqlite import SqliteDocumentStore

start = Path(sys.argv[2])
while not start.exists():  # imported and ready: wait for the others
    time.sleep(0.001)

async def main() -> None:
    async with SqliteDocumentStore(Path(sys.argv[1])) as store:
        await store.migrate()

asyncio.run(main())
"""


def test_workers_opening_one_new_database_together_all_start(tmp_path: Path) -> None:
    for round_ in range(6):
        db, start = tmp_path / f"docstream-{round_}.sqlite3", tmp_path / f"start-{round_}"
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(db), str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(6)
        ]
        time.sleep(1.5)  # every worker has imported DocStream and waits for the start
        start.touch()
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0, out
