"""Peer servers measured in the same run as DocStream (see benchmarks/collab.py)."""
