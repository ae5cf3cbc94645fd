"""End to end through the assembled GraphQL schema (schema.execute with a request Context):
the mutations, myCallList as a caller sees it, campaigns with progress, node(id), auditLog."""

from __future__ import annotations

from typing import Any

from strawberry.types import ExecutionResult

from resolvers import audit
from schema import schema
from tests.writes_support import (
    AYD,
    BOOTH_PRESIDENT_LKO_M01_B1,
    CALLER_LKO_M01,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_PRESIDENT_LKO,
    IT_CONVENOR_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_IT,
    STATE_PRESIDENT,
    TODAY,
    World,
)


async def run(w: World, user: str, query: str, **variables: Any) -> ExecutionResult:
    return await schema.execute(query, variable_values=variables, context_value=await w.ctx(user))


async def ok(w: World, user: str, query: str, **variables: Any) -> dict[str, Any]:
    result = await run(w, user, query, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def codes(result: ExecutionResult) -> list[str]:
    return [(e.extensions or {}).get("code", "?") for e in result.errors or []]


SURVEY = """
mutation($input: VoterSurveyInput!) {
  updateVoterSurvey(input: $input) {
    epicNumber phone casteCategory caste economicStatus contactConsent redactedFields booth { code }
  }
}"""


async def test_survey_mutations(world: World) -> None:
    epic = await world.epic_in(LKO_M01_B1, where="v.caste is not null")
    before = await world.voter(epic)
    data = await ok(
        world, BOOTH_PRESIDENT_LKO_M01_B1, SURVEY, input={"epicNumber": epic, "phone": "5123456789", "caste": None}
    )
    voter = data["updateVoterSurvey"]
    assert voter["phone"] == "5123456789" and voter["caste"] is None  # null clears
    assert voter["casteCategory"] == before["caste_category"]  # left out: unchanged
    assert voter["redactedFields"] == [] and voter["booth"]["code"] == LKO_M01_B1

    # The district president may read but not write: FORBIDDEN; elsewhere: NOT_FOUND; bad phone.
    assert codes(await run(world, DISTRICT_PRESIDENT_LKO, SURVEY, input={"epicNumber": epic, "caste": "X"})) == [
        "FORBIDDEN"
    ]
    other = await world.epic_in("UP-AWD-AYD-M01-B0001")
    assert codes(await run(world, BOOTH_PRESIDENT_LKO_M01_B1, SURVEY, input={"epicNumber": other})) == ["NOT_FOUND"]
    assert codes(
        await run(world, BOOTH_PRESIDENT_LKO_M01_B1, SURVEY, input={"epicNumber": epic, "phone": "98765"})
    ) == ["BAD_USER_INPUT"]
    assert codes(
        await run(world, BOOTH_PRESIDENT_LKO_M01_B1, SURVEY, input={"epicNumber": epic, "casteCategory": "XX"})
    )  # a GraphQL validation error: not an enum value

    erase = "mutation($e: String!) { eraseVoterPersonalData(epicNumber: $e) { phone caste contactConsent } }"
    data = await ok(world, DISTRICT_CONVENOR_LKO, erase, e=epic)
    assert data["eraseVoterPersonalData"] == {"phone": None, "caste": None, "contactConsent": "DENIED"}
    enroll = """mutation($e: String!) { enrollBeneficiary(epicNumber: $e, scheme: "NSAP", since: "2024-01-31") {
                  schemes { scheme { code name } since } } }"""
    data = await ok(world, DISTRICT_CONVENOR_LKO, enroll, e=epic)
    assert {"scheme": {"code": "NSAP", "name": "National Social Assistance Programme"}, "since": "2024-01-31"} in data[
        "enrollBeneficiary"
    ]["schemes"]
    actions = [
        r[0] for r in await world.conn.fetch("select action from audit_log where id > $1 order by id", world.audit_base)
    ]
    assert actions == ["voter.write", "voter.erase", "beneficiary.enroll"]
    assert await world.rollups_match_recount() == []


CREATE = """
mutation($input: CampaignInput!) {
  createCampaign(input: $input) { id name open opensOn closesOn unit { code } schemes { code } progress { assigned } }
}"""
ASSIGN = "mutation($input: AssignCallsInput!) { assignCalls(input: $input) }"
CALL_LIST = """
query($after: String) {
  myCallList(first: 3, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id callerId
      campaign { id name open progress { assigned called } }
      voter { epicNumber name phone casteCategory caste economicStatus redactedFields booth { code }
              schemes { scheme { code } } }
      lastCall { outcome satisfaction }
    } }
  }
}"""
LOG = """
mutation($input: CallLogInput!) {
  logCall(input: $input) { id outcome problems benefitReceived desiredBenefit satisfaction notes calledAt callerId }
}"""
CAMPAIGNS = """
query($unit: String, $openOnly: Boolean) {
  campaigns(unit: $unit, openOnly: $openOnly) {
    totalCount edges { node { id name unit { code } progress { assigned called byOutcome { key count } } } }
  }
}"""


async def test_outreach_flow(world: World) -> None:
    opens, closes = TODAY.isoformat(), TODAY.replace(year=TODAY.year + 1).isoformat()
    data = await ok(
        world,
        MANDAL_PRESIDENT_LKO_M01,
        CREATE,
        input={"name": "PMUY feedback", "unit": LKO_M01, "schemes": ["PMUY", "PMGKAY"], "opensOn": opens,
               "closesOn": closes},
    )  # fmt: skip
    campaign = data["createCampaign"]
    assert campaign["open"] and campaign["unit"]["code"] == LKO_M01 and campaign["progress"]["assigned"] == 0
    bad = await run(
        world,
        MANDAL_PRESIDENT_LKO_M01,
        CREATE,
        input={"name": "x", "unit": LKO_M01, "schemes": ["PMUY"], "opensOn": closes, "closesOn": opens},
    )
    assert codes(bad) == ["BAD_USER_INPUT"]

    data = await ok(
        world, MANDAL_PRESIDENT_LKO_M01, ASSIGN, input={"campaignId": campaign["id"], "callerId": CALLER_LKO_M01,
                                                        "limit": 7}
    )  # fmt: skip
    assert data["assignCalls"] == 7
    assert codes(
        await run(world, MANDAL_PRESIDENT_LKO_M01, ASSIGN, input={"campaignId": "bm9wZQ==", "callerId": CALLER_LKO_M01})
    ) == ["NOT_FOUND"]

    # The caller's list, page by page, as the caller sees it.
    seen: list[dict] = []
    after = None
    while True:
        page = (await ok(world, CALLER_LKO_M01, CALL_LIST, after=after))["myCallList"]
        assert page["totalCount"] == 7
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 7 and len({n["id"] for n in seen}) == 7
    node = seen[0]
    truth = await world.voter(node["voter"]["epicNumber"])
    assert node["voter"]["phone"] == truth["phone"]  # in clear on the call list
    assert node["voter"]["casteCategory"] is None and node["voter"]["caste"] is None
    assert node["voter"]["economicStatus"] is None
    assert node["voter"]["redactedFields"] == ["casteCategory", "caste", "economicStatus"]
    assert node["voter"]["schemes"] and node["campaign"]["id"] == campaign["id"]
    assert node["callerId"] == CALLER_LKO_M01 and node["lastCall"] is None
    assert node["campaign"]["progress"] == {"assigned": 7, "called": 0}  # the caller's own entries

    data = await ok(
        world,
        CALLER_LKO_M01,
        LOG,
        input={"assignmentId": node["id"], "outcome": "REACHED", "problems": "Refill costly", "benefitReceived": True,
               "desiredBenefit": "Pension", "satisfaction": 4, "notes": "ok"},
    )  # fmt: skip
    log = data["logCall"]
    assert log["outcome"] == "REACHED" and log["satisfaction"] == 4 and log["callerId"] == CALLER_LKO_M01
    for user, variables, code in [
        (MANDAL_PRESIDENT_LKO_M01, {"assignmentId": node["id"], "outcome": "REACHED"}, "NOT_FOUND"),
        (CALLER_LKO_M01, {"assignmentId": node["id"], "outcome": "REACHED", "satisfaction": 9}, "BAD_USER_INPUT"),
        (CALLER_LKO_M01, {"assignmentId": "garbage", "outcome": "REACHED"}, "NOT_FOUND"),
    ]:
        assert codes(await run(world, user, LOG, input=variables)) == [code]

    # The entry moved to the end of the list (called), with its last call.
    page = (await ok(world, CALLER_LKO_M01, CALL_LIST.replace("first: 3", "first: 10")))["myCallList"]
    assert page["edges"][-1]["node"]["id"] == node["id"]
    assert page["edges"][-1]["node"]["lastCall"] == {"outcome": "REACHED", "satisfaction": 4}

    # Progress for the managers.
    data = await ok(world, DISTRICT_PRESIDENT_LKO, CAMPAIGNS, unit=LKO, openOnly=True)
    [edge] = data["campaigns"]["edges"]
    assert edge["node"]["progress"] == {"assigned": 7, "called": 1, "byOutcome": [{"key": "REACHED", "count": 1}]}
    assert (await ok(world, DISTRICT_PRESIDENT_LKO, CAMPAIGNS, unit=AYD))["campaigns"]["totalCount"] == 0
    assert (await ok(world, "u-000023", CAMPAIGNS))["campaigns"]["totalCount"] == 0  # Ayodhya's president

    # node(id): visible to whom the lists show it to.
    q = """query($id: ID!) { node(id: $id) { id
             ... on Campaign { name progress { assigned } } ... on CallAssignment { voter { phone } } } }"""
    assert (await ok(world, DISTRICT_PRESIDENT_LKO, q, id=campaign["id"]))["node"]["progress"] == {"assigned": 7}
    assert (await ok(world, "u-000023", q, id=campaign["id"]))["node"] is None
    assert (await ok(world, CALLER_LKO_M01, q, id=node["id"]))["node"]["voter"]["phone"] == truth["phone"]
    assert (await ok(world, STATE_PRESIDENT, q, id=node["id"]))["node"] is None
    q = "query($id: ID!) { node(id: $id) { ... on CallLog { outcome } } }"
    assert (await ok(world, CALLER_LKO_M01, q, id=log["id"]))["node"] == {"outcome": "REACHED"}


ROLES = """
mutation($userId: ID!, $role: Role!, $unit: String!) { grantRole(userId: $userId, role: $role, unit: $unit) {
  id role unit { code level } } }"""


async def test_grant_and_revoke_roles(world: World) -> None:
    data = await ok(world, DISTRICT_PRESIDENT_LKO, ROLES, userId="u-000074", role="CALLER", unit=LKO_M01)
    granted = data["grantRole"]
    assert granted["role"] == "CALLER" and granted["unit"] == {"code": LKO_M01, "level": "MANDAL"}
    me = await ok(world, "u-000074", "{ me { assignments { id role unit { code } } permissions } }")
    assert me["me"]["assignments"] == [{"id": granted["id"], "role": "CALLER", "unit": {"code": LKO_M01}}]
    assert me["me"]["permissions"] == ["outreach.call"]
    for user, role, unit, code in [
        (DISTRICT_PRESIDENT_LKO, "DISTRICT_PRESIDENT", LKO, "FORBIDDEN"),
        (DISTRICT_PRESIDENT_LKO, "CALLER", AYD, "NOT_FOUND"),
        (DISTRICT_PRESIDENT_LKO, "BOOTH_PRESIDENT", LKO, "BAD_USER_INPUT"),
        (DISTRICT_PRESIDENT_LKO, "CALLER", LKO, "FORBIDDEN"),  # to oneself (user below)
    ]:
        target = DISTRICT_PRESIDENT_LKO if unit == LKO and role == "CALLER" else "u-000075"
        assert codes(await run(world, user, ROLES, userId=target, role=role, unit=unit)) == [code]
    revoke = "mutation($id: ID!) { revokeRole(assignmentId: $id) }"
    assert codes(await run(world, "u-000074", revoke, id=granted["id"])) == ["FORBIDDEN"]  # one's own
    assert (await ok(world, MANDAL_PRESIDENT_LKO_M01, revoke, id=granted["id"]))["revokeRole"] is True
    me = await ok(world, "u-000074", "{ me { assignments { id } permissions } }")
    assert me["me"] == {"assignments": [], "permissions": []}
    assert codes(await run(world, MANDAL_PRESIDENT_LKO_M01, revoke, id=granted["id"])) == ["NOT_FOUND"]


AUDIT = """
query($unit: String, $action: String, $first: Int, $after: String) {
  auditLog(unit: $unit, action: $action, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id at userId action unitCode records detail } }
  }
}"""


async def test_audit_log_scope(world: World) -> None:
    async def add(action: str, unit: str | None, user: str = STATE_PRESIDENT) -> None:
        unit_id = await world.conn.fetchval("select id from units where code = $1", unit) if unit else None
        await audit.record(
            world.conn, user_id=user, action=action, unit_id=unit_id, unit_code=unit, records=1, detail=None
        )

    await add("data.import", None, "boothgraph-cli")  # no unit: only a STATE-level cover sees it
    await add("voter.write", LKO_M01_B1)
    await add("voter.write", "UP-AWD-AYD-M01-B0001")
    await add("role.grant", LKO)
    await add("data.export", "UP-AWD")

    async def entries(user: str, **kw: Any) -> list[tuple[str, str | None]]:
        kw.setdefault("first", 500)  # loading the data set audited its role grants too
        page = (await ok(world, user, AUDIT, **kw))["auditLog"]
        assert page["totalCount"] == len(page["edges"])
        return [(e["node"]["action"], e["node"]["unitCode"]) for e in page["edges"]]

    loading = [  # what loading the data set wrote (the importer's data.import entry)
        (r["action"], r["unit_code"])
        for r in await world.conn.fetch("select * from audit_log where id <= $1 order by id desc", world.audit_base)
    ]
    everything = [
        ("data.export", "UP-AWD"),
        ("role.grant", LKO),
        ("voter.write", "UP-AWD-AYD-M01-B0001"),
        ("voter.write", LKO_M01_B1),
        ("data.import", None),
        *loading,
    ]
    assert await entries(STATE_PRESIDENT) == everything  # newest first
    assert await entries(STATE_IT) == everything

    def loaded_under(code: str) -> list[tuple[str, str | None]]:
        return [e for e in loading if e[1] is not None and (e[1] == code or e[1].startswith(code + "-"))]

    assert await entries(IT_CONVENOR_LKO) == [("role.grant", LKO), ("voter.write", LKO_M01_B1), *loaded_under(LKO)]
    assert await entries(IT_CONVENOR_LKO, unit=LKO_M01) == [("voter.write", LKO_M01_B1), *loaded_under(LKO_M01)]
    assert await entries(IT_CONVENOR_LKO, unit=AYD) == []
    assert await entries(IT_CONVENOR_LKO, action="role.grant") == [("role.grant", LKO), *loaded_under(LKO)]
    assert await entries(STATE_PRESIDENT, unit="UP") == [e for e in everything if e[1] is not None]
    for user in (DISTRICT_PRESIDENT_LKO, DISTRICT_CONVENOR_LKO, CALLER_LKO_M01):  # no audit.read
        assert await entries(user) == []

    page = (await ok(world, STATE_PRESIDENT, AUDIT, first=2))["auditLog"]
    assert page["pageInfo"]["hasNextPage"]
    nxt = (await ok(world, STATE_PRESIDENT, AUDIT, first=2, after=page["pageInfo"]["endCursor"]))["auditLog"]
    assert [e["node"]["action"] for e in nxt["edges"]] == ["voter.write", "voter.write"]
    assert codes(await run(world, STATE_PRESIDENT, AUDIT, after=page["pageInfo"]["endCursor"] + "x")) == [
        "BAD_USER_INPUT"
    ]
    assert codes(await run(world, STATE_PRESIDENT, AUDIT, first=501)) == ["BAD_USER_INPUT"]
    # A cursor is bound to its viewer and query.
    assert codes(await run(world, STATE_IT, AUDIT, first=2, after=page["pageInfo"]["endCursor"])) == ["BAD_USER_INPUT"]
    node_id = page["edges"][0]["node"]["id"]
    q = "query($id: ID!) { node(id: $id) { ... on AuditEntry { action } } }"
    assert (await ok(world, STATE_PRESIDENT, q, id=node_id))["node"] == {"action": "data.export"}
    assert (await ok(world, IT_CONVENOR_LKO, q, id=node_id))["node"] is None
