"""boothgraph through a real PgBouncer in transaction mode (Debian's 1.18: no tracking of
prepared statements, that came in 1.21). asyncpg's statement cache names its prepared
statements per connection, and PgBouncer hands each transaction whichever server connection is
free, so a cached statement is soon run where it was never prepared; STATEMENT_CACHE_SIZE=0
(unnamed statements, prepared again per call) is what works. Migrations connect directly
(MIGRATION_DATABASE_URL): they hold a session advisory lock."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.pgbouncer import pgbouncer, unavailable_reason
from tests.pgpair import PgPair
from tests.scalekit import AUDIT, GRANT, UNITS, actions, graphql, make_database, scale_client

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=unavailable_reason() or "")


async def _statements(url: str, cache: int) -> dict[str, int]:
    """8 clients, 400 pairs of statements: which errors come back."""
    pool = await asyncpg.create_pool(url, min_size=8, max_size=8, statement_cache_size=cache)
    errors: dict[str, int] = {}

    async def one(i: int) -> None:
        try:
            await pool.fetch("select $1::int + g from generate_series(1, 10) g", i)
            await pool.fetchval("select count(*) from pg_class where relpages > $1", i % 5)
        except asyncpg.PostgresError as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    try:
        await asyncio.gather(*(one(i) for i in range(400)))
    finally:
        await pool.close()
    return errors


async def test_asyncpg_statement_cache_through_pgbouncer_transaction_mode(shared_pg_pair: PgPair) -> None:
    with pgbouncer(shared_pg_pair.primary.port, pool_size=2) as port:
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        assert "InvalidSQLStatementNameError" in await _statements(url, 100)  # the default cache breaks
        assert await _statements(url, 0) == {}


async def test_boothgraph_serves_through_pgbouncer(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair, grantees=20)
    with pgbouncer(pair.primary.port, pool_size=2) as port:
        through = f"postgresql://postgres@127.0.0.1:{port}/{database}"
        async with scale_client(
            pair,
            database,
            database_url=through,
            migration_database_url=pair.primary.url(database),
            read_database_url=None,
            statement_cache_size=0,
            pool_max_size=8,
            # One user sends all 60 requests at once: room for them (the share and its wait are
            # tests/test_hardening_limits.py's subject, not this one's).
            user_pool_share=8,
            connect_timeout_s=10.0,
        ) as client:
            assert (await client.get("/readyz")).status_code == 200
            grants = [graphql(client, GRANT, u=f"u-{100_000 + i}") for i in range(20)]
            reads = [graphql(client, q) for q in [UNITS, AUDIT] * 20]
            responses = await asyncio.gather(*grants, *reads)
            assert [r.status_code for r in responses] == [200] * 60
            assert all("errors" not in r.json() for r in responses), [
                r.json() for r in responses if "errors" in r.json()
            ]
            assert actions(await graphql(client, AUDIT)) == ["role.grant"] * 20
            # Every statement went through PgBouncer: its server connections, not ours, are on the primary.
            conn = await asyncpg.connect(pair.primary.url(database))
            try:
                ours = await conn.fetchval(
                    "select count(*) from pg_stat_activity where datname = current_database()"
                    " and client_port is not null and application_name = 'boothgraph'"
                )
            finally:
                await conn.close()
            assert ours <= 2  # PgBouncer's default_pool_size, however many clients
