"""Skip or fail: what a test does when something it needs (a service, a browser, a tool) is missing.

Locally a missing prerequisite skips the test with the reason, so a partial setup still runs the
rest. When the ``CI`` environment variable is set every prerequisite must be installed, and a
missing one is a failure: a suite that silently skips is not a green one.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``; fail it instead when ``CI`` is set."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: a missing prerequisite is a failure)", pytrace=False)
    pytest.skip(reason)
