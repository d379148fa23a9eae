"""The packaging suite (issue 8): bundle sizes, cold start, desktop window start.

It lives with the packaging tests (tests/packaging/bench.py), which own the bundle builder and the
virtual screen.
"""

from tests.packaging.bench import run

__all__ = ["run"]
