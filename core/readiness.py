"""GET /readyz: does the database answer `select 1` within a second?

Asked on a connection of its own, kept open between checks, never one of the pool's: a pool
busy with users' requests is not a database that is down, and a readiness check queued behind
them made /readyz flap (and a load balancer take a healthy worker out). One check at a time; a
connection that failed or timed out is dropped and opened again by the next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

log = logging.getLogger("boothgraph.server")


class ReadinessProbe:
    def __init__(self, dsn: str, *, timeout_s: float, statement_cache_size: int = 100) -> None:
        self.dsn = dsn
        self.statement_cache_size = statement_cache_size  # 0 through a transaction-mode PgBouncer
        self.timeout_s = timeout_s
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def ready(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout_s), self._lock:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(
                        self.dsn,
                        timeout=self.timeout_s,
                        statement_cache_size=self.statement_cache_size,
                        server_settings={"application_name": "boothgraph-readyz"},
                    )
                await self._conn.fetchval("select 1")
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            log.warning("readiness check failed: %s", type(exc).__name__)
            self._drop()
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), self.timeout_s)
