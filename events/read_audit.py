"""The read audit of delivered events, committed in groups. A payload that shows a phone in clear
is audited before it is sent (like an HTTP request's reads, server.record_reads); one event may go
to a thousand sockets at once, and a statement per delivery would take the pool's connections
from everyone. So deliveries waiting for their audit share one INSERT: the first waiter writes
what is pending, the ones that arrive meanwhile go in the next statement (group commit). Entries
of one statement are merged per user, action, booth and API key, records = distinct voters, as a
request's are."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg

from core.errors import DatabaseUnavailable
from resolvers import audit
from resolvers.redaction import ReadLog

Key = tuple[str, str, str, str | None]  # user id, action, booth code, detail (the API key)


class ReadAudit:
    def __init__(self, pool: Callable[[], asyncpg.Pool], *, timeout_s: float) -> None:
        self.pool = pool
        self.timeout_s = timeout_s
        self._pending: dict[Key, set[int]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self.statements = 0  # for tests: how many INSERTs the deliveries took

    async def record(self, user_id: str, read_log: ReadLog, *, key_prefix: str | None = None) -> None:
        """Returns once the entries are committed; raises DatabaseUnavailable when they could
        not be (the payload must then not be sent)."""
        if not read_log.voters:
            return
        detail = audit.detail_json(apiKey=key_prefix) if key_prefix else None
        for (action, code), voters in read_log.voters.items():
            self._pending.setdefault((user_id, action, code, detail), set()).update(voters)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(done)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._waiters:
            pending, waiters = self._pending, self._waiters
            self._pending, self._waiters = {}, []
            rows = [
                (user, action, code, len(voters), detail) for (user, action, code, detail), voters in pending.items()
            ]
            try:
                async with self.pool().acquire(timeout=self.timeout_s) as conn, conn.transaction():
                    await audit.record_for_users(conn, rows)
                self.statements += 1
            except Exception as exc:  # noqa: BLE001  (each waiter gets it: its payload is not sent)
                error = (
                    exc
                    if isinstance(exc, DatabaseUnavailable)
                    else DatabaseUnavailable("The read audit could not be written; try again shortly")
                )
                for w in waiters:
                    if not w.done():
                        w.set_exception(error)
                continue
            for w in waiters:
                if not w.done():
                    w.set_result(None)
