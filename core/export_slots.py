"""How many CSV exports stream at once: EXPORT_CONCURRENCY in the worker, EXPORTS_PER_USER per
user. An export holds a pooled connection (and a read-only transaction) for as long as it
streams; without a bound, ten exports whose readers never read held all ten connections and
every other request answered 503.

A user over their own limit gets 429 RATE_LIMITED at once; a free slot of the worker is waited
for up to `wait_s` (CONNECT_TIMEOUT_S), then 503 SERVICE_UNAVAILABLE. Both with Retry-After.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.errors import DatabaseUnavailable, RateLimited


class ExportSlots:
    def __init__(self, *, concurrency: int, per_user: int, wait_s: float) -> None:
        self.per_user = per_user
        self.wait_s = wait_s
        self._worker = asyncio.Semaphore(concurrency)
        self._streaming: dict[str, int] = {}  # user id -> exports taken (streaming or waiting)

    def streaming(self, user_id: str) -> int:
        return self._streaming.get(user_id, 0)

    @asynccontextmanager
    async def slot(self, user_id: str) -> AsyncIterator[None]:
        if self.streaming(user_id) >= self.per_user:
            raise RateLimited(f"At most {self.per_user} export(s) of yours may run at once; retry when one ends")
        self._streaming[user_id] = self.streaming(user_id) + 1
        try:
            try:
                async with asyncio.timeout(self.wait_s):
                    await self._worker.acquire()
            except TimeoutError:
                raise DatabaseUnavailable("Too many exports are running; try again shortly") from None
            try:
                yield
            finally:
                self._worker.release()
        finally:
            left = self.streaming(user_id) - 1
            if left > 0:
                self._streaming[user_id] = left
            else:
                self._streaming.pop(user_id, None)
