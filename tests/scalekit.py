"""Helpers for the scaling tests: a migrated, seeded database on a primary/standby pair, and an
app reading from the standby (READ_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx

from core import migrate
from server import build_schema, create_app
from tests.pgpair import Node, PgPair
from tests.serverkit import bearer, seed, settings_for

GRANT = 'mutation($u: ID!) { grantRole(userId: $u, role: STATE_GENERAL_SECRETARY, unit: "UP") { id } }'
REVOKE = "mutation($a: ID!) { revokeRole(assignmentId: $a) }"
AUDIT = "{ auditLog(first: 20) { edges { node { action } } } }"
UNITS = "{ units(first: 5) { edges { node { code } } } }"


async def make_database(pair: PgPair, *, grantees: int = 0) -> str:
    """A database on the primary, migrated and seeded (tests/serverkit.seed: unit UP,
    u-000001 STATE_PRESIDENT, u-000002; `grantees` more users u-1xxxxx), replayed by the standby."""
    name = f"bg_scale_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pair.primary.url())
    try:
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    url = pair.primary.url(name)
    await asyncio.to_thread(migrate.upgrade, url)
    await seed(url)
    if grantees:
        conn = await asyncpg.connect(url)
        try:
            await conn.executemany(
                "insert into users (id, name) values ($1, $2)",
                [(f"u-{100_000 + i}", f"Grantee {i}") for i in range(grantees)],
            )
        finally:
            await conn.close()
    await pair.wait_replayed()
    return name


def scale_settings(pair: PgPair, database: str, **overrides: Any):  # -> Settings
    database_url = overrides.pop("database_url", pair.primary.url(database))
    values: dict[str, Any] = {
        "read_database_url": pair.standby.url(database),
        "replica_check_s": 0.2,
        "rate_limit_per_s": 1e6,
        "rate_limit_burst": 1_000_000,
        "stats_release_interval_s": 0,
    }
    values.update(overrides)
    return settings_for(database_url, **values)


@contextlib.asynccontextmanager
async def scale_client(pair: PgPair, database: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the real app (lifespan running), primary DATABASE_URL, standby reads."""
    settings = scale_settings(pair, database, **overrides)
    app = create_app(settings, schema=build_schema(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def graphql(
    client: httpx.AsyncClient, query: str, user: str = "u-000001", token: str | None = None, **variables: Any
) -> httpx.Response:
    headers = bearer(user)
    if token is not None:
        headers["Consistency-Token"] = token
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def actions(response: httpx.Response) -> list[str]:
    body = response.json()
    assert "errors" not in body, body
    return [e["node"]["action"] for e in body["data"]["auditLog"]["edges"]]


async def replay(node: Node, *, paused: bool) -> None:
    await node.fetchval("select pg_wal_replay_pause()" if paused else "select pg_wal_replay_resume()")


async def backend_queries(node: Node, database: str, application_name: str) -> list[str]:
    """The last statement of each of our sessions on `node` in `database` (pg_stat_activity)."""
    conn = await asyncpg.connect(node.url(database))
    try:
        rows = await conn.fetch(
            "select query from pg_stat_activity where datname = current_database() and application_name = $1",
            application_name,
        )
    finally:
        await conn.close()
    return [r["query"] for r in rows]
