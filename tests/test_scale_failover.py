"""Failover under a running server: DATABASE_URL names both hosts with
target_session_attrs=read-write, replication is synchronous (synchronous_standby_names), the
primary dies (`pg_ctl stop -m immediate`) while grants are being written, and the standby is
promoted (`pg_ctl promote`, as Patroni would). The server is not restarted: during the switch
requests answer 503 with Retry-After, never 500; afterwards writes succeed on the new primary,
and every grant that was acknowledged is there with its audit entry."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx

from server import build_schema, create_app
from tests.pgpair import PgPair
from tests.scalekit import GRANT, make_database
from tests.serverkit import bearer, running_server, settings_for

WRITERS = 4
PER_WRITER = 300


async def test_the_service_survives_a_failover_without_losing_an_acknowledged_write(sync_pg_pair: PgPair) -> None:
    pair = sync_pg_pair
    database = await make_database(pair, grantees=WRITERS * PER_WRITER)
    assert await pair.primary.fetchval("show synchronous_standby_names") == "standby"
    url = f"postgresql://postgres@{pair.primary.host},{pair.standby.host}/{database}?target_session_attrs=read-write"
    settings = settings_for(
        url, pool_min_size=2, pool_max_size=4, connect_timeout_s=1.0, rate_limit_per_s=1e6, rate_limit_burst=1_000_000
    )
    settings.stats_release_interval_s = 0
    app = create_app(settings, schema=build_schema(settings))
    outcomes: list[tuple[str, int, dict[str, Any], str | None]] = []
    stop = asyncio.Event()

    with running_server(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:

            async def writer(first: int) -> None:
                for i in range(first, first + PER_WRITER):
                    if stop.is_set():
                        return
                    user = f"u-{100_000 + i}"
                    response = await client.post(
                        "/graphql", json={"query": GRANT, "variables": {"u": user}}, headers=bearer()
                    )
                    outcomes.append((user, response.status_code, response.json(), response.headers.get("retry-after")))
                    await asyncio.sleep(0.01 if response.status_code == 200 else 0.05)

            writers = [asyncio.create_task(writer(w * PER_WRITER)) for w in range(WRITERS)]
            await asyncio.sleep(0.5)
            await asyncio.to_thread(pair.primary.stop, "immediate")  # the primary dies mid-write
            await asyncio.sleep(0.5)  # requests keep coming while there is no primary
            await asyncio.to_thread(pair.standby.promote)
            started = time.perf_counter()
            while True:  # no restart: the pool's next connections find the promoted standby
                response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=bearer())
                if response.status_code == 200:
                    break
                assert time.perf_counter() - started < 20, response.text
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*writers)
            after = await client.post(
                "/graphql", json={"query": GRANT, "variables": {"u": "u-000002"}}, headers=bearer()
            )
            assert after.status_code == 200 and "errors" not in after.json(), after.text
            assert (await client.get("/readyz")).status_code == 200

    statuses = {status for _, status, _, _ in outcomes}
    assert statuses <= {200, 503}, statuses  # never a 500
    for _, status, body, retry_after in outcomes:
        if status == 503:
            assert retry_after == "1" and [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    acknowledged = {user for user, status, body, _ in outcomes if status == 200 and "errors" not in body}
    refused = {user for user, status, _, _ in outcomes if status == 503}
    assert acknowledged and refused, (len(acknowledged), len(refused))

    conn = await asyncpg.connect(pair.standby.url(database))  # the new primary
    try:
        assert await conn.fetchval("select not pg_is_in_recovery()")
        granted = {r["user_id"] for r in await conn.fetch("select user_id from assignments where user_id like 'u-1%'")}
        audited = [
            json.loads(r["detail"])["user"]
            for r in await conn.fetch("select detail from audit_log where action = 'role.grant'")
        ]
    finally:
        await conn.close()
    assert acknowledged <= granted, sorted(acknowledged - granted)[:5]  # no acknowledged write lost
    assert granted <= acknowledged | refused
    assert sorted(a for a in audited if a.startswith("u-1")) == sorted(granted)  # each with its audit entry
