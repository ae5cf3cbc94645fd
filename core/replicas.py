"""Reads on streaming standbys (READ_DATABASE_URL): which database answers a unit of work.

The one place that chooses. A unit of work is a write (mutations, imports, the audit of reads,
the periodic release), the viewer's own rights (middleware/viewer.py), or a read (a GraphQL
request whose operations are all queries). Writes and rights always go to the primary (the
server's pool, DATABASE_URL), so a revoked role stops working at once however far a standby
lags. A read goes to a standby when one is healthy and fresh enough, else to the primary:

- fresh enough: its replay is within REPLICA_MAX_LAG_S of the primary, and, when the request
  carries a consistency token (the commit LSN of the user's own last write, `Consistency-Token`
  on the write's response), it has replayed that LSN, waiting at most READ_YOUR_WRITES_WAIT_MS
  for it; otherwise the primary answers (read-your-writes);
- healthy: its last check answered. A standby that stops answering mid-request is marked down
  and the statement, or the whole read-only operation, runs again on the primary: the client
  never sees a failed request because of a standby.

Lag without clock skew: every REPLICA_CHECK_S the monitor samples the primary's WAL insert
position and each standby's replay position. A standby that has replayed the position the
primary had at time t holds everything committed before t, so its lag is at most now - t for
the latest such sample (zero when it has replayed the newest sample; an idle primary is no lag).

LSNs are integers (asyncpg's pg_lsn codec); the token shows them as PostgreSQL writes them
(`16/B374D848`), followed by an HMAC under the JWT secret, so a client can neither forge a
far-future LSN (that would push all its reads to the primary) nor use another user's.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core import metrics
from core.availability import is_database_unavailable
from core.connections import ConnectionGate, RequestPool
from core.database import asyncpg_dsn, create_pool
from core.errors import DatabaseUnavailable
from core.settings import Settings

log = logging.getLogger("boothgraph.replicas")

TOKEN_HEADER = "consistency-token"
CHECK_TIMEOUT_S = 1.0
_URL_START = re.compile(r",\s*(?=postgres(?:ql)?(?:\+\w+)?://)")


# ------------------------------------------------------------------------- LSNs ---
def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    high, _, low = text.partition("/")
    if not high or not low or len(high) > 8 or len(low) > 8:
        raise ValueError(f"not an LSN: {text!r}")
    return (int(high, 16) << 32) | int(low, 16)


class ConsistencyTokens:
    """`Consistency-Token` values: an LSN and an HMAC binding it to one user."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"boothgraph consistency token\0" + secret.encode()).digest()

    def _mac(self, user_id: str, lsn: str) -> str:
        digest = hmac.new(self._key, f"{user_id}\0{lsn}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode()

    def issue(self, user_id: str, lsn: int) -> str:
        text = lsn_text(lsn)
        return f"{text}.{self._mac(user_id, text)}"

    def verify(self, user_id: str, token: str) -> int | None:
        """The LSN of a token this user was given, else None (ignored: the read is not refused)."""
        text, _, mac = token.strip().partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(user_id, text)):
            return None
        try:
            return parse_lsn(text)
        except ValueError:
            return None


# ---------------------------------------------------------------- configuration ---
def standby_urls(value: str | None) -> list[str]:
    """READ_DATABASE_URL as one URL per standby host: comma-separated URLs, and a URL naming
    several hosts (`postgresql://h1:5432,h2:5432/db`) split into one URL per host, so that each
    standby's health and lag are known apart."""
    urls: list[str] = []
    for url in _URL_START.split(value or ""):
        url = asyncpg_dsn(url.strip())
        if not url:
            continue
        parts = urlsplit(url)
        userinfo, at, hosts = parts.netloc.rpartition("@")
        for host in hosts.split(","):
            urls.append(urlunsplit((parts.scheme, f"{userinfo}{at}{host}", parts.path, parts.query, "")))
    return urls


def host_label(url: str) -> str:
    """host:port of a URL, without credentials (what /readyz and the logs show)."""
    return urlsplit(url).netloc.rpartition("@")[2] or "local socket"


# --------------------------------------------------------------------- standbys ---
@dataclass(eq=False)
class Standby:
    url: str
    gate: ConnectionGate = field(init=False)
    pool: asyncpg.Pool | None = None
    healthy: bool = False
    in_recovery: bool = True
    replay_lsn: int | None = None
    lag_s: float | None = None
    error: str | None = None
    checked_at: float | None = None
    _conn: asyncpg.Connection | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return host_label(self.url)

    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise ConnectionError(f"standby {self.label} has no pool")
        return self.pool

    def mark_down(self, reason: str) -> None:
        if self.healthy:
            log.warning("standby %s skipped: %s", self.label, reason)
        self.healthy, self.error = False, reason

    def report(self) -> dict[str, Any]:
        return {
            "host": self.label,
            "ready": self.healthy,
            "inRecovery": self.in_recovery,
            "replayLsn": None if self.replay_lsn is None else lsn_text(self.replay_lsn),
            "lagSeconds": None if self.lag_s is None else round(self.lag_s, 3),
            **({"error": self.error} if self.error and not self.healthy else {}),
        }


