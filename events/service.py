"""The events of one process (events/__init__.py): the open sockets, the hub and its listener,
started by the server's lifespan (`start` after the pool and the policy) and closed with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from core.clock import SYSTEM_CLOCK, Clock
from core.settings import Settings
from events.hub import Hub
from events.listener import Listener
from events.notices import CHANNELS
from events.read_audit import ReadAudit
from events.sockets import Sockets
from policies import PolicyEngine
from resolvers.model_code import local_today

log = logging.getLogger("boothgraph.events")


class Events:
    def __init__(
        self,
        settings: Settings,
        *,
        pool: Callable[[], asyncpg.Pool],
        policy: Callable[[], PolicyEngine],
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.settings = settings
        self.sockets = Sockets(max_total=settings.ws_max_connections, max_per_user=settings.ws_max_connections_per_user)
        self.hub = Hub(
            pool=pool,
            policy=policy,
            sockets=self.sockets,
            turnout_interval_s=settings.turnout_event_interval_s,
            queue_size=settings.events_queue_size,
            today=lambda: local_today(clock, settings),
        )
        self.listener: Listener | None = None
        self.read_audit = ReadAudit(pool, timeout_s=settings.connect_timeout_s)

    async def start(self, dsn: str) -> None:
        """Starts the hub and the LISTEN connection; waits for it at most CONNECT_TIMEOUT_S (it
        keeps trying in the background: serving HTTP does not wait for events)."""
        self.hub.start()
        self.listener = Listener(
            dsn,
            CHANNELS,
            self.hub.deliver,
            on_gap=self.hub.gap,
            backoff_max_s=self.settings.events_reconnect_max_s,
            statement_cache_size=self.settings.statement_cache_size,
        )
        self.listener.start()
        try:
            await asyncio.wait_for(self.listener.connected.wait(), self.settings.connect_timeout_s)
        except TimeoutError:
            log.warning("events: no LISTEN connection yet; subscriptions hear nothing until it comes")

    async def close(self) -> None:
        for socket in self.sockets.matching(lambda s: True):
            with contextlib.suppress(Exception):
                await socket.shut(1001, "The server is shutting down")
        if self.listener is not None:
            await self.listener.close()
        await self.hub.close()
