"""Issue 12, part 4: one client cannot take the service down. Cost priced on coerced variables,
batches counted and capped, a per-request statement budget, a per-user share of the pool,
bounded waits for connections, exports that never pin a connection to a reader who does not
read, /readyz on its own connection, and the abuse scenario of bench/abuse.py."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import asyncpg
import httpx
from graphql import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.abuse import ATTACKER, VICTIM, run_abuse
from schema import schema as project_schema
from schema.extensions.cost import CostMemo, operation_cost
from server import build_schema, create_app
from tests.serverkit import bearer, client_for, running_server, settings_for, token

GQL = "/graphql"
PAGES = "units(first: {n}) {{ edges {{ node {{ code voters(first: {n}) {{ edges {{ node {{ name age }} }} }} }} }} }}"
OTHER_USER = "u-000002"


def _cost(query: str, variables: dict[str, Any] | None = None) -> int | None:
    return operation_cost(project_schema._schema, parse(query), None, variables)


# ------------------------------------------------------------------------- cost forms ---
@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=600))
def test_cost_prices_every_form_of_a_page_size_as_it_runs(n: int) -> None:
    literal = _cost("{ " + PAGES.format(n=n) + " }")
    forms = [
        ("query($n: Int) { " + PAGES.format(n="$n") + " }", {"n": n}),
        ("query($n: Int) { " + PAGES.format(n="$n") + " }", {"n": float(n)}),  # 500.0: runs as 500
        ("query($n: Int = " + str(n) + ") { " + PAGES.format(n="$n") + " }", {}),
        ("query($n: Int = 3) { " + PAGES.format(n="$n") + " }", {"n": float(n)}),
        ("query($n: Int!) { " + PAGES.format(n="$n") + " }", {"n": n}),
    ]
    memo = CostMemo(50_000)
    for query, variables in forms:
        assert _cost(query, variables) == literal, (query, variables)
        # The memo keys on coerced values: 500 then 500.0 (or the reverse) is one price.
        assert memo.cost(project_schema._schema, query, parse(query), None, variables) == literal
        assert memo.cost(project_schema._schema, query, parse(query), None, dict(variables)) == literal


def test_cost_of_variables_that_do_not_coerce_is_left_to_graphql() -> None:
    query = "query($n: Int) { " + PAGES.format(n="$n") + " }"
    assert _cost(query, {"n": "500"}) is None  # graphql-core refuses it; nothing runs
    assert _cost(query, {"n": 2.5}) is None
    # null: the resolvers' default, the schema's (units 50, voters 50).
    assert _cost(query, {"n": None}) == _cost("{ " + PAGES.format(n=50) + " }")


async def test_a_float_page_size_is_refused_before_anything_runs(database_url: str) -> None:
    settings_ = settings_for(database_url)
    async with client_for(database_url, schema=build_schema(settings_)) as client:
        query = "query($n: Int) { " + PAGES.format(n="$n") + " }"
        refused = await client.post(GQL, json={"query": query, "variables": {"n": 500.0}}, headers=bearer())
        expected_cost = 1 + 500 * (1 + (1 + 1 * (1 + (1 + 500 * (1 + 1 * (1 + 2))))))
        assert refused.status_code == 200
        assert refused.json() == {
            "errors": [
                {
                    "message": f"The query would cost {expected_cost}; at most 50000 is allowed "
                    "(ask for smaller pages)",
                    "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": expected_cost, "maxCost": 50000},
                }
            ]
        }
        as_string = await client.post(GQL, json={"query": query, "variables": {"n": "500"}}, headers=bearer())
        assert "data" not in as_string.json()
        assert as_string.json()["errors"][0]["extensions"]["code"] != "INTERNAL_SERVER_ERROR"


# -------------------------------------------------------------------------- batches ---
async def test_each_operation_of_a_batch_counts_against_the_rate_limit(database_url: str) -> None:
    async with client_for(database_url, rate_limit_per_s=0.01, rate_limit_burst=15) as client:
        batch = [{"query": "{ me { id } }"}] * 10
        first = await client.post(GQL, json=batch, headers=bearer())
        assert first.status_code == 200
        assert first.json() == [{"data": {"me": {"id": "u-000001"}}}] * 10
        second = await client.post(GQL, json=batch, headers=bearer())  # 10 more: 20 > 15
        assert second.status_code == 429
        # 15 - 10 - 1 (the middleware's) leaves 4 of the 9 more it needs: (9 - 4) / 0.01 s.
        assert second.headers["retry-after"] == "500"
        assert second.json() == {
            "errors": [{"message": "Too many requests; retry in 500 s", "extensions": {"code": "RATE_LIMITED"}}]
        }


async def test_max_cost_caps_the_sum_of_a_batch(database_url: str) -> None:
    # items(first: 20) { edges { node { id } } } costs 1 + 20 * 3 = 61.
    async with client_for(database_url, max_cost=100) as client:
        query = "{ items(first: 20) { edges { node { id } } } }"
        single = await client.post(GQL, json={"query": query}, headers=bearer())
        assert single.json() == {"data": {"items": {"edges": [{"node": {"id": i}} for i in range(3)]}}}
        batch = await client.post(GQL, json=[{"query": query}, {"query": query}], headers=bearer())
        assert batch.json() == [
            {"data": {"items": {"edges": [{"node": {"id": i}} for i in range(3)]}}},
            {
                "errors": [
                    {
                        "message": "The query would cost 122; at most 100 is allowed (ask for smaller pages)",
                        "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": 122, "maxCost": 100},
                    }
                ]
            },
        ]


async def test_a_request_has_a_budget_of_database_statements(database_url: str) -> None:
    async with client_for(database_url, max_statements=3) as client:
        response = await client.post(
            GQL, json={"query": "{ a: database b: database c: database d: database }"}, headers=bearer()
        )
        body = response.json()
        assert body["data"] is None  # `database` is non-null: d's error nulls the whole answer
        assert body["errors"] == [
            {
                "message": "This request asked the database more than 3 times; ask for less per request",
                "locations": [{"line": 1, "column": 39}],
                "path": ["d"],
                "extensions": {"code": "QUERY_TOO_COMPLEX", "maxStatements": 3},
            }
        ]


# ----------------------------------------------------------------- share of the pool ---
async def test_one_user_holds_at_most_a_share_of_the_pool(database_url: str) -> None:
    # POOL_MAX_SIZE 4: one user holds at most 2 connections; past CONNECT_TIMEOUT_S, 503 at once.
    async with client_for(database_url, pool_max_size=4, connect_timeout_s=0.5) as client:
        slow = [
            asyncio.create_task(client.post(GQL, json={"query": "{ slowSql(seconds: 2) }"}, headers=bearer()))
            for _ in range(4)
        ]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        other = await client.post(GQL, json={"query": "{ database }"}, headers=bearer(OTHER_USER))
        assert time.perf_counter() - started < 0.5
        assert other.status_code == 200 and other.json() == {"data": {"database": 1}}
        answers = await asyncio.gather(*slow)
        assert sorted(a.status_code for a in answers) == [200, 200, 503, 503]
        for answer in answers:
            if answer.status_code == 503:
                assert answer.headers["retry-after"] == "1"
                assert answer.json()["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
                assert answer.json()["errors"][0]["message"] == (
                    "Too many of your requests are using the database at once; try again shortly"
                )
        assert client.app.state.boothgraph.connections.users.held("u-000001") == 0  # type: ignore[attr-defined]


async def test_readyz_does_not_flap_when_the_pool_is_busy(database_url: str) -> None:
    async with client_for(database_url, pool_max_size=2, user_pool_share=2, connect_timeout_s=3) as client:
        busy = [
            asyncio.create_task(client.post(GQL, json={"query": "{ slowSql(seconds: 2) }"}, headers=bearer()))
            for _ in range(2)
        ]
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        assert time.perf_counter() - started < 0.5
        assert [a.status_code for a in await asyncio.gather(*busy)] == [200, 200]


# ---------------------------------------------------------------------- lock on voters ---
async def test_a_locked_table_answers_503_within_the_timeouts(read_db_url: str) -> None:
    settings_ = settings_for(read_db_url, pool_max_size=4, statement_timeout_ms=400, connect_timeout_s=0.4)
    app = create_app(settings_, schema=build_schema(settings_))
    query = {"query": '{ voters(unit: "UP-AWD-LKO", first: 5) { edges { node { name } } } }'}
    users = ["u-000001", "u-000002", "u-000003", "u-000006"]
    locker = await asyncpg.connect(read_db_url)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:

                async def read(i: int) -> tuple[int, float, str]:
                    started = time.perf_counter()
                    response = await client.post(GQL, json=query, headers=bearer(users[i % len(users)]))
                    return response.status_code, time.perf_counter() - started, response.text

                async with locker.transaction():
                    await locker.execute("lock table voters in access exclusive mode")
                    answers = await asyncio.gather(*(read(i) for i in range(40)))
                    ready = await client.get("/readyz")
                after = await read(0)
    finally:
        await locker.close()
    assert {status for status, _, _ in answers} <= {503}, [a for a in answers if a[0] != 503][:2]
    # Each answer waited at most for its connection (0.4 s) and one statement (0.4 s), plus its
    # viewer and the event loop's share of 40 requests in one process.
    slowest = max(seconds for _, seconds, _ in answers)
    assert slowest < 2.0, slowest
    assert all("SERVICE_UNAVAILABLE" in text for _, _, text in answers)
    assert ready.status_code == 200
    assert after[0] == 200


# ------------------------------------------------------------------- unread exports ---
async def _grow_voters(url: str, copies: int) -> None:
    """Copies of the tiny data set's voters (new EPICs), so that an export of UP is several MB:
    more than the socket buffers of loopback hold for a client that does not read."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("select set_config('boothgraph.bulk', 'on', true)")
            await conn.execute(
                """insert into voters (epic_number, booth_id, mandal_id, district_id, region_id, serial_number, name,
                       name_hi, relative_name, age, gender, house_number, phone, caste_category, caste,
                       economic_status, contact_consent)
                   select v.epic_number || 'C' || g, v.booth_id, v.mandal_id, v.district_id, v.region_id,
                          v.serial_number + 10000 * g, v.name, v.name_hi, v.relative_name, v.age, v.gender,
                          v.house_number, v.phone, v.caste_category, v.caste, v.economic_status, v.contact_consent
                   from voters v, generate_series(1, $1) g""",
                copies,
            )
    finally:
        await conn.close()


