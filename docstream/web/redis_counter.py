"""The rate limiter's shared counter: one Redis key per client and minute, for every node.

A web concern (the rate limit is the web layer's), built by the app from the Redis connection the
composition root shares.

If Redis fails, counting falls back to this process's own counter (the limit then holds per process
instead of per cluster) and a warning is logged, rather than refusing or failing requests.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from docstream.web.middleware import FixedWindowCounter

log = logging.getLogger(__name__)


class RedisWindowCounter:
    def __init__(self, client: aioredis.Redis, prefix: str = "docstream:ratelimit:") -> None:
        self._client = client
        self._prefix = prefix
        self._fallback = FixedWindowCounter()
        self._warned_at = 0.0

    async def hit(self, key: str, window: int) -> int:
        name = f"{self._prefix}{window}:{key}"
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.incr(name)
            pipe.expire(name, 120)
            count, _ = await pipe.execute()
            return int(count)
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning(
                    "rate limit: Redis unavailable (%s); counting per process", type(exc).__name__
                )
            return await self._fallback.hit(key, window)
