"""At most one run of `fire(key)` per key every `interval_s`: a burst of turnout marks in one
second gives one turnoutChanged per election and unit (TURNOUT_EVENT_INTERVAL_S). The first poke
after a quiet interval fires at once; pokes inside the interval fold into one run at its end, so
the last change is never lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable


class Throttle:
    def __init__(self, interval_s: float, fire: Callable[[Hashable], Awaitable[None]]) -> None:
        self.interval_s = interval_s
        self.fire = fire
        self._last: dict[Hashable, float] = {}
        self._pending: set[Hashable] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def poke(self, key: Hashable) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        delay = max(0.0, self._last.get(key, float("-inf")) + self.interval_s - time.monotonic())
        task = asyncio.create_task(self._later(key, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, key: Hashable, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        self._pending.discard(key)
        self._last[key] = time.monotonic()
        await self.fire(key)

    def forget(self, key: Hashable) -> None:
        """No subscriber left for `key`: drop its clock (the memory stays bounded by subscribers)."""
        if key not in self._pending:
            self._last.pop(key, None)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
