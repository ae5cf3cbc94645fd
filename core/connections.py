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
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from core.errors import DatabaseUnavailable, QueryTooComplex

BUSY_MESSAGE = "The database is busy; try again shortly"
SHARE_MESSAGE = "Too many of your requests are using the database at once; try again shortly"


class UserSlots:
    """`share` slots per user id: a count of the slots each user holds, and a FIFO of the takers
    waiting for one (both dropped when empty). A slot given back while someone waits is handed
    straight to the first live waiter, so the count stays at `share` while anyone waits, and a
    taker finding fewer taken never has anyone to queue behind.

    Not an asyncio.Semaphore per user under asyncio.timeout: a load of one user's concurrent
    requests (the bench's, or a flood) waits here on most statements, and the Timeout context
    and the semaphore's wake-up loop around each wait cost more than one future and one timer
    handle (bench/README.md, "Q4 and Q5 after the trust work")."""

    def __init__(self, share: int) -> None:
        if share < 1:
            raise ValueError("share must be >= 1")
        self.share = share
        self._held: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    async def take(self, user_id: str, timeout_s: float, *, message: str) -> None:
        """One of `user_id`'s slots, or DatabaseUnavailable(message) after `timeout_s`. Give it
        back with `give`, exactly once."""
        held = self._held.get(user_id, 0)
        if held < self.share:  # a free slot: taken without suspending
            self._held[user_id] = held + 1
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        queue = self._waiting.setdefault(user_id, deque())
        queue.append(waiter)
        timer = loop.call_later(timeout_s, _expire, waiter)
        try:
            await waiter  # resolved by `give` with the slot it gives back
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.give(user_id)  # handed a slot, then cancelled before running: pass it on
            else:
                self._forget(user_id, waiter)
            if isinstance(exc, TimeoutError):
                raise DatabaseUnavailable(message) from None
            raise
        finally:
            timer.cancel()

    def give(self, user_id: str) -> None:
        queue = self._waiting.get(user_id)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to this waiter: the count stays
                if not queue:
                    del self._waiting[user_id]
                return
        self._waiting.pop(user_id, None)
        held = self._held[user_id] - 1
        if held:
            self._held[user_id] = held
        else:
            del self._held[user_id]

    def _forget(self, user_id: str, waiter: asyncio.Future[None]) -> None:
        queue = self._waiting.get(user_id)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(waiter)
            if not queue:
                del self._waiting[user_id]

    def held(self, user_id: str) -> int:
        """Slots of `user_id` taken right now (for tests and diagnostics)."""
        return self._held.get(user_id, 0)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class ConnectionGate:
    def __init__(self, pool: Callable[[], asyncpg.Pool], *, timeout_s: float, share: int) -> None:
        self.pool = pool
        self.timeout_s = timeout_s
        self.users = UserSlots(share)

    async def take(self, user_id: str | None) -> asyncpg.Connection:
        """A pooled connection for `user_id` (None: the server's own work, no share), or
        DatabaseUnavailable within `timeout_s`. Give it back with `give`, exactly once.
        (Plain methods rather than nested context managers: this runs several times a request.)"""
        if user_id is None:
            return await self._connection(self.timeout_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        await self.users.take(user_id, self.timeout_s, message=SHARE_MESSAGE)
        try:
            return await self._connection(max(0.0, deadline - loop.time()))
        except BaseException:
            self.users.give(user_id)
            raise

    async def give(self, user_id: str | None, conn: asyncpg.Connection) -> None:
        try:
            await self.pool().release(conn)
        finally:
            if user_id is not None:
                self.users.give(user_id)

    @asynccontextmanager
    async def acquire(self, user_id: str | None) -> AsyncIterator[asyncpg.Connection]:
        conn = await self.take(user_id)
        try:
            yield conn
        finally:
            await self.give(user_id, conn)

    async def _connection(self, timeout_s: float) -> asyncpg.Connection:
        pool = self.pool()
        try:
            # An idle connection is handed over without waiting; asyncpg's timeout wraps every
            # acquire in a wait_for, which is only worth its cost when there is a wait.
            return await (pool.acquire() if pool.get_idle_size() > 0 else pool.acquire(timeout=timeout_s))
        except TimeoutError:
            raise DatabaseUnavailable(BUSY_MESSAGE) from None


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

    async def _one(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        """One statement on a connection taken and given back around it (no context managers)."""
        self._count()
        gate, user_id = self.gate, self.user_id
        conn = await gate.take(user_id)
        try:
            return await getattr(conn, method)(query, *args)
        finally:
            await gate.give(user_id, conn)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self._one("fetch", query, args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self._one("fetchrow", query, args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._one("fetchval", query, args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self._one("execute", query, args)
