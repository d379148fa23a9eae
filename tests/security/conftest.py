"""Fixtures of the security tests: the attacks run against what a stranger would reach.

Two tiers, borrowed from the folders that own them: an in-process app per backend
(``client``, ``make_settings``, ``backend``: the REST tests' fixtures) and a real
``docstream serve`` process per backend (``server``, ``start_server``, ``users``,
``server_backend``: the collaboration tests' fixtures), for attacks that go over the network.
"""

from __future__ import annotations

from tests.collab.conftest import (  # noqa: F401 (pytest fixtures)
    server,
    server_backend,
    start_server,
    users,
)
from tests.web.conftest import (  # noqa: F401 (pytest fixtures)
    app,
    backend,
    client,
    data_dir,
    make_settings,
)
