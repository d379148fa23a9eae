"""Run the benchmark suites and print one table.

Usage: ``python -m benchmarks [suite ...] [--quick]``. Each suite is a module in this package with a
``run(quick: bool) -> list[Row]`` function.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from benchmarks.report import Row, print_table

SUITES = [
    "crdt",
    "typeahead",
    "suggest_http",
    "search_http",
    "collab",
    "cluster",
    "large_document",
    "idle_sockets",
    "ui",
    "packaging",
    "datatools",
    "storage",
    "soak",
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("suites", nargs="*", default=SUITES, help=f"any of {SUITES}")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller inputs")
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.suites:
        if name not in SUITES:
            parser.error(f"unknown suite {name!r}; choose from {SUITES}")
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name} ==", file=sys.stderr, flush=True)
        rows.extend(module.run(args.quick))
    print_table(rows)
    return 1 if any(r.met is False for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
