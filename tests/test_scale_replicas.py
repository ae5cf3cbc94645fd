"""Reads on a real streaming standby (READ_DATABASE_URL, core/replicas.py), on a primary and
standby made by tests/pgpair.py: reads are served by the standby, a user reads their own write
while replay is paused (the consistency token), a revocation bites at once however far the
standby lags, a lagging standby is skipped, and a stopped standby costs no request."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.pgpair import PgPair
from tests.scalekit import (
    AUDIT,
    GRANT,
    REVOKE,
    UNITS,
    actions,
    backend_queries,
    graphql,
    make_database,
    replay,
    scale_client,
)


async def test_reads_are_served_by_the_standby_and_readyz_reports_each_database(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    async with scale_client(pair, database) as client:
        response = await graphql(client, AUDIT)
        assert response.status_code == 200 and actions(response) == []
        on_standby = await backend_queries(pair.standby, database, "boothgraph-read")
        assert any("audit_log" in q for q in on_standby), on_standby
        assert await backend_queries(pair.primary, database, "boothgraph-read") == []

        ready = await client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready" and body["databases"]["primary"] == {"ready": True}
        [standby] = body["databases"]["standbys"]
        assert standby["host"] == pair.standby.host and standby["ready"] is True and standby["inRecovery"] is True
        assert standby["lagSeconds"] is not None and standby["lagSeconds"] <= 2


async def test_own_write_is_read_back_while_replay_is_paused(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    async with scale_client(pair, database) as client:
        await replay(pair.standby, paused=True)
        try:
            granted = await graphql(client, GRANT, u="u-000002")
            assert granted.status_code == 200 and "errors" not in granted.json(), granted.text
            token = granted.headers["consistency-token"]

            # Without the token the standby answers, and it has not replayed the grant yet.
            assert "role.grant" not in actions(await graphql(client, AUDIT))
            # With it, the request waits briefly for the standby, then reads the primary.
            started = time.perf_counter()
            assert actions(await graphql(client, AUDIT, token=token)) == ["role.grant"]
            assert time.perf_counter() - started < 2
            # A forged token (a far-future LSN, a wrong MAC) is ignored, not a reason to read the primary.
            mac = token.partition(".")[2]
            forged = f"FFFFFFFF/0.{mac}"
            for ignored in (token.replace(".", ".x"), forged):
                assert "role.grant" not in actions(await graphql(client, AUDIT, token=ignored))
        finally:
            await replay(pair.standby, paused=False)
        await pair.wait_replayed()
        await client.app.state.boothgraph.replicas.check()  # type: ignore[attr-defined]
        # Replayed: the standby serves the token's reads again.
        before = len(await backend_queries(pair.standby, database, "boothgraph-read"))
        assert actions(await graphql(client, AUDIT, token=token)) == ["role.grant"]
        assert len(await backend_queries(pair.standby, database, "boothgraph-read")) >= max(before, 1)


async def test_a_revocation_bites_at_once_while_replay_is_paused(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    async with scale_client(pair, database) as client:
        granted = await graphql(client, GRANT, u="u-000002")
        assignment = granted.json()["data"]["grantRole"]["id"]
        await pair.wait_replayed()
        seen = await graphql(client, UNITS, user="u-000002")
        assert seen.json() == {"data": {"units": {"edges": [{"node": {"code": "UP"}}]}}}

        await replay(pair.standby, paused=True)
        try:
            revoked = await graphql(client, REVOKE, a=assignment)
            assert revoked.json() == {"data": {"revokeRole": True}}
            # The very next request: the viewer's rights come from the primary, so nothing is
            # visible any more although the standby still holds the assignment.
            assert await pair.standby.fetchval("select count(*) from assignments", database=database) == 2
            after = await graphql(client, UNITS, user="u-000002")
            assert after.json() == {"data": {"units": {"edges": []}}}
            me = await graphql(client, "{ me { assignments { role } permissions } }", user="u-000002")
            assert me.json() == {"data": {"me": {"assignments": [], "permissions": []}}}
        finally:
            await replay(pair.standby, paused=False)


async def test_a_lagging_standby_is_skipped(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair, grantees=3)
    async with scale_client(pair, database, replica_max_lag_s=0.5, replica_check_s=0.1) as client:
        await replay(pair.standby, paused=True)
        try:
            for i in range(3):
                assert "errors" not in (await graphql(client, GRANT, u=f"u-{100_000 + i}")).json()
            await asyncio.sleep(1.0)  # past REPLICA_MAX_LAG_S while the standby replays nothing
            ready = (await client.get("/readyz")).json()
            [standby] = ready["databases"]["standbys"]
            assert ready["status"] == "ready" and standby["ready"] is False and standby["lagSeconds"] > 0.5, ready
            # No token, yet fresh: the primary answers while the standby lags.
            assert actions(await graphql(client, AUDIT)) == ["role.grant"] * 3
        finally:
            await replay(pair.standby, paused=False)
        await pair.wait_replayed()
        await asyncio.sleep(0.3)
        [standby] = (await client.get("/readyz")).json()["databases"]["standbys"]
        assert standby["ready"] is True and standby["lagSeconds"] <= 0.5


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_reads_go_on_when_the_standby_stops(pg_pair: PgPair, mode: str) -> None:
    pair = pg_pair
    database = await make_database(pair)
    async with scale_client(pair, database, replica_check_s=5.0) as client:  # no monitor to warn the reads
        # The app's first check may find the standby a moment behind WAL written at start-up, and
        # with REPLICA_CHECK_S 5 its lag bound then exceeds REPLICA_MAX_LAG_S until the next check.
        await pair.wait_replayed()
        await client.app.state.boothgraph.replicas.check()  # type: ignore[attr-defined]
        assert actions(await graphql(client, AUDIT)) == []
        assert await backend_queries(pair.standby, database, "boothgraph-read")
        stopped = asyncio.Event()

        async def reader() -> list[int]:
            statuses = []
            while not stopped.is_set() or len(statuses) < 40:
                response = await graphql(client, AUDIT)
                statuses.append(response.status_code)
                assert response.status_code == 200 and actions(response) == [], response.text
            return statuses

        readers = [asyncio.create_task(reader()) for _ in range(4)]
        await asyncio.sleep(0.2)
        await asyncio.to_thread(pair.standby.stop, mode)
        stopped.set()
        results = await asyncio.gather(*readers)
        assert all(set(r) == {200} for r in results)
        assert (await client.get("/readyz")).status_code == 200
        [standby] = (await client.get("/readyz")).json()["databases"]["standbys"]
        assert standby["ready"] is False