def _open_unread_export(port: int, user: str, unit: str = "UP") -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    head = f"GET /export/voters.csv?unit={unit} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    sock.sendall(f"{head}Authorization: Bearer {token(user)}\r\n\r\n".encode())
    return sock


async def _idle_in_transaction(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                """select count(*) from pg_stat_activity
                   where datname = current_database() and application_name = 'boothgraph'
                     and state = 'idle in transaction'"""
            )
        )
    finally:
        await conn.close()


async def test_exports_that_are_never_read_do_not_hold_the_pool(read_db_url: str) -> None:
    await _grow_voters(read_db_url, 15)  # about 32,000 voters, 4.5 MB of CSV
    settings_ = settings_for(
        read_db_url, pool_max_size=4, connect_timeout_s=1, export_send_timeout_s=2.5, export_concurrency=1
    )
    app = create_app(settings_, schema=build_schema(settings_))

    def run() -> dict[str, Any]:
        seen: dict[str, Any] = {"ordinary": [], "idle": []}
        with running_server(app) as base:
            port = int(base.rsplit(":", 1)[1])
            # Ten unread exports of the state by one user (the attack): one streams (and
            # takes the one slot of EXPORT_CONCURRENCY), nine are refused (EXPORTS_PER_USER).
            sockets = [_open_unread_export(port, ATTACKER) for _ in range(10)]
            try:
                with httpx.Client(base_url=base, timeout=10) as client:
                    time.sleep(0.3)
                    seen["third_export"] = client.get("/export/voters.csv?unit=UP-AWD-LKO", headers=bearer("u-000008"))
                    deadline = time.monotonic() + 4.0
                    while time.monotonic() < deadline:
                        started = time.perf_counter()
                        response = client.post(GQL, json={"query": "{ me { id } }"}, headers=bearer(VICTIM))
                        seen["ordinary"].append((response.status_code, time.perf_counter() - started))
                        seen["idle"].append(asyncio.run(_idle_in_transaction(read_db_url)))
                        time.sleep(0.05)
                    # The slow readers were cut: their connections are back, an export runs again.
                    seen["idle_after"] = asyncio.run(_idle_in_transaction(read_db_url))
                    again = client.get("/export/voters.csv?unit=UP-AWD-LKO", headers=bearer("u-000008"))
                    seen["again"] = (again.status_code, again.text.count("\r\n"))
            finally:
                for sock in sockets:
                    sock.close()
        return seen

    seen = await asyncio.to_thread(run)
    assert {status for status, _ in seen["ordinary"]} == {200}
    assert max(seconds for _, seconds in seen["ordinary"]) < 1.0
    assert max(seen["idle"]) == 1  # EXPORT_CONCURRENCY: never more exports holding a connection
    assert seen["idle_after"] == 0
    third = seen["third_export"]
    assert third.status_code == 503 and third.headers["retry-after"] == "1"
    assert third.json() == {
        "errors": [
            {
                "message": "Too many exports are running; try again shortly",
                "extensions": {"code": "SERVICE_UNAVAILABLE"},
            }
        ]
    }
    assert seen["again"][0] == 200 and seen["again"][1] > 1000


async def test_a_user_runs_one_export_at_a_time(read_db_url: str) -> None:
    await _grow_voters(read_db_url, 15)
    settings_ = settings_for(read_db_url, export_send_timeout_s=3)
    app = create_app(settings_, schema=build_schema(settings_))

    def run() -> tuple[httpx.Response, httpx.Response]:
        with running_server(app) as base:
            sock = _open_unread_export(int(base.rsplit(":", 1)[1]), ATTACKER)
            try:
                with httpx.Client(base_url=base, timeout=10) as client:
                    time.sleep(0.3)
                    second = client.get("/export/voters.csv?unit=UP", headers=bearer(ATTACKER))
                    time.sleep(3.5)  # the unread one is cut after EXPORT_SEND_TIMEOUT_S
                    third = client.get("/export/voters.csv?unit=UP-AWD-LKO", headers=bearer(ATTACKER))
                    return second, third
            finally:
                sock.close()

    second, third = await asyncio.to_thread(run)
    assert second.status_code == 429 and second.headers["retry-after"] == "1"
    assert second.json() == {
        "errors": [
            {
                "message": "At most 1 export(s) of yours may run at once; retry when one ends",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ]
    }
    assert third.status_code == 200 and third.text.startswith("epic_number,booth_code,")


# ------------------------------------------------------------------- the abuse scenario ---
async def test_under_abuse_by_one_user_another_keeps_working(read_db_url: str) -> None:
    await _grow_voters(read_db_url, 5)
    settings_ = settings_for(read_db_url, pool_min_size=2, pool_max_size=10, connect_timeout_s=3)
    app = create_app(settings_, schema=build_schema(settings_))

    def run():  # type: ignore[no-untyped-def]
        with running_server(app) as base:
            return asyncio.run(run_abuse(base, token(ATTACKER), token(VICTIM), seconds=4, attackers=8))

    report = await asyncio.to_thread(run)
    assert report.victim.errors == {} and report.attacker.errors == {}
    assert set(report.victim.statuses) == {200}, report.victim.statuses
    assert 500 not in report.attacker.statuses
    assert sum(report.victim.statuses.values()) >= 20
    assert report.victim.percentile(0.99) < 1.0, sorted(report.victim.latencies)[-5:]
