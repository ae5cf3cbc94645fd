"""Standbys as an operator and an importer see them, on a real primary and standby
(tests/pgpair.py): /metrics carries each standby's replay lag and readiness (issue 18 §4), and
POST /import answers with a Consistency-Token that the importer's next read honours while the
standby's replay is paused."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.pgpair import PgPair
from tests.scalekit import AUDIT, actions, graphql, make_database, replay, scale_client
from tests.serverkit import bearer

METRICS_TOKEN = "scrape-secret-0123456789"
IMPORTER = "u-000002"
SCHEMES = "{ schemes { code } }"


def _standby_samples(text: str, host: str) -> dict[str, float]:
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("boothgraph_standby_") and s.labels == {"standby": host}
    }


async def _scrape(client: httpx.AsyncClient, host: str) -> dict[str, float]:
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200, r.text
    return _standby_samples(r.text, host)


async def test_metrics_show_each_standbys_lag_and_readiness(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    host = pair.standby.host
    overrides = {"metrics_token": METRICS_TOKEN, "replica_max_lag_s": 0.5, "replica_check_s": 0.1}
    async with scale_client(pair, database, **overrides) as client:
        fresh = await _scrape(client, host)
        assert fresh["boothgraph_standby_ready"] == 1
        assert 0 <= fresh["boothgraph_standby_lag_seconds"] <= 0.5

        await replay(pair.standby, paused=True)
        try:
            # WAL the standby does not replay, then longer than REPLICA_MAX_LAG_S.
            await pair.primary.fetchval("insert into users (id, name) values ('u-lag', 'Lag')", database=database)
            await asyncio.sleep(1.0)
            lagging = await _scrape(client, host)
            assert lagging["boothgraph_standby_ready"] == 0
            assert lagging["boothgraph_standby_lag_seconds"] > 0.5
        finally:
            await replay(pair.standby, paused=False)
        await pair.wait_replayed()
        await asyncio.sleep(0.3)
        caught_up = await _scrape(client, host)
        assert caught_up["boothgraph_standby_ready"] == 1
        assert caught_up["boothgraph_standby_lag_seconds"] <= 0.5


async def test_an_import_answers_a_token_that_its_next_read_honours(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    conn = await asyncpg.connect(pair.primary.url(database))
    try:
        # u-000002 as the state's IT convenor: data.import and audit.read.
        await conn.execute("insert into assignments (user_id, role, unit_id) values ($1, 'IT_CONVENOR', 1)", IMPORTER)
    finally:
        await conn.close()
    await pair.wait_replayed()
    async with scale_client(pair, database) as client:
        await replay(pair.standby, paused=True)
        try:
            body = b"code,name,name_hi\r\nBGTEST,Test scheme,\r\n"
            imported = await client.post(
                "/import", files={"schemes.csv": ("schemes.csv", body, "text/csv")}, headers=bearer(IMPORTER)
            )
            assert imported.status_code == 200, imported.text
            token = imported.headers["consistency-token"]

            # Without the token the standby answers, and it has not replayed the import.
            before = await graphql(client, SCHEMES, user=IMPORTER)
            assert "BGTEST" not in [s["code"] for s in before.json()["data"]["schemes"]], before.text
            assert "data.import" not in actions(await graphql(client, AUDIT, user=IMPORTER))
            # With it, the importer's next read sees the import and its audit entry.
            after = await graphql(client, SCHEMES, user=IMPORTER, token=token)
            assert "BGTEST" in [s["code"] for s in after.json()["data"]["schemes"]], after.text
            assert "data.import" in actions(await graphql(client, AUDIT, user=IMPORTER, token=token))
            # The token is the importer's own: another user's read is not sent to the primary by it.
            other = await graphql(client, SCHEMES, user="u-000001", token=token)
            assert "BGTEST" not in [s["code"] for s in other.json()["data"]["schemes"]], other.text
        finally:
            await replay(pair.standby, paused=False)
