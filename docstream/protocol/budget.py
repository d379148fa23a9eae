"""One connection's flood control, without a clock: the caller says what time it is.

Two token buckets, messages per second and bytes per second, each with a burst. A frame over
either budget is refused and counts a strike; a frame within both forgives one. ``flooding`` tells
when the strikes call for closing the connection (4429). The time is passed in (rather than read
from a clock) so that the server session that owns the budget stays free of I/O and its tests can
step time by hand.
"""

from __future__ import annotations


class _Bucket:
    """A token bucket of ``rate`` per second holding at most ``burst``."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), now

    def take(self, amount: float, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= amount:
            self.tokens -= amount
            return True
        return False


class FrameBudget:
    """Messages and bytes a connection may send, refilled over time; strikes for each refusal."""

    def __init__(
        self,
        *,
        messages_per_second: float,
        message_burst: int,
        bytes_per_second: float,
        byte_burst: int,
        max_strikes: int,
        now: float,
    ) -> None:
        self._messages = _Bucket(messages_per_second, message_burst, now)
        self._bytes = _Bucket(bytes_per_second, byte_burst, now)
        self.max_strikes = max_strikes
        self.strikes = 0

    def take(self, size: int, now: float) -> bool:
        """Spend one message of ``size`` bytes; False if over budget (nothing is spent then)."""
        if self._bytes.take(size, now):
            if self._messages.take(1, now):
                self.strikes = max(0, self.strikes - 1)
                return True
            self._bytes.tokens += size  # refused: give the bytes back
        self.strikes += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.strikes >= self.max_strikes
