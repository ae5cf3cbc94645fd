"""Who hears what (docs/events.md), against a real uvicorn and PostgreSQL with a websocket client:
a caller hears only their own calls, a manager every call of their units, an official elsewhere
none; payloads go through the one redaction rule (a phone in clear is audited like a read);
imports are heard by data.import holders of the units they touched."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from resolvers.cursors import to_global_id
from resolvers.redaction import mask_phone
from tests.dataset import load_folder
from tests.eventskit import Node, assign, campaign, client, log_call, node, until, voters_in
from tests.serverkit import bearer
from tests.writes_support import (
    AYD_M01_B1,
    CALLER_AYD,
    CALLER_LKO_M01,
    CALLER_LKO_M01_B1,
    DISTRICT_CONVENOR_AYD,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_CONVENOR_VNS,
    DISTRICT_PRESIDENT_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO_M01,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
    VNS,
)

CALLS = """subscription($campaign: ID) { callLogged(campaign: $campaign) {
  campaignId voterId booth phone redactedFields call { id callerId outcome notes } } }"""


@pytest.fixture
async def served(database_url: str, conn: asyncpg.Connection, tiny_dataset: Path):
    await load_folder(conn, tiny_dataset)
    async with node(database_url) as n:
        yield n


def call_id(message: dict) -> str:
    assert message["type"] == "next", message
    return message["payload"]["data"]["callLogged"]["call"]["id"]


async def test_callers_hear_their_own_calls_managers_all_others_none(served: Node, conn: asyncpg.Connection) -> None:
    lko = await campaign(conn, LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    v1, v2, v3 = await voters_in(conn, LKO_M01_B1, 3)
    a1 = await assign(conn, lko, v1, CALLER_LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    a2 = await assign(conn, lko, v2, CALLER_LKO_M01_B1, MANDAL_PRESIDENT_LKO_M01)
    a3 = await assign(conn, lko, v3, CALLER_LKO_M01_B1, MANDAL_PRESIDENT_LKO_M01)
    ayd = await campaign(conn, "UP-AWD-AYD", DISTRICT_PRESIDENT_AYD)
    (w,) = await voters_in(conn, AYD_M01_B1, 1)
    elsewhere = await assign(conn, ayd, w, CALLER_AYD, DISTRICT_PRESIDENT_AYD)
    phones = {
        r["id"]: r["phone"] for r in await conn.fetch("select id, phone from voters where id = any($1)", [v1, v2])
    }

    async with (
        client(served, CALLER_LKO_M01) as caller_a,
        client(served, CALLER_LKO_M01_B1) as caller_b,
        client(served, MANDAL_PRESIDENT_LKO_M01) as manager,
        client(served, DISTRICT_PRESIDENT_LKO) as district,
        client(served, DISTRICT_PRESIDENT_AYD) as outsider,
    ):
        for c in (caller_a, caller_b, manager, district, outsider):
            await c.subscribe(CALLS)
        await until(lambda: served.subscribers() == 5, "five subscriptions")
        logged = [await log_call(conn, a) for a in (a2, a1, a3, elsewhere)]
        ids = [to_global_id("CallLog", i) for i in logged]

        # Caller A: only their own call (the first message is it: B's came before and was not sent).
        own = await caller_a.next()
        assert call_id(own) == ids[1]
        event = own["payload"]["data"]["callLogged"]
        assert event["call"]["callerId"] == CALLER_LKO_M01
        assert event["phone"] == phones[v1] and "phone" not in event["redactedFields"]  # on their open list
        assert event["booth"] == LKO_M01_B1 and event["campaignId"] == to_global_id("Campaign", lko)
        # Caller B: their two, never A's.
        assert [call_id(await caller_b.next()) for _ in range(2)] == [ids[0], ids[2]]
        # The mandal president (outreach.manage, voter.read_contact there): all three, phones in clear.
        heard = [await manager.next() for _ in range(3)]
        assert [call_id(m) for m in heard] == ids[:3]
        assert heard[0]["payload"]["data"]["callLogged"]["phone"] == phones[v2]
        assert heard[0]["payload"]["data"]["callLogged"]["redactedFields"] == []
        # The district president (outreach.manage, no voter.read_contact): the three, phones masked.
        heard = [await district.next() for _ in range(3)]
        assert [call_id(m) for m in heard] == ids[:3]
        masked = heard[0]["payload"]["data"]["callLogged"]
        assert masked["phone"] == mask_phone(phones[v2])
        assert masked["redactedFields"] == ["phone", "casteCategory", "caste", "economicStatus"]
        # Ayodhya's president: only Ayodhya's call.
        assert call_id(await outsider.next()) == ids[3]

    # Phones shown in clear were audited as reads before they were sent (who, the booth, one voter
    # per delivery; deliveries written together may share an entry), masked ones not.
    async def audited() -> bool:
        rows = await conn.fetch(
            "select user_id, unit_code, records from audit_log where action = 'voter.read_contact' order by id"
        )
        return {(r["user_id"], r["unit_code"]) for r in rows} == {
            (CALLER_LKO_M01, LKO_M01_B1),
            (CALLER_LKO_M01_B1, LKO_M01_B1),
            (MANDAL_PRESIDENT_LKO_M01, LKO_M01_B1),
        } and sum(r["records"] for r in rows) == 1 + 2 + 3

    assert await audited()


async def test_one_campaign_only_and_logcall_through_http(served: Node, conn: asyncpg.Connection) -> None:
    first = await campaign(conn, LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    second = await campaign(conn, LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    v1, v2 = await voters_in(conn, LKO_M01_B1, 2)
    a1 = await assign(conn, first, v1, CALLER_LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    a2 = await assign(conn, second, v2, CALLER_LKO_M01, MANDAL_PRESIDENT_LKO_M01)
    async with client(served, MANDAL_PRESIDENT_LKO_M01) as manager:
        await manager.subscribe(CALLS, campaign=to_global_id("Campaign", second))
        await until(lambda: served.subscribers() == 1, "the subscription")
        async with httpx.AsyncClient(base_url=served.url) as http:
            for a in (a1, a2):
                answer = await http.post(
                    "/graphql",
                    json={
                        "query": "mutation($i: CallLogInput!) { logCall(input: $i) { id } }",
                        "variables": {"i": {"assignmentId": to_global_id("CallAssignment", a), "outcome": "REACHED"}},
                    },
                    headers=bearer(CALLER_LKO_M01),
                )
                assert "errors" not in answer.json(), answer.json()
                last = answer.json()["data"]["logCall"]["id"]
        assert call_id(await manager.next()) == last  # the first campaign's call was not for this subscription


async def test_bad_requests_are_errors_of_the_operation(served: Node) -> None:
    """A refused subscription answers its own id with the error's code (presented as on HTTP) and
    completes; the connection stays open."""

    def code(message: dict) -> str:
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        return errors[0]["extensions"]["code"]

    async with client(served, CALLER_LKO_M01) as caller:
        op = await caller.subscribe(CALLS, campaign="not-an-id")
        message = await caller.next()
        assert message["id"] == op and code(message) == "BAD_USER_INPUT"
        await caller.subscribe("subscription { importFinished { at } }")
        assert code(await caller.next()) == "FORBIDDEN"
        await caller.subscribe('subscription { turnoutChanged(election: "none", unit: "UP") { voted } }')
        assert code(await caller.next()) == "NOT_FOUND"


async def test_imports_are_heard_where_they_touched(served: Node, conn: asyncpg.Connection) -> None:
    """data.import entries (one per unit an import was audited under, written in one transaction)
    reach data.import holders of those units, once per import, naming only their units."""

    async def imported(user: str, units: list[str]) -> None:
        async with conn.transaction():
            await conn.execute(
                """insert into audit_log (user_id, action, unit_id, unit_code, records)
                   select $1, 'data.import', id, code, 42 from units where code = any($2::text[]) order by code""",
                user,
                units,
            )

    query = "subscription { importFinished { units records mine } }"
    async with (
        client(served, DISTRICT_CONVENOR_LKO) as lko,
        client(served, DISTRICT_CONVENOR_AYD) as ayd,
        client(served, DISTRICT_CONVENOR_VNS) as vns,
    ):
        for c in (lko, ayd, vns):
            await c.subscribe(query)
        await until(lambda: served.subscribers() == 3, "the subscriptions")
        await imported(DISTRICT_CONVENOR_LKO, [LKO_M01_B1, AYD_M01_B1])
        await imported(DISTRICT_CONVENOR_VNS, [VNS])
        assert (await lko.next())["payload"]["data"]["importFinished"] == {
            "units": [LKO_M01_B1],
            "records": 42,
            "mine": True,
        }
        assert (await ayd.next())["payload"]["data"]["importFinished"] == {
            "units": [AYD_M01_B1],
            "records": 42,
            "mine": False,
        }
        # Varanasi's convenor hears their own import first: the one of Lucknow and Ayodhya never.
        assert (await vns.next())["payload"]["data"]["importFinished"]["units"] == [VNS]
