"""The one LISTEN connection of a process: its own asyncpg connection to the primary, outside the
request pool (a pooled connection would be handed to requests, and a subscriber count of them
would empty the pool). It hands every notification to `deliver(channel, payload)` in the order
PostgreSQL sent them.

A lost connection (primary restarted, failover, network) is noticed by asyncpg's termination
callback or by a `select 1` every `check_s`; the listener then reconnects with exponential
backoff (0.1 s doubling up to `backoff_max_s`) and calls `on_gap()`: notifications sent while
it was away are gone (NOTIFY is not stored), which the hub tells subscribers about as it can
(docs/events.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import asyncpg

log = logging.getLogger("boothgraph.events")

FIRST_BACKOFF_S = 0.1
CHECK_S = 10.0
CONNECT_TIMEOUT_S = 10.0  # a connect that hangs (a black-holed host) is retried, not waited on for a minute


class Listener:
    def __init__(
        self,
        dsn: str,
        channels: Sequence[str],
        deliver: Callable[[str, str], None],
        *,
        on_gap: Callable[[], None] = lambda: None,
        backoff_max_s: float = 30.0,
        check_s: float = CHECK_S,
        statement_cache_size: int = 0,
    ) -> None:
        self.dsn = dsn
        self.channels = tuple(channels)
        self.deliver = deliver
        self.on_gap = on_gap
        self.backoff_max_s = backoff_max_s
        self.check_s = check_s
        self.statement_cache_size = statement_cache_size
        self.connected = asyncio.Event()
        self.connections_made = 0  # for tests and /metrics-style checks: 2 or more = reconnected
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        # close() sets it as well as cancelling: a cancellation can be swallowed on its way
        # through asyncpg's connect or wait_for (seen: a lifespan shutdown waiting forever on a
        # listener retrying an unreachable database), and the loop must end all the same.
        self._stop = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-listener")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None and not self._conn.is_closed():
            self._conn.terminate()

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self.deliver(channel, payload)

    async def _run(self) -> None:
        backoff = FIRST_BACKOFF_S
        while not self._stop.is_set():
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(
                    self.dsn, statement_cache_size=self.statement_cache_size, timeout=CONNECT_TIMEOUT_S
                )
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                log.warning("events: cannot LISTEN (%s); trying again in %.1f s", type(exc).__name__, backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
                continue
            self._conn = conn
            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())  # type: ignore[misc]
                for channel in self.channels:
                    await conn.add_listener(channel, self._on_notify)
                self.connections_made += 1
                if self.connections_made > 1:
                    log.info("events: LISTEN connection back")
                    self.on_gap()
                self.connected.set()
                backoff = FIRST_BACKOFF_S
                while not lost.is_set() and not self._stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.check_s)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("select 1"), self.check_s)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("events: LISTEN connection lost (%s)", type(exc).__name__)
            finally:
                self.connected.clear()
                if not conn.is_closed():
                    conn.terminate()
            await self._pause(backoff)
            backoff = min(backoff * 2, self.backoff_max_s)

    async def _pause(self, seconds: float) -> None:
        """Sleep before trying again, cut short by close()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
