"""Fixtures over a real PostgreSQL: the machine's server when one answers, else the embedded one.

Order of choice: TEST_DATABASE_URL, DATABASE_URL, a server at 127.0.0.1:5432 (user postgres),
and otherwise the embedded pgserver under .boothgraph-test/ (BOOTHGRAPH_TEST_EMBEDDED=1 forces it).
Each session migrates one template database; `database` clones it per test so tests never
see each other's rows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core import migrate
from core.database import asyncpg_dsn, embedded_url

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GEN_DATASET = SHARED / "tools" / "gen_dataset.py"


def _server_url() -> str:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        if os.environ.get(name):
            return asyncpg_dsn(os.environ[name])
    if os.environ.get("BOOTHGRAPH_TEST_EMBEDDED") != "1":
        try:
            with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
                return "postgresql://postgres@127.0.0.1:5432/postgres"
        except OSError:
            pass
    return embedded_url(ROOT / ".boothgraph-test")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class DatabaseFactory:
    """Creates throw-away databases on one server, cloned from a migrated template."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.template = f"bg_tpl_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def setup(self) -> None:
        await self._admin(f'create database "{self.template}"')
        migrate.upgrade(with_database(self.server_url, self.template))

    async def create(self, template: str | None = None) -> str:
        name = f"bg_t_{uuid.uuid4().hex[:10]}"
        await self._admin(f'create database "{name}" template "{template or self.template}"')
        self.created.append(name)
        return with_database(self.server_url, name)

    async def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        await self._admin(f'drop database if exists "{name}" with (force)')

    async def teardown(self) -> None:
        for name in [*self.created, self.template]:
            try:
                await self._admin(f'drop database if exists "{name}" with (force)')
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass


@pytest.fixture(scope="session")
async def db_factory() -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(_server_url())
    await factory.setup()
    yield factory
    await factory.teardown()


@pytest.fixture
async def database_url(db_factory: DatabaseFactory) -> AsyncIterator[str]:
    """A freshly migrated, empty database of its own for one test."""
    url = await db_factory.create()
    yield url
    await db_factory.drop(url)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gen_dataset.py `tiny` folder: the foreign producer of contract CSV files."""
    out = tmp_path_factory.mktemp("bg-tiny")
    subprocess.run(
        [sys.executable, str(GEN_DATASET), "--preset", "tiny", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out
