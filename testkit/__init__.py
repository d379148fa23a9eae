"""Helpers shared by the test suite and the benchmarks, owned by neither.

Both drive the same real things: throwaway PostgreSQL and Redis servers, ``docstream serve``
processes on free ports, accounts registered over REST, raw WebSocket peers, simulated typists,
Chromium, the one-file bundles and the editing traces. Keeping them here lets ``tests/`` and
``benchmarks/`` import from one place and never from each other. The package is a development
tool: the wheel ships ``docstream`` only.
"""
