"""Apply pending Alembic migrations (serve, demo and import all start with this), then the app
role's privileges (core/roles.py), so that every table a migration adds is granted too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from core.database import asyncpg_dsn, run_in_thread, sqlalchemy_url
from core.roles import grant_app_privileges

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


async def _grant(url: str, app_role: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await grant_app_privileges(conn, app_role)
    finally:
        await conn.close()


def upgrade(url: str, app_role: str | None = None) -> None:
    """Bring the database at `url` (its owner's) to the newest revision, then grant `app_role`
    (the server's role, when it is another) its privileges. Safe to call from inside an event
    loop: the revisions run their own loop, so they are run on a separate thread."""

    def run() -> None:
        command.upgrade(alembic_config(url), "head")
        if app_role is not None:
            asyncio.run(_grant(url, app_role))

    run_in_thread(run, name="alembic-upgrade")
