"""DocStream benchmarks: ``make bench`` / ``python -m benchmarks [suite ...]``."""
