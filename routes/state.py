"""What the lifespan opens (`AppState`, `app.state.boothgraph`) and how an endpoint finds it and
the request's viewer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import asyncpg
from starlette.requests import Request

from core.clock import SYSTEM_CLOCK, Clock
from core.connections import ConnectionGate
from core.errors import DatabaseUnavailable, Unauthenticated
from core.export_slots import ExportSlots
from core.policy_store import fetch_published
from core.ratelimit import RateLimiter
from core.readiness import ReadinessProbe
from core.replicas import ReadRouter
from core.settings import Settings
from core.viewer import Viewer
from events.service import Events
from policies import PolicyEngine
from resolvers.unit_keys import UnitKeys

log = logging.getLogger("boothgraph.server")


@dataclass
class AppState:
    """What the lifespan opens; `app.state.boothgraph`."""

    settings: Settings
    secret: str
    pool: asyncpg.Pool | None = None
    policy: PolicyEngine | None = None
    unit_keys: UnitKeys = field(default_factory=UnitKeys)
    readiness: ReadinessProbe | None = None
    # Reads on standbys (READ_DATABASE_URL, core/replicas.py); None: everything on the primary.
    replicas: ReadRouter | None = None
    # "Now" for elections and poll hours (core/clock.py): the machine's, or a test's FixedClock.
    clock: Clock = SYSTEM_CLOCK
    # Subscriptions' sockets, hub and LISTEN connection (events/service.py); None until started.
    events: Events | None = None
    # The request path's limits (core/connections.py, core/export_slots.py, core/ratelimit.py).
    connections: ConnectionGate = field(init=False)
    exports: ExportSlots = field(init=False)
    limiter: RateLimiter = field(init=False)
    _policy_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _bad_policy: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        settings = self.settings
        self.connections = ConnectionGate(
            self.require_pool, timeout_s=settings.connect_timeout_s, share=settings.pool_share
        )
        self.exports = ExportSlots(
            concurrency=settings.export_concurrency,
            per_user=settings.exports_per_user,
            wait_s=settings.connect_timeout_s,
        )
        self.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)

    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise DatabaseUnavailable("The server is not connected to its database yet")
        return self.pool

    async def sync_published_policy(self) -> None:
        """Run the policy published through the database (core/policy_store.py), or the files
        when it was withdrawn. One fetch at a time; a published policy that does not load is
        logged once and the current one kept."""
        policy = self.require_policy()
        async with self._policy_lock:
            conn = await self.connections.take(None)
            try:
                published = await fetch_published(conn)
            finally:
                await self.connections.give(None, conn)
            version = None if published is None else published.version
            if version == policy.published_version or (version is not None and version == self._bad_policy):
                return
            try:
                if published is None:
                    policy.use_published(None)
                else:
                    policy.use_published(published.version, published.model, published.rules)
            except Exception:
                log.exception("published policy %s does not load; keeping the current one", version)
                self._bad_policy = version

    def require_events(self) -> Events:
        if self.events is None:
            raise DatabaseUnavailable("The server is not ready yet")
        return self.events

    async def policy_for(self, viewer: Viewer) -> PolicyEngine:
        """The policy a request of `viewer` runs under, the same for every endpoint (/graphql,
        /import, /export, printouts, /auth/*, a websocket's connection_init): the one published
        through the database from the first request that reads a new version with its viewer
        (every node), else this process's files, looked at most every POLICY_FILE_CHECK_S."""
        policy = self.require_policy()
        version = viewer.policy_version
        if version != policy.published_version and (version is None or version != self._bad_policy):
            await self.sync_published_policy()
        else:
            # Two stat calls at most that often, not on every request (docs/scaling.md).
            policy.reload_if_stale(self.settings.policy_file_check_s)
        return policy

    def require_policy(self) -> PolicyEngine:
        if self.policy is None:
            raise DatabaseUnavailable("The server is not ready yet")
        return self.policy


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.boothgraph
    return state


def request_viewer(request: Request) -> Viewer:
    """The viewer the viewer middleware read from the database for this request (it runs before
    every route that is not public)."""
    viewer = getattr(request.state, "viewer", None)
    if viewer is None:
        raise Unauthenticated("Authorization: Bearer <token> is required")
    return viewer
