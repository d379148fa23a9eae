"""create_app options."""

from __future__ import annotations

import gc

from litestar.testing import AsyncTestClient

from docstream.web.app import create_app
from testkit.config import SettingsFactory


async def test_a_serving_process_freezes_its_startup_heap(make_settings: SettingsFactory) -> None:
    """``freeze_heap`` (``docstream serve``'s workers) moves what startup built out of the
    collector's way; the default (tests, embedding) leaves the collector alone."""
    before = gc.get_freeze_count()
    try:
        async with AsyncTestClient(create_app(make_settings())) as client:
            assert (await client.get("/health")).status_code == 200
            assert gc.get_freeze_count() == before
        async with AsyncTestClient(create_app(make_settings(), freeze_heap=True)) as client:
            assert (await client.get("/health")).status_code == 200
            assert gc.get_freeze_count() > before
            assert gc.isenabled()
    finally:
        gc.unfreeze()
