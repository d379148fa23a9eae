"""The web UI suite (Chromium): bundle size, opening a 100k-character document, keystroke latency.

It lives with the browser tests (tests/browser/bench.py), which own the Chromium harness.
"""

from tests.browser.bench import run

__all__ = ["run"]
