"""The events of one process (events/__init__.py): the open sockets, the hub and its listener,
started by the server's lifespan (`start` after the pool and the policy) and closed with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

import asyncpg

from core import metrics
from core.clock import SYSTEM_CLOCK, Clock
from core.settings import Settings
from events.hub import Hub
from events.listener import Listener
from events.notices import CHANNELS, PROBE_CHANNEL
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
        self.pool = pool
        # The start-up probe's outcome (None: not probed, no LISTEN connection by then).
        self.heard_probe: bool | None = None
        self._probes: dict[str, asyncio.Future[None]] = {}
        self.read_audit = ReadAudit(pool, timeout_s=settings.connect_timeout_s)

    async def start(self, dsn: str) -> None:
        """Starts the hub and the LISTEN connection; waits for it at most CONNECT_TIMEOUT_S (it
        keeps trying in the background: serving HTTP does not wait for events), then probes it."""
        self.hub.start()
        self.listener = Listener(
            dsn,
            CHANNELS,
            self._deliver,
            on_gap=self.hub.gap,
            backoff_max_s=self.settings.events_reconnect_max_s,
            statement_cache_size=self.settings.statement_cache_size,
        )
        self.listener.start()
        try:
            await asyncio.wait_for(self.listener.connected.wait(), self.settings.connect_timeout_s)
        except TimeoutError:
            log.warning("events: no LISTEN connection yet; subscriptions hear nothing until it comes")
            return
        self.heard_probe = await self.probe()
        metrics.observe_events_probe(self.heard_probe)
        if not self.heard_probe:
            log.warning(
                "events: the LISTEN connection did not hear this process's own NOTIFY within %.1f s: subscriptions "
                "will hear nothing. Through a PgBouncer in transaction mode LISTEN hears nothing; point "
                "LISTEN_DATABASE_URL at PostgreSQL or at a session-mode pool (docs/events.md)",
                self.settings.events_probe_timeout_s,
            )

    async def probe(self) -> bool:
        """A NOTIFY sent through the request pool (where writes commit theirs) reaches this
        process's listener within EVENTS_PROBE_TIMEOUT_S; False also when it cannot be sent."""
        token = secrets.token_hex(8)
        heard = asyncio.get_running_loop().create_future()
        self._probes[token] = heard
        try:
            await self.pool().execute("select pg_notify($1, $2)", PROBE_CHANNEL, token)
            await asyncio.wait_for(heard, self.settings.events_probe_timeout_s)
            return True
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.debug("events: probe not heard (%s)", type(exc).__name__)
            return False
        finally:
            self._probes.pop(token, None)

    def _deliver(self, channel: str, payload: str) -> None:
        if channel != PROBE_CHANNEL:
            self.hub.deliver(channel, payload)
            return
        heard = self._probes.get(payload)
        if heard is not None and not heard.done():
            heard.set_result(None)

    async def close(self) -> None:
        for socket in self.sockets.matching(lambda s: True):
            with contextlib.suppress(Exception):
                await socket.shut(1001, "The server is shutting down")
        if self.listener is not None:
            await self.listener.close()
        await self.hub.close()