def _replica_failure(exc: BaseException) -> bool:
    """An error that says "this standby cannot answer" rather than "this query is wrong": the
    connection is gone or refused, or a recovery conflict cancelled the statement (40001 on a
    standby). Not a statement timeout: the primary would time out as well."""
    if isinstance(exc, asyncpg.exceptions.SerializationError):
        return True
    if isinstance(exc, (asyncpg.exceptions.QueryCanceledError, TimeoutError, DatabaseUnavailable)):
        # DatabaseUnavailable here is the gate's own: no connection free in time, or the user's
        # share taken. A busy standby is not a broken one (a hung one fails the monitor's check).
        return False
    return is_database_unavailable(exc)


class ReadRouter:
    """The standbys of one worker: their pools, a monitor of health and lag, and the choice."""

    def __init__(self, settings: Settings, *, primary: ConnectionGate, primary_dsn: str) -> None:
        self.settings = settings
        self.primary = primary
        self.primary_dsn = primary_dsn
        self.max_lag_s = settings.replica_max_lag_s
        self.wait_s = settings.read_your_writes_wait_ms / 1000
        self.standbys = [Standby(url) for url in standby_urls(settings.read_database_url)]
        for standby in self.standbys:
            standby.gate = ConnectionGate(
                standby.require_pool, timeout_s=settings.connect_timeout_s, share=settings.pool_share
            )
        # (monotonic time, primary WAL insert LSN), newest last; long enough to measure max_lag_s.
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._primary_conn: asyncpg.Connection | None = None
        self.primary_lsn: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._next = 0

    # -------------------------------------------------------------- lifecycle ---
    async def start(self) -> None:
        for standby in self.standbys:
            # min_size 0: a standby that is down at start must not stop the server starting.
            standby.pool = await create_pool(self.settings, standby.url, min_size=0, application_name="boothgraph-read")
        await self.check()
        self._task = asyncio.create_task(self._monitor(), name="replica-monitor")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for conn in [self._primary_conn, *(s._conn for s in self.standbys)]:
            if conn is not None:
                conn.terminate()
        for standby in self.standbys:
            if standby.pool is not None:
                try:
                    await asyncio.wait_for(standby.pool.close(), 5)
                except TimeoutError:
                    standby.pool.terminate()

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.settings.replica_check_s)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the monitor must outlive any one failure
                log.exception("replica check failed")

    # ---------------------------------------------------------------- checks ---
    async def check(self) -> None:
        """One round: the primary's position, then every standby's replay and lag."""
        now = time.monotonic()
        try:
            sql = "select pg_current_wal_insert_lsn()"
            self._primary_conn, lsn = await _probe(self._primary_conn, self.primary_dsn, sql)
        except Exception:  # noqa: BLE001 - no sample this round (a failover, say); standbys still checked
            self._primary_conn = None
        else:
            if lsn is not None:  # None: DATABASE_URL's first answer is itself in recovery
                self.primary_lsn = lsn
                self._samples.append((now, lsn))
        horizon = now - max(4 * self.max_lag_s, 10.0)
        while len(self._samples) > 1 and self._samples[1][0] < horizon:
            self._samples.popleft()
        await asyncio.gather(*(self._check_standby(s) for s in self.standbys))

    async def _check_standby(self, standby: Standby) -> None:
        sql = "select pg_is_in_recovery(), pg_last_wal_replay_lsn()"
        try:
            standby._conn, row = await _probe(standby._conn, standby.url, sql, row=True)
        except Exception as exc:  # noqa: BLE001 - any failure: not used until it answers again
            standby._conn = None
            standby.mark_down(type(exc).__name__)
            standby.checked_at = time.monotonic()
            metrics.observe_standby(standby.label, None, False)
            return
        standby.in_recovery, standby.replay_lsn = row[0], row[1]
        standby.lag_s = self.lag_of(standby)
        standby.checked_at = time.monotonic()
        if standby.lag_s is None or standby.lag_s > self.max_lag_s:
            standby.mark_down(f"lags {standby.lag_s if standby.lag_s is not None else 'an unknown time'} s")
        else:
            if not standby.healthy:
                log.info("standby %s in use (lag %.3f s)", standby.label, standby.lag_s)
            standby.healthy, standby.error = True, None
        metrics.observe_standby(standby.label, standby.lag_s, standby.healthy)

    def lag_of(self, standby: Standby) -> float | None:
        if not standby.in_recovery:
            return 0.0  # promoted: it is a primary now, nothing to replay
        if standby.replay_lsn is None or not self._samples:
            return None
        if standby.replay_lsn >= self._samples[-1][1]:
            return 0.0
        now = time.monotonic()
        behind = None
        for at, lsn in reversed(self._samples):
            if lsn <= standby.replay_lsn:
                return now - at
            behind = at
        return None if behind is None else now - behind + self.settings.replica_check_s

    # ---------------------------------------------------------------- choice ---
    def _next_healthy(self) -> list[Standby]:
        """Healthy standbys, starting with the next in turn (reads spread over them)."""
        healthy = [s for s in self.standbys if s.healthy]
        if healthy:
            self._next = (self._next + 1) % len(healthy)
            healthy = healthy[self._next :] + healthy[: self._next]
        return healthy

    async def standby_for(self, lsn: int | None) -> Standby | None:
        """The standby that serves a read needing `lsn` (None: any fresh one), or None: the primary."""
        candidates = self._next_healthy()
        if not candidates:
            return None
        if lsn is None:
            return candidates[0]
        for standby in candidates:
            if standby.replay_lsn is not None and standby.replay_lsn >= lsn:
                return standby
        return await self._wait_for_replay(candidates[0], lsn)

    async def _wait_for_replay(self, standby: Standby, lsn: int) -> Standby | None:
        """Ask the standby for its replay position until it reaches `lsn`, for at most
        READ_YOUR_WRITES_WAIT_MS; past that the primary answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        pause = 0.002
        while True:
            try:
                conn = await standby.gate.take(None)
                try:
                    replayed = await conn.fetchval("select pg_last_wal_replay_lsn()")
                finally:
                    await standby.gate.give(None, conn)
            except Exception as exc:  # noqa: BLE001 - a standby that cannot say: the primary answers
                if _replica_failure(exc):
                    standby.mark_down(type(exc).__name__)
                return None
            if replayed is None or replayed >= lsn:  # None: promoted, it holds everything
                standby.replay_lsn = replayed if replayed is not None else standby.replay_lsn
                return standby
            if loop.time() + pause > deadline:
                return None
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    async def write_lsn(self) -> int:
        """The primary's WAL insert position now: at or past the commit of every transaction that
        has returned, so a standby that replayed it shows this request's writes."""
        conn = await self.primary.take(None)
        try:
            return int(await conn.fetchval("select pg_current_wal_insert_lsn()"))
        finally:
            await self.primary.give(None, conn)

    def report(self) -> list[dict[str, Any]]:
        return [s.report() for s in self.standbys]


