"""Where the database is, and the asyncpg pool over it.

`database_urls()` resolves the configured URLs: the server's (DATABASE_URL) and the owner's
(MIGRATION_DATABASE_URL, for migrations and imports), starting the embedded PostgreSQL
(pgserver) under the data directory when none is configured; there the two roles of
core/roles.py are set up at every start, and the server connects as `boothgraph_app`.
`create_pool()` opens the asyncpg pool with the statement timeout every query runs under.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from core import embedded
from core.roles import APP_ROLE, OWNER_ROLE, setup_roles
from core.settings import Settings

log = logging.getLogger(__name__)


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL kept under `data_dir/pg` and return its URL. It is
    stopped when the last boothgraph process using it ends (core/embedded.py)."""
    return embedded.start(data_dir)


@dataclass(frozen=True)
class DatabaseUrls:
    server: str  # the server's pool (the app role)
    owner: str  # migrations and `boothgraph import` (the tables' owner)
    app_role: str | None  # the role the owner grants the server's privileges to; None: the same role


_roles_ready: set[Path] = set()


def embedded_urls(data_dir: Path) -> DatabaseUrls:
    """The embedded PostgreSQL with its two roles set up (once per process): the owner's URL and
    the app role's, on the same socket (pgserver trusts local connections)."""
    superuser = embedded_url(data_dir)
    pgdata = (data_dir / "pg").resolve()
    if pgdata not in _roles_ready:
        run_in_thread(lambda: asyncio.run(_setup_embedded_roles(superuser)), name="boothgraph-roles")
        _roles_ready.add(pgdata)
    return DatabaseUrls(with_user(superuser, APP_ROLE), with_user(superuser, OWNER_ROLE), APP_ROLE)


async def _setup_embedded_roles(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await setup_roles(conn, owner_role=OWNER_ROLE, app_role=APP_ROLE)
    finally:
        await conn.close()


def run_in_thread(work: Callable[[], object], name: str) -> None:
    """Run `work` to completion on a thread of its own and re-raise what it raised: callers may be
    inside an event loop, and `work` may run one of its own (asyncio.run, Alembic's revisions)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def with_user(url: str, user: str) -> str:
    """`url` with its user name replaced (and no password)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}@{host}").geturl()


def url_user(url: str) -> str | None:
    return urlsplit(asyncpg_dsn(url)).username


def database_urls(settings: Settings) -> DatabaseUrls:
    if settings.embedded:
        return embedded_urls(settings.data_dir)
    server = settings.database_url
    assert server is not None
    owner = settings.migration_database_url or server
    user = url_user(server)
    separate = settings.migration_database_url is not None and user is not None and user != url_user(owner)
    return DatabaseUrls(server, owner, user if separate else None)


def database_url(settings: Settings) -> str:
    """The server's URL (the app role's on the embedded database)."""
    return database_urls(settings).server


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
