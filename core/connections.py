"""Every wait for a pooled connection, bounded, and no user holding more than their share.

`ConnectionGate` (one per worker) is the only way the request path takes a connection from the
asyncpg pool: the user first takes one of their `share` slots (USER_POOL_SHARE, by default half
the pool rounded up), then a connection, both within `timeout_s` (CONNECT_TIMEOUT_S). Past that,
DatabaseUnavailable: 503 SERVICE_UNAVAILABLE with Retry-After, quickly, instead of a request
queued behind another user's flood (pool-level `fetch` acquires without a timeout).

`RequestPool` (one per request, `Context.pool`) offers the few asyncpg.Pool methods the
resolvers use (acquire, fetch, fetchrow, fetchval, execute) through the gate, and counts them:
at most `max_statements` (MAX_STATEMENTS) round trips to the database per HTTP request, the
operations of a batch together; the next one is QUERY_TOO_COMPLEX. With the cost limit
(rows) and the statement timeout (time per statement), that bounds the database work one
request can cause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from core.errors import DatabaseUnavailable, QueryTooComplex

BUSY_MESSAGE = "The database is busy; try again shortly"
SHARE_MESSAGE = "Too many of your requests are using the database at once; try again shortly"


class UserSlots:
    """A semaphore per user id, created on first use and dropped when nobody holds or waits."""

    def __init__(self, share: int) -> None:
        if share < 1:
            raise ValueError("share must be >= 1")
        self.share = share
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, user_id: str, timeout_s: float, *, message: str) -> AsyncIterator[None]:
        semaphore, users = self._slots.get(user_id, (None, 0))
        if semaphore is None:
            semaphore = asyncio.Semaphore(self.share)
        self._slots[user_id] = (semaphore, users + 1)
        try:
            if semaphore.locked():  # only a wait needs a deadline (asyncio.timeout costs ~3% of a request)
                try:
                    async with asyncio.timeout(timeout_s):
                        await semaphore.acquire()
                except TimeoutError:
                    raise DatabaseUnavailable(message) from None
            else:
                await semaphore.acquire()  # a free slot: taken without suspending
            try:
                yield
            finally:
                semaphore.release()
        finally:
            semaphore, users = self._slots[user_id]
            if users <= 1:
                del self._slots[user_id]
            else:
                self._slots[user_id] = (semaphore, users - 1)

    def held(self, user_id: str) -> int:
        """Slots of `user_id` taken right now (for tests and diagnostics)."""
        semaphore, _ = self._slots.get(user_id, (None, 0))
        return 0 if semaphore is None else self.share - semaphore._value


class ConnectionGate:
    def __init__(self, pool: Callable[[], asyncpg.Pool], *, timeout_s: float, share: int) -> None:
        self.pool = pool
        self.timeout_s = timeout_s
        self.users = UserSlots(share)

    @asynccontextmanager
    async def acquire(self, user_id: str | None) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for `user_id` (None: the server's own work, no share), or
        DatabaseUnavailable within `timeout_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        if user_id is None:
            async with self._connection(self.timeout_s) as conn:
                yield conn
            return
        async with self.users.hold(user_id, self.timeout_s, message=SHARE_MESSAGE):
            async with self._connection(max(0.0, deadline - loop.time())) as conn:
                yield conn

    @asynccontextmanager
    async def _connection(self, timeout_s: float) -> AsyncIterator[asyncpg.Connection]:
        pool = self.pool()
        try:
            # An idle connection is handed over without waiting; asyncpg's timeout wraps every
            # acquire in a wait_for, which is only worth its cost when there is a wait.
            conn = await (pool.acquire() if pool.get_idle_size() > 0 else pool.acquire(timeout=timeout_s))
        except TimeoutError:
            raise DatabaseUnavailable(BUSY_MESSAGE) from None
        try:
            yield conn
        finally:
            await pool.release(conn)


class RequestPool:
    """The pool as one request sees it (`Context.pool`): bounded waits, a share, a budget
    (`max_statements`; None: unmetered, for the read audit, which must always be written)."""

    def __init__(self, gate: ConnectionGate, user_id: str, *, max_statements: int | None) -> None:
        self.gate = gate
        self.user_id = user_id
        self.max_statements = max_statements
        self.statements = 0

    def _count(self) -> None:
        self.statements += 1
        if self.max_statements is not None and self.statements > self.max_statements:
            raise QueryTooComplex(
                f"This request asked the database more than {self.max_statements} times; ask for less per request",
                maxStatements=self.max_statements,
            )

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        self._count()
        async with self.gate.acquire(self.user_id) as conn:
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return await conn.execute(query, *args)