async def _probe(
    conn: asyncpg.Connection | None, dsn: str, sql: str, *, row: bool = False
) -> tuple[asyncpg.Connection, Any]:
    """`sql` on a monitoring connection of its own (reopened when it died), within a second."""
    async with asyncio.timeout(CHECK_TIMEOUT_S):
        if conn is None or conn.is_closed():
            conn = await asyncpg.connect(
                asyncpg_dsn(dsn),
                timeout=CHECK_TIMEOUT_S,
                statement_cache_size=0,
                server_settings={"application_name": "boothgraph-monitor"},
            )
        try:
            value = await (conn.fetchrow(sql) if row else conn.fetchval(sql))
        except BaseException:
            conn.terminate()
            raise
    return conn, value


# ---------------------------------------------------------- a request's reads ---
class ReadRequestPool(RequestPool):
    """A read-only request's pool on a standby: a statement the standby cannot answer (down,
    or a recovery conflict) marks it down and runs on the primary instead; `failed` tells the
    server to run a whole operation again on the primary when the failure came mid-way."""

    def __init__(self, standby: Standby, primary: ConnectionGate, user_id: str, *, max_statements: int | None) -> None:
        super().__init__(standby.gate, user_id, max_statements=max_statements)
        self.standby = standby
        self.primary = primary
        self.failed = False

    def _fall_back(self, exc: BaseException) -> None:
        self.failed = True
        self.standby.mark_down(type(exc).__name__)
        self.gate = self.primary  # the rest of this request reads the primary

    async def _one(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        if self.gate is not self.primary:
            try:
                return await super()._one(method, query, args)
            except Exception as exc:
                if not _replica_failure(exc):
                    raise
                self._fall_back(exc)
                self.statements -= 1  # the same statement, asked again
        return await super()._one(method, query, args)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        self._count()
        user_id = self.user_id
        gate = self.gate
        try:
            conn = await gate.take(user_id)
        except Exception as exc:
            if gate is self.primary or not _replica_failure(exc):
                raise
            self._fall_back(exc)
            gate = self.primary
            conn = await gate.take(user_id)
        try:
            yield conn
        except Exception as exc:
            if gate is not self.primary and _replica_failure(exc):
                self._fall_back(exc)  # the operation is run again on the primary (server.py)
            raise
        finally:
            await gate.give(user_id, conn)
