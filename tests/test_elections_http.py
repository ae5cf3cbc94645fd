"""Elections end to end through the real app (create_app with the project's schema, its limits
and error masking, as the least-privileged app role) over HTTP, on a clock the test controls:
createElection, markVoted / undoVoted, turnout, getOutTheVote, myCallList's pause and logCall's
MODEL_CODE_IN_FORCE, and the Model Code's rules in both languages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.clock import FixedClock
from server import create_app
from tests.dataset import load_folder
from tests.elections_support import clock_at, ist, lok_sabha_input
from tests.serverkit import as_app_role, bearer, settings_for
from tests.writes_support import (
    BOOTH_PRESIDENT_LKO_M01_B1,
    CALLER_LKO_M01,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_PRESIDENT,
)


class Api:
    conn: Any = None  # the test database, as its owner (set-up only)

    def __init__(self, client: httpx.AsyncClient, clock: FixedClock, voters_under: dict[str, int]) -> None:
        self.client, self.clock, self.voters_under = client, clock, voters_under

    async def run(self, user: str, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=bearer(user)
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, user: str, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.run(user, query, **variables)
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
async def api(database_url, conn, tiny_dataset):
    await load_folder(conn, tiny_dataset)
    voters_under = {
        LKO: await conn.fetchval(
            "select count(*) from voters v join units b on b.id = v.booth_id where b.code like $1", LKO + "-%"
        )
    }
    clock = clock_at("2029-04-01 10:00")
    settings = settings_for(**{"database_url": database_url, **await as_app_role(database_url)})
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            api = Api(client, clock, voters_under)
            api.conn = conn
            yield api


CREATE = """mutation($input: ElectionInput!) { createElection(input: $input) {
  code name nameHi modelCodeFrom countingOn modelCodeInForce phases { unit { code level } pollDate } } }"""
MARK = """mutation($booth: String!, $serials: [Int!]!) {
  markVoted(booth: $booth, serials: $serials) { booth elections marked alreadyMarked unknownSerials } }"""
UNDO = """mutation($booth: String!, $serials: [Int!]!) { undoVoted(booth: $booth, serials: $serials) {
  undone expired notMarked } }"""
TURNOUT = """query($unit: String!) { turnout(election: "LS-2029", unit: $unit) {
  unit voted eligible byHour { key count } byCasteCategory { key count } suppressed election { code } } }"""


async def test_election_day_over_http(api: Api) -> None:
    created = await api.ok(
        STATE_PRESIDENT,
        CREATE,
        input=lok_sabha_input(LKO),
    )
    assert created["createElection"] == {
        "code": "LS-2029",
        "name": "Lok Sabha 2029",
        "nameHi": "लोकसभा 2029",
        "modelCodeFrom": "2029-03-16",
        "countingOn": "2029-06-04",
        "modelCodeInForce": True,
        "phases": [{"unit": {"code": LKO, "level": "DISTRICT"}, "pollDate": "2029-05-20"}],
    }
    # Before the poll date: POLL_NOT_OPEN; on it: marked, idempotent, undone.
    early = await api.run(BOOTH_PRESIDENT_LKO_M01_B1, MARK, booth=LKO_M01_B1, serials=[1, 2])
    assert [e["extensions"]["code"] for e in early["errors"]] == ["POLL_NOT_OPEN"]
    api.clock.set(ist("2029-05-20 09:15"))
    data = await api.ok(BOOTH_PRESIDENT_LKO_M01_B1, MARK, booth=LKO_M01_B1, serials=[1, 2, 3, 5000])
    assert data["markVoted"] == {
        "booth": LKO_M01_B1,
        "elections": ["LS-2029"],
        "marked": 3,
        "alreadyMarked": [],
        "unknownSerials": [5000],
    }
    again = await api.ok(BOOTH_PRESIDENT_LKO_M01_B1, MARK, booth=LKO_M01_B1, serials=[3])
    assert again["markVoted"]["marked"] == 0 and again["markVoted"]["alreadyMarked"] == [3]
    api.clock.advance(seconds=60)
    undone = await api.ok(BOOTH_PRESIDENT_LKO_M01_B1, UNDO, booth=LKO_M01_B1, serials=[3])
    assert undone["undoVoted"] == {"undone": 1, "expired": [], "notMarked": []}
    forbidden = await api.run(MANDAL_PRESIDENT_LKO_M01, MARK, booth=LKO_M01_B1, serials=[4])
    assert [e["extensions"]["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]
    # Live turnout for the district president: exact, by hour.
    t = (await api.ok(DISTRICT_PRESIDENT_LKO, TURNOUT, unit=LKO))["turnout"]
    assert (t["unit"], t["voted"], t["byHour"], t["election"]) == (
        LKO,
        2,
        [{"key": "09", "count": 2}],
        {"code": "LS-2029"},
    )
    assert t["eligible"] == api.voters_under[LKO]
    # GOTV for the booth president: not marked, DENIED never listed.
    gotv = await api.ok(
        BOOTH_PRESIDENT_LKO_M01_B1,
        """query($unit: String!) { getOutTheVote(election: "LS-2029", unit: $unit, first: 500) { totalCount
             edges { node { serialNumber contactConsent } } } }""",
        unit=LKO_M01_B1,
    )
    nodes = [e["node"] for e in gotv["getOutTheVote"]["edges"]]
    assert len(nodes) == gotv["getOutTheVote"]["totalCount"] > 0
    assert {1, 2} & {n["serialNumber"] for n in nodes} == set()
    assert all(n["contactConsent"] != "DENIED" for n in nodes)


async def test_model_code_over_http(api: Api) -> None:
    await api.ok(
        STATE_PRESIDENT,
        CREATE,
        input=lok_sabha_input(LKO),
    )
    rules = await api.ok(CALLER_LKO_M01, "{ modelCodeRules { code titleHi source window hours } }")
    assert [r["code"] for r in rules["modelCodeRules"]] == ["BENEFIT_REGISTRATION", "CASTE_APPEAL", "SILENCE_PERIOD"]
    assert "2 May 2024" in rules["modelCodeRules"][0]["source"] and rules["modelCodeRules"][2]["hours"] == 48
    # Open and closed by the test's clock (core/clock.py), from before the Model Code to after polling.
    today, later = "2029-03-01", "2029-12-31"
    campaign = await api.ok(
        MANDAL_PRESIDENT_LKO_M01,
        """mutation($input: CampaignInput!) { createCampaign(input: $input) { id purpose } }""",
        input={"name": "F", "unit": LKO_M01, "schemes": ["PMUY", "PM-KISAN"], "opensOn": today, "closesOn": later},
    )
    cid = campaign["createCampaign"]["id"]
    assert campaign["createCampaign"]["purpose"] == "FEEDBACK"
    await api.ok(
        MANDAL_PRESIDENT_LKO_M01,
        "mutation($input: AssignCallsInput!) { assignCalls(input: $input) }",
        input={"campaignId": cid, "callerId": CALLER_LKO_M01, "limit": 2},
    )
    caste = await api.run(
        MANDAL_PRESIDENT_LKO_M01,
        "mutation($input: AssignCallsInput!) { assignCalls(input: $input) }",
        input={"campaignId": cid, "callerId": CALLER_LKO_M01, "filter": {"casteCategory": ["SC"]}},
    )
    assert caste["errors"][0]["extensions"]["code"] == "MODEL_CODE_IN_FORCE"
    assert "CASTE_APPEAL" in caste["errors"][0]["message"]
    lst = "{ myCallList { totalCount edges { node { id } } paused { entries pollDates rule { code titleHi } } } }"
    listed = (await api.ok(CALLER_LKO_M01, lst))["myCallList"]
    assert listed["totalCount"] == 2 and listed["paused"] is None
    entry = listed["edges"][0]["node"]["id"]
    log = "mutation($input: CallLogInput!) { logCall(input: $input) { desiredBenefit } }"
    refused = await api.run(
        CALLER_LKO_M01, log, input={"assignmentId": entry, "outcome": "REACHED", "desiredBenefit": "house"}
    )
    assert refused["errors"][0]["extensions"]["code"] == "MODEL_CODE_IN_FORCE" and refused["data"] is None
    # The silence period: the list is empty and says why.
    api.clock.set(ist("2029-05-19 09:00"))
    silent = (await api.ok(CALLER_LKO_M01, lst))["myCallList"]
    assert silent["totalCount"] == 0 and silent["edges"] == []
    assert silent["paused"]["entries"] == 2 and silent["paused"]["rule"]["code"] == "SILENCE_PERIOD"
    assert "2029-05-20" in silent["paused"]["pollDates"] and silent["paused"]["rule"]["titleHi"]
    audit = await api.ok(
        STATE_PRESIDENT, '{ auditLog(action: "model_code.refused") { totalCount edges { node { unitCode } } } }'
    )
    assert audit["auditLog"]["totalCount"] == 2


async def test_a_page_incharge_on_election_day_over_http(api: Api) -> None:
    """turnout.mark at one roll page: markVoted marks only that page's serials, getOutTheVote(page:)
    lists that page, and turnout is not theirs (no stats.read)."""
    await api.ok(
        STATE_PRESIDENT,
        CREATE,
        input=lok_sabha_input(LKO),
    )
    await api.conn.execute("insert into users (id, name) values ('u-pg-http', 'Panna')")
    await api.conn.execute(
        "insert into assignments (user_id, role, unit_id, page) select 'u-pg-http', 'PAGE_INCHARGE', id, 2"
        " from units where code = $1",
        LKO_M01_B1,
    )
    page = {
        r["serial_number"]: r["page"]
        for r in await api.conn.fetch(
            "select v.serial_number, v.page from voters v join units b on b.id = v.booth_id where b.code = $1",
            LKO_M01_B1,
        )
    }
    mine = sorted(s for s, p in page.items() if p == 2)
    other = sorted(s for s, p in page.items() if p != 2)[:2]
    api.clock.set(ist("2029-05-20 09:15"))
    data = await api.ok("u-pg-http", MARK, booth=LKO_M01_B1, serials=mine[:3] + other)
    assert data["markVoted"]["marked"] == 3 and data["markVoted"]["unknownSerials"] == other
    gotv = await api.ok(
        "u-pg-http",
        """query($unit: String!) { getOutTheVote(election: "LS-2029", unit: $unit, page: 2, first: 500) {
             totalCount edges { node { serialNumber page } } } }""",
        unit=LKO_M01_B1,
    )
    nodes = [e["node"] for e in gotv["getOutTheVote"]["edges"]]
    assert nodes and all(n["page"] == 2 for n in nodes) and not {n["serialNumber"] for n in nodes} & set(mine[:3])
    assert (await api.ok("u-pg-http", TURNOUT, unit=LKO_M01_B1))["turnout"] is None
