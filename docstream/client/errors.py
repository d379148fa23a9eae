"""The error a REST call of the Python client raises (kept apart so both transports can use it)."""

from __future__ import annotations


class ApiError(Exception):
    """A REST error reply (docs/protocol.md §7)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
