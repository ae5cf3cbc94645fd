"""Per-user token buckets: `rate` requests a second on average, bursts up to `burst`.

The buckets live in the memory of one worker process. With `serve --workers N` each worker
keeps its own buckets, so a user can reach up to N times the configured rate in total; the
limit exists to stop one runaway client from starving the others, not to meter usage exactly.
Buckets of users not seen for a while are dropped, so memory stays bounded (`max_keys`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        # key -> (tokens left, time of the last refill); least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def acquire(self, key: str, count: int = 1) -> float:
        """Take `count` tokens for `key` (one per operation: a batch of N takes N). Returns 0.0
        when allowed, else the seconds to wait; a refused request takes nothing."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= count:
            tokens -= count
        else:
            wait = (min(count, self.burst) - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait
