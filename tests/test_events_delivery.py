"""How events travel (docs/events.md), against real uvicorn servers and PostgreSQL: turnout is
throttled per election and unit and never reaches an official outside the unit; a NOTIFY
committed through one server process reaches a subscriber on another; the LISTEN connection
comes back after PostgreSQL drops it."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from resolvers.cursors import to_global_id
from tests.dataset import load_folder
from tests.eventskit import (
    assign,
    campaign,
    client,
    election,
    log_call,
    log_call_over_http,
    mark,
    node,
    serve_process,
    until,
    voters_in,
)
from tests.serverkit import as_app_role
from tests.writes_support import (
    AYD,
    AYD_M01_B1,
    CALLER_LKO_M01,
    DISTRICT_PRESIDENT_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
)

TURNOUT = """subscription($unit: String!) { turnoutChanged(election: "E-2029", unit: $unit) {
  unit voted eligible election { code } } }"""
CALLS = "subscription { callLogged { call { id } } }"


def turnout_of(message: dict) -> dict:
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]["turnoutChanged"]


@pytest.fixture
async def loaded(conn: asyncpg.Connection, tiny_dataset: Path) -> asyncpg.Connection:
    await load_folder(conn, tiny_dataset)
    return conn


async def test_turnout_is_throttled_and_stays_in_scope(database_url: str, loaded: asyncpg.Connection) -> None:
    conn = loaded
    election_id = await election(conn, "E-2029", [LKO, AYD])
    lucknow = await voters_in(conn, LKO_M01_B1, 10)
    (ayodhya,) = await voters_in(conn, AYD_M01_B1, 1)
    # A long interval: the ten marks below fall into one interval whatever the machine's load.
    async with node(database_url, turnout_event_interval_s=5.0) as served:
        async with client(served, DISTRICT_PRESIDENT_LKO) as lko, client(served, DISTRICT_PRESIDENT_AYD) as ayd:
            await lko.subscribe(TURNOUT, unit=LKO)
            first = turnout_of(await lko.next())
            assert (first["unit"], first["voted"], first["election"]) == (LKO, 0, {"code": "E-2029"})
            # Ayodhya's president may not follow Lucknow (not visible: as the turnout query, nothing).
            await ayd.subscribe(TURNOUT, unit=LKO)
            refused = await ayd.next()
            assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            await ayd.subscribe(TURNOUT, unit=AYD)
            assert turnout_of(await ayd.next())["voted"] == 0
            # A second subscription of the same official to the same unit: read together with the first.
            await lko.subscribe(TURNOUT, unit=LKO)
            assert turnout_of(await lko.next())["voted"] == 0
            await until(lambda: served.subscribers() == 3, "three turnout subscriptions")

            for voter in lucknow:  # ten statements, ten NOTIFYs
                await mark(conn, election_id, [voter])
            await mark(conn, election_id, [ayodhya])

            seen: dict[str, list[int]] = {}
            while len(seen) < 2 or any(v[-1] < 10 for v in seen.values()):
                message = await lko.next()
                seen.setdefault(message["id"], []).append(turnout_of(message)["voted"])
            # The first change at once, the rest folded into one at the interval's end; one reading
            # per tick for both subscriptions of the same official.
            for voted in seen.values():
                assert len(voted) <= 2 and voted == sorted(voted), seen
            # Ayodhya's next is its own mark: Lucknow's ten never reached it.
            assert turnout_of(await ayd.next())["voted"] == 1
            # At most two ticks for Lucknow, read once each for both subscriptions, and Ayodhya's one.
            assert served.app.state.boothgraph.events.hub.turnout_reads <= 3


async def test_a_notify_through_one_process_reaches_a_subscriber_on_another(
    database_url: str, loaded: asyncpg.Connection, tmp_path: Path
) -> None:
    conn = loaded
    await election(conn, "E-2029", [LKO])
    lko = await campaign(conn, LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    (voter,) = await voters_in(conn, LKO_M01_B1, 1)
    entry = await assign(conn, lko, voter, CALLER_LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    roles = await as_app_role(database_url)
    async with node(database_url, roles=roles) as one:
        with serve_process(roles, tmp_path) as other:
            ws_url = other.replace("http://", "ws://") + "/graphql"
            async with client(ws_url, MANDAL_PRESIDENT_LKO_M01) as manager:
                await manager.subscribe(CALLS)
                # turnoutChanged answers at once: by then the subscription before it is registered.
                await manager.subscribe(TURNOUT, unit=LKO_M01)
                assert turnout_of(await manager.next())["voted"] == 0
                logged = await log_call_over_http(one.url, entry, CALLER_LKO_M01)
                heard = await manager.next()
                assert heard["payload"]["data"]["callLogged"]["call"]["id"] == logged


async def test_the_listener_comes_back_after_its_connection_is_dropped(
    database_url: str, loaded: asyncpg.Connection
) -> None:
    conn = loaded
    lko = await campaign(conn, LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    (voter,) = await voters_in(conn, LKO_M01_B1, 1)
    entry = await assign(conn, lko, voter, CALLER_LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    async with node(database_url) as served:
        listener = served.app.state.boothgraph.events.listener
        async with client(served, MANDAL_PRESIDENT_LKO_M01) as manager:
            await manager.subscribe(CALLS)
            await until(lambda: served.subscribers() == 1, "the subscription")
            dropped = await conn.fetchval(
                """select count(pg_terminate_backend(pid)) from pg_stat_activity
                   where datname = current_database() and query like 'LISTEN %'"""
            )
            assert dropped == 1  # one LISTEN connection for the process, whatever the subscribers
            await until(lambda: listener.connections_made == 2, "the LISTEN connection to come back")
            logged = await log_call(conn, entry)
            heard = await manager.next()
            assert heard["payload"]["data"]["callLogged"]["call"]["id"] == to_global_id("CallLog", logged)
