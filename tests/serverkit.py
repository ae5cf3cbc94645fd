"""Helpers for the server tests: a tiny strawberry schema (independent of the real one), an
app over a test database with its lifespan running, and an httpx client on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import strawberry
import uvicorn
from strawberry.types import Info

from core.auth import make_token
from core.database import with_user
from core.errors import Forbidden
from core.roles import setup_roles
from core.settings import Settings
from resolvers.redaction import RedactedVoter
from schema.context import Context
from schema.extensions import graphql_extensions
from server import create_app

SECRET = "test-secret-0123456789-abcdefghij"
USER = "u-000001"


@strawberry.type
class Me:
    id: str
    name: str


@strawberry.type
class Item:
    id: int

    @strawberry.field
    def children(self, first: int = 10) -> ItemConnection:
        return connection(first)


@strawberry.type
class ItemEdge:
    node: Item


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]


def connection(first: int) -> ItemConnection:
    return ItemConnection(edges=[ItemEdge(node=Item(id=i)) for i in range(min(first, 3))])


@strawberry.type
class Query:
    @strawberry.field
    def me(self, info: Info[Context, None]) -> Me:
        return Me(id=info.context.viewer.user_id, name=info.context.viewer.name)

    @strawberry.field
    def items(self, first: int = 50) -> ItemConnection:
        return connection(first)

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError('relation "secret_table" does not exist at /work/main/resolvers/x.py line 3')

    @strawberry.field
    def forbidden(self) -> str:
        raise Forbidden("You may not read that here")

    @strawberry.field
    async def database(self, info: Info[Context, None]) -> int:
        async with info.context.pool.acquire() as conn:
            return int(await conn.fetchval("select 1"))

    @strawberry.field
    def read_contacts(self, info: Info[Context, None], unit: str, voters: int) -> int:
        clear = RedactedVoter("9876543210", None, None, None, [], True, False)
        for voter_id in range(voters):
            info.context.read_log.note(clear, voter_id, unit)
        return voters

    @strawberry.field
    async def slow_sql(self, info: Info[Context, None], seconds: float) -> bool:
        async with info.context.pool.acquire() as conn:
            await conn.execute("select pg_sleep($1)", seconds)
        return True

    @strawberry.field
    async def sleep(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return True


@strawberry.type
class Mutation:
    @strawberry.mutation
    def ping(self) -> bool:
        return True


def tiny_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(Query, Mutation, extensions=graphql_extensions(settings))


def settings_for(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": SECRET,
        "pool_min_size": 1,
        "pool_max_size": 4,
        "connect_timeout_s": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


def token(user_id: str = USER, ttl_s: int = 3600, secret: str = SECRET) -> str:
    return make_token(user_id, secret, ttl_s=ttl_s)


def bearer(user_id: str = USER, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user_id, **kwargs)}"}


async def seed(url: str) -> None:
    """One user with one assignment at the state unit `UP`."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            insert into units (id, code, level, depth, name, path, state_id)
                values (1, 'UP', 'STATE', 0, 'Uttar Pradesh', 'UP', 1);
            insert into users (id, name) values ('u-000001', 'Asha'), ('u-000002', 'Ravi');
            insert into assignments (user_id, role, unit_id) values ('u-000001', 'STATE_PRESIDENT', 1);
            """
        )
    finally:
        await conn.close()


# The roles the test servers run as (core/roles.py): cluster-wide, so named for this session;
# tests/conftest.py drops them at the end.
SESSION_TAG = uuid.uuid4().hex[:8]
OWNER_ROLE = f"bg_owner_{SESSION_TAG}"
APP_ROLE = f"bg_app_{SESSION_TAG}"


async def as_app_role(database_url: str) -> dict[str, str]:
    """Hands `database_url`'s database to this session's owner role and returns the settings
    that make a server migrate as that owner and serve as the app role, as in production."""
    conn = await asyncpg.connect(database_url)
    try:
        await setup_roles(conn, owner_role=OWNER_ROLE, app_role=APP_ROLE)
    finally:
        await conn.close()
    return {
        "database_url": with_user(database_url, APP_ROLE),
        "migration_database_url": with_user(database_url, OWNER_ROLE),
    }


@contextlib.asynccontextmanager
async def client_for(
    database_url: str, *, seeded: bool = True, schema: Any = None, app_role: bool = True, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on a fresh app (lifespan running) over `database_url`, connected as this
    session's least-privileged app role (`app_role=False`: as `database_url`'s own user)."""
    if seeded:
        await seed(database_url)
    if app_role and "migration_database_url" not in overrides:
        overrides = {**await as_app_role(database_url), **overrides}
    settings = settings_for(overrides.pop("database_url", database_url), **overrides)
    app = create_app(settings, schema=schema or tiny_schema(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(app: Any, **config: Any) -> Iterator[str]:
    """A real uvicorn on a free port in a background thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


ROOT = Path(__file__).resolve().parent.parent
BOOTHGRAPH = Path(sys.executable).parent / "boothgraph"


@contextlib.contextmanager
def serve_process(tmp: Path, **env: str) -> Iterator[str]:
    """`boothgraph serve` in a process of its own (another node), with JWT_SECRET, DATA_DIR=tmp,
    no periodic release and `env` over the environment; yields its base URL once /readyz answers."""
    port = free_port()
    environment = {**os.environ, "JWT_SECRET": SECRET, "DATA_DIR": str(tmp), "STATS_RELEASE_INTERVAL_S": "0", **env}
    log_path = tmp / f"node-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BOOTHGRAPH), "serve", "--port", str(port)], cwd=ROOT, env=environment, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"node did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
