"""Entry point for ASGI servers: ``granian --interface asgi --factory docstream.web.asgi:app``.

The settings are read from the environment when the factory is *called* (in each worker), never at
import time; ``docstream serve`` passes its flags to the workers through ``DOCSTREAM_*`` variables.
"""

from __future__ import annotations

import os

from litestar import Litestar

from docstream.settings import Settings
from docstream.web.app import create_app


def app() -> Litestar:
    # A worker process exists to serve this one app: its startup heap is frozen (see create_app).
    return create_app(Settings.from_env(os.environ), freeze_heap=True)
