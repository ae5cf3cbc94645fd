"""core.ratelimit: the token bucket per user, with a clock the test moves."""

from __future__ import annotations

import pytest

from core.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)  # empty: one token comes back in 1/rate s
    assert limiter.acquire("b") == 0.0  # buckets are per key
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0
    clock.now += 100
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0  # refills up to the burst, not beyond


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(1.0, 1, max_keys=10, clock=Clock())
    for i in range(100):
        limiter.acquire(f"user-{i}")
    assert len(limiter._buckets) == 10


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
