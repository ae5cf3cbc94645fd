"""Where the database is, and the asyncpg pool over it.

`database_url()` resolves the configured URL, starting the embedded PostgreSQL (pgserver)
under the data directory when none is configured. `create_pool()` opens the asyncpg pool
with the statement timeout every query runs under.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import asyncpg

from core.settings import Settings

log = logging.getLogger(__name__)

_embedded: dict[Path, Any] = {}


def embedded_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL kept under `data_dir/pg` and return its URL."""
    pgdata = (data_dir / "pg").resolve()
    server = _embedded.get(pgdata)
    if server is None:
        # Only for the embedded default: importing pgserver warns (RuntimeDirWarning) when
        # XDG_RUNTIME_DIR is unset, which a server with a DATABASE_URL never needs to see.
        import pgserver

        pgdata.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process, so `boothgraph import` then
        # `boothgraph serve` reuse one cluster instead of starting it twice.
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        _embedded[pgdata] = server
    return str(server.get_uri())


def database_url(settings: Settings) -> str:
    return settings.database_url or embedded_url(settings.data_dir)


def asyncpg_dsn(url: str) -> str:
    """asyncpg wants plain `postgresql://`; accept SQLAlchemy-style driver suffixes too."""
    for prefix in ("postgresql+asyncpg://", "postgres+asyncpg://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def sqlalchemy_url(url: str) -> str:
    return "postgresql+asyncpg://" + asyncpg_dsn(url)[len("postgresql://") :]


async def release_connection(conn: asyncpg.Connection) -> None:
    """What the pool does when a connection comes back. asyncpg's default runs a reset query
    (unlock all, close cursors, unlisten, RESET ALL) on every release: a round trip and
    measurable CPU for each of a request's statements. Our code keeps no session state (GUCs
    are set transaction-locally, advisory locks are transaction-scoped, nothing LISTENs on a
    pooled connection), so only an open transaction, left by an error, needs undoing."""
    if conn.is_in_transaction():
        await conn.execute("rollback")


async def create_pool(settings: Settings, url: str | None = None, **overrides: Any) -> asyncpg.Pool:
    dsn = asyncpg_dsn(url or database_url(settings))
    options: dict[str, Any] = {
        "min_size": settings.pool_min_size,
        "max_size": settings.pool_max_size,
        "timeout": settings.connect_timeout_s,
        "command_timeout": settings.statement_timeout_ms / 1000 + 1,
        "max_inactive_connection_lifetime": 300,
        "reset": release_connection,
        "server_settings": {
            "application_name": "boothgraph",
            # Campaign windows are calendar days in India: "today" turns over at Indian midnight.
            "timezone": "Asia/Kolkata",
            "statement_timeout": str(settings.statement_timeout_ms),
            "idle_in_transaction_session_timeout": "60000",
        },
    }
    options.update(overrides)
    pool = await asyncpg.create_pool(dsn, **options)
    assert pool is not None
    return pool
