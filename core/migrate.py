"""Apply pending Alembic migrations (serve, demo and import all start with this)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.database import sqlalchemy_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest revision. Safe to call from inside an event
    loop: the revisions run their own loop, so they are run on a separate thread."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            command.upgrade(alembic_config(url), "head")
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="alembic-upgrade")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
