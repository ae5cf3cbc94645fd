"""Events when DATABASE_URL goes through a real PgBouncer in transaction mode (Debian's): the
LISTEN connection behind it hears nothing, which the start-up probe finds and says (log and
/metrics); with LISTEN_DATABASE_URL on PostgreSQL itself, a call logged through PgBouncer reaches
its subscriber (docs/events.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from tests.dataset import load_folder
from tests.eventskit import assign, campaign, client, log_call_over_http, node, voters_in
from tests.pgbouncer import pgbouncer, unavailable_reason
from tests.writes_support import CALLER_LKO_M01, LKO_M01, LKO_M01_B1, MANDAL_PRESIDENT_LKO_M01

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=unavailable_reason() or "")

CALLS = "subscription { callLogged { call { id } } }"
METRICS_TOKEN = "metrics-token-of-this-test-0123456789"


def through(database_url: str, port: int) -> str:
    """The same database as `postgres` through PgBouncer (its auth file knows that user only)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{port}"))


def server_port(database_url: str) -> int:
    parts = urlsplit(database_url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        pytest.skip("PgBouncer is put in front of a PostgreSQL on loopback TCP; this one is not")
    return parts.port


def roles(database_url: str, port: int) -> dict[str, str]:
    """The server's URL through PgBouncer; migrations straight to PostgreSQL (they hold a session lock)."""
    return {"database_url": through(database_url, port), "migration_database_url": database_url}


POOLED = {
    "statement_cache_size": 0,  # PgBouncer 1.18 in transaction mode (docs/scaling.md)
    "connect_timeout_s": 10.0,
    "events_probe_timeout_s": 1.0,
    "metrics_token": METRICS_TOKEN,
}


async def test_a_listener_behind_a_transaction_pool_is_found_deaf(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pgbouncer(server_port(database_url), pool_size=2) as port:
        caplog.set_level(logging.WARNING, logger="boothgraph.events")
        async with node(database_url, roles=roles(database_url, port), **POOLED) as served:
            events = served.app.state.boothgraph.events
            assert events.heard_probe is False
            assert "LISTEN_DATABASE_URL" in caplog.text
            async with httpx.AsyncClient(base_url=served.url) as http:
                metrics = (await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
            assert "boothgraph_events_listener_heard_probe 0.0" in metrics


async def test_with_its_own_url_the_listener_hears_calls_logged_through_pgbouncer(
    database_url: str, conn: asyncpg.Connection, tiny_dataset: Path
) -> None:
    await load_folder(conn, tiny_dataset)
    lko = await campaign(conn, LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    (voter,) = await voters_in(conn, LKO_M01_B1, 1)
    entry = await assign(conn, lko, voter, CALLER_LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    with pgbouncer(server_port(database_url), pool_size=2) as port:
        listening = {**POOLED, "listen_database_url": database_url}
        async with node(database_url, roles=roles(database_url, port), **listening) as served:
            assert served.app.state.boothgraph.events.heard_probe is True
            async with client(served, MANDAL_PRESIDENT_LKO_M01) as manager:
                await manager.subscribe(CALLS)
                logged = await log_call_over_http(served.url, entry, CALLER_LKO_M01)
                heard = await manager.next()
                assert heard["payload"]["data"]["callLogged"]["call"]["id"] == logged
