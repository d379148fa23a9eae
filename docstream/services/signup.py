"""Who may create an account on this server: the sign-up policy.

The setting (``--signup-policy``, ``DOCSTREAM_SIGNUP_POLICY``; by default ``open`` on loopback,
``invite-only`` on the network) is the start; an administrator may override it on the admin page,
and the override is kept in the store (``server_settings``) so every worker and node applies the
same policy. The page wins over the setting until it is reset there. Each process reads the
override at most once per ``CACHE_SECONDS``; a change made here is seen here at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, cast

from docstream.errors import InvalidInputError
from docstream.settings import SIGNUP_POLICIES, Settings
from docstream.storage.base import DocumentStore

Policy = Literal["open", "invite-only", "closed"]
KEY = "signup_policy"
#: How long a process trusts the override it last read (another node's change takes this long).
CACHE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class PolicyState:
    """The policy in force, what the setting says, and whether the admin page overrides it."""

    policy: Policy
    configured: Policy
    overridden: bool


def as_policy(value: str) -> Policy:
    if value not in SIGNUP_POLICIES:
        raise InvalidInputError(f"the sign-up policy must be one of {', '.join(SIGNUP_POLICIES)}")
    return cast(Policy, value)


class SignupPolicy:
    """The sign-up policy in force (see the module docstring)."""

    def __init__(self, store: DocumentStore, settings: Settings) -> None:
        self._store = store
        self._configured = as_policy(settings.default_signup_policy)
        self._cached: tuple[float, str | None] | None = None

    async def _override(self) -> str | None:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        value = await self._store.get_server_setting(KEY)
        self._cached = (now, value)
        return value

    async def state(self) -> PolicyState:
        override = await self._override()
        policy = self._configured
        if override in SIGNUP_POLICIES:
            policy = cast(Policy, override)
        return PolicyState(policy, self._configured, override in SIGNUP_POLICIES)

    async def current(self) -> Policy:
        return (await self.state()).policy

    async def set(self, policy: str | None) -> PolicyState:
        """Override the setting (``None``: back to the setting)."""
        value = None if policy is None else as_policy(policy)
        await self._store.set_server_setting(KEY, value)
        self._cached = (time.monotonic(), value)
        return await self.state()
