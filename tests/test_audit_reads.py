"""Clear reads are audited truthfully (service.md): one entry per request, action and booth the
returned voters lie in, `records` = the voters of that booth whose phone (or sensitive fields)
went out in clear, so that every auditor whose scope holds a returned voter sees it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from server import build_schema
from tests.conftest import DatabaseFactory
from tests.serverkit import bearer, client_for, settings_for
from tests.writes_support import (
    AYD,
    CALLER_LKO_M01,
    DISTRICT_CONVENOR_LKO,
    IT_CONVENOR_LKO,
    LKO,
    LKO_M01,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_IT,
)

TWO_DISTRICTS = "u-audit-two"  # DISTRICT_CONVENOR of LKO and AYD
IT_AYD = "u-audit-it-ayd"  # IT_CONVENOR of AYD
SENSITIVE = ("casteCategory", "caste", "economicStatus")
PAGE = """query($u: String) { voters(unit: $u, first: 500) { edges { node {
    epicNumber phone casteCategory caste economicStatus redactedFields booth { code } } } } }"""
AUDIT = """query($a: String, $after: String) { auditLog(action: $a, first: 500, after: $after) {
    edges { node { userId action unitCode records } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
async def app(db_factory: DatabaseFactory, read_template: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = await db_factory.create(template=read_template)
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "insert into users (id, name) values ($1, 'Two Districts'), ($2, 'IT Ayodhya')", TWO_DISTRICTS, IT_AYD
            )
            await conn.execute(
                """insert into assignments (user_id, role, unit_id)
                   select $1, 'DISTRICT_CONVENOR', id from units where code = any($3::text[])
                   union all select $2, 'IT_CONVENOR', id from units where code = $4""",
                TWO_DISTRICTS,
                IT_AYD,
                [LKO, AYD],
                AYD,
            )
        finally:
            await conn.close()
        overrides: dict[str, Any] = {"rate_limit_per_s": 1e6, "rate_limit_burst": 1_000_000}
        schema = build_schema(settings_for(url, **overrides))
        async with client_for(url, seeded=False, schema=schema, **overrides) as client:
            yield client, url
    finally:
        await db_factory.drop(url)


async def gql(client: httpx.AsyncClient, user: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    r = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(user))
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, r.text
    return body["data"]


async def entries_seen_by(client: httpx.AsyncClient, auditor: str, action: str, reader: str) -> list[tuple[str, int]]:
    """(unitCode, records) of `reader`'s entries of `action` in `auditor`'s auditLog, sorted."""
    seen: list[tuple[str, int]] = []
    after = None
    while True:
        page = (await gql(client, auditor, AUDIT, {"a": action, "after": after}))["auditLog"]
        seen += [(e["node"]["unitCode"], e["node"]["records"]) for e in page["edges"] if e["node"]["userId"] == reader]
        if not page["pageInfo"]["hasNextPage"]:
            return sorted(seen)
        after = page["pageInfo"]["endCursor"]


def clear_by_booth(voters: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    """Per booth: voters whose phone went out in clear, and whose sensitive fields did."""
    contact: Counter[str] = Counter()
    sensitive: Counter[str] = Counter()
    for v in voters:
        if v["phone"] is not None and "phone" not in v["redactedFields"]:
            contact[v["booth"]["code"]] += 1
        if any(v[k] is not None for k in SENSITIVE):
            sensitive[v["booth"]["code"]] += 1
    return contact, sensitive


def under(counts: Counter[str], district: str) -> list[tuple[str, int]]:
    return sorted((code, n) for code, n in counts.items() if code.startswith(district + "-"))


async def test_a_read_without_unit_is_logged_under_every_booth_it_touched(app) -> None:
    client, _ = app
    voters = [e["node"] for e in (await gql(client, TWO_DISTRICTS, PAGE))["voters"]["edges"]]
    contact, sensitive = clear_by_booth(voters)
    # The page holds voters of both districts, with phones and sensitive fields in clear.
    assert under(contact, LKO) and under(contact, AYD) and under(sensitive, LKO) and under(sensitive, AYD)
    for auditor, district in ((IT_CONVENOR_LKO, LKO), (IT_AYD, AYD)):
        assert await entries_seen_by(client, auditor, "voter.read_contact", TWO_DISTRICTS) == under(contact, district)
        assert await entries_seen_by(client, auditor, "voter.read_sensitive", TWO_DISTRICTS) == under(
            sensitive, district
        )
    # The state's auditor sees all of them, and nothing else was logged for the request.
    assert await entries_seen_by(client, STATE_IT, "voter.read_contact", TWO_DISTRICTS) == sorted(contact.items())
    assert await entries_seen_by(client, STATE_IT, "voter.read_sensitive", TWO_DISTRICTS) == sorted(sensitive.items())


async def test_a_read_of_an_ancestor_is_never_logged_above_the_readers_scope(app) -> None:
    client, url = app
    data = await gql(client, DISTRICT_CONVENOR_LKO, PAGE, {"u": "UP"})
    contact, sensitive = clear_by_booth([e["node"] for e in data["voters"]["edges"]])
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select action, unit_code, records from audit_log where user_id = $1 order by action, unit_code",
            DISTRICT_CONVENOR_LKO,
        )
    finally:
        await conn.close()
    # Whatever voters(unit: "UP") returns to a district official, its entries lie in their district.
    assert [tuple(r) for r in rows] == [("voter.read_contact", c, n) for c, n in sorted(contact.items())] + [
        ("voter.read_sensitive", c, n) for c, n in sorted(sensitive.items())
    ]
    assert all(code.startswith(LKO + "-") for _, code, _ in rows)


async def _audit_rows(url: str, user: str) -> list[tuple[str, str, int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select action, unit_code, records from audit_log where user_id = $1 and action like 'voter.read%' "
            "order by id",
            user,
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


async def test_a_call_list_without_phones_logs_no_contact_read(app) -> None:
    client, url = app
    today = dt.date.today()
    schemes = [s["code"] for s in (await gql(client, CALLER_LKO_M01, "{ schemes { code } }"))["schemes"]]
    created = await gql(
        client,
        MANDAL_PRESIDENT_LKO_M01,
        """mutation($i: CampaignInput!) { createCampaign(input: $i) { id } }""",
        {
            "i": {
                "name": "Feedback",
                "unit": LKO_M01,
                "schemes": schemes,
                "opensOn": (today - dt.timedelta(days=1)).isoformat(),
                "closesOn": (today + dt.timedelta(days=30)).isoformat(),
            }
        },
    )
    campaign = created["createCampaign"]["id"]
    assigned = await gql(
        client,
        MANDAL_PRESIDENT_LKO_M01,
        "mutation($i: AssignCallsInput!) { assignCalls(input: $i) }",
        {"i": {"campaignId": campaign, "callerId": CALLER_LKO_M01, "limit": 7}},
    )
    assert assigned["assignCalls"] > 0
    listed = await gql(client, CALLER_LKO_M01, "{ myCallList { edges { node { voter { epicNumber name } } } } }")
    assert len(listed["myCallList"]["edges"]) == assigned["assignCalls"]
    assert await _audit_rows(url, CALLER_LKO_M01) == []  # no phone selected: no contact read
    with_phone = await gql(
        client, CALLER_LKO_M01, "{ myCallList { edges { node { voter { phone booth { code } } } } } }"
    )
    booths = Counter(e["node"]["voter"]["booth"]["code"] for e in with_phone["myCallList"]["edges"])
    assert await _audit_rows(url, CALLER_LKO_M01) == [
        ("voter.read_contact", code, n) for code, n in sorted(booths.items())
    ]


async def test_a_survey_update_returning_only_the_epic_logs_no_read(app) -> None:
    client, url = app
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """select v.epic_number, b.code from voters v join units b on b.id = v.booth_id
               where b.code like $1 || '-%' and v.phone is not null and v.caste is not null
               order by v.id limit 1""",
            LKO,
        )
    finally:
        await conn.close()
    update = """mutation($e: String!) { updateVoterSurvey(input: {epicNumber: $e, phone: "9876500001"}) { %s } }"""
    await gql(client, DISTRICT_CONVENOR_LKO, update % "epicNumber", {"e": row["epic_number"]})
    assert await _audit_rows(url, DISTRICT_CONVENOR_LKO) == []
    await gql(client, DISTRICT_CONVENOR_LKO, update % "epicNumber phone caste", {"e": row["epic_number"]})
    assert await _audit_rows(url, DISTRICT_CONVENOR_LKO) == [
        ("voter.read_contact", row["code"], 1),
        ("voter.read_sensitive", row["code"], 1),
    ]
