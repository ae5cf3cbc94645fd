"""What the officials' app needs of the server (issue 14): name search in Devanagari, the team
list (`roleHolders`) inside the viewer's role.grant scope, a strict CSP on /app/, the message
catalogues and the app's size."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import Settings
from server import create_app
from tests.read_support import data
from tests.read_truth import Truth
from tests.serverkit import SECRET, running_server

WEB = Path(__file__).resolve().parent.parent / "web"
SEARCH_Q = """query($unit: String, $search: String!, $after: String) {
  voters(unit: $unit, filter: {search: $search}, first: 500, after: $after) {
    totalCount edges { node { epicNumber name nameHi } } pageInfo { hasNextPage endCursor } } }"""
SP, DP = "u-000001", "u-000006"


async def test_search_matches_the_hindi_name_from_its_start(read_pool: asyncpg.Pool, read_truth: Truth) -> None:
    hindi = read_truth.voters[7]["name_hi"]
    for search in ("पुष्", hindi[:2], hindi, hindi[1:3], "पुष्%", "Push"):
        got = await data(read_pool, SP, SEARCH_Q, {"search": search})
        want = read_truth.voter_list(SP, None, {"search": search}, "SERIAL")
        assert isinstance(want, list)
        assert [e["node"]["epicNumber"] for e in got["voters"]["edges"]] == [v["epic_number"] for v in want], search
        assert got["voters"]["totalCount"] == len(want)
    pushpa = await data(read_pool, DP, SEARCH_Q, {"unit": "UP-AWD-LKO", "search": "पुष्"})
    names = [e["node"]["nameHi"] for e in pushpa["voters"]["edges"]]
    assert names and all(n.startswith("पुष्") for n in names)


async def test_hindi_name_search_has_its_index(read_pool: asyncpg.Pool) -> None:
    async with read_pool.acquire() as conn, conn.transaction():
        await conn.execute("set local enable_seqscan = off")
        booth = await conn.fetchval("select id from units where level = 'BOOTH' order by id limit 1")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch("explain select id from voters where booth_id = $1 and name_hi like 'पुष्%'", booth)
        )
    assert "voters_booth_name_hi" in plan, plan


TEAM_Q = """query($unit: String!, $after: String) { roleHolders(unit: $unit, first: 7, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { userId userName assignment { id role unit { code } } } } } }"""


async def all_holders(pool: asyncpg.Pool, user: str, unit: str) -> tuple[list[tuple[str, str, str]], int]:
    out: list[tuple[str, str, str]] = []
    after, total = None, 0
    while True:
        page = (await data(pool, user, TEAM_Q, {"unit": unit, "after": after}))["roleHolders"]
        total = page["totalCount"]
        out += [
            (e["node"]["userId"], e["node"]["assignment"]["role"], e["node"]["assignment"]["unit"]["code"])
            for e in page["edges"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            return out, total
        after = page["pageInfo"]["endCursor"]


def expected_holders(truth: Truth, user: str, unit: str) -> list[tuple[str, str, str]]:
    visible = any(truth.under(unit, at) for _, at in truth.assignments.get(user, []))
    if not visible:
        return []
    return [
        (holder, role, code)
        for holder, held in truth.assignments.items()
        for role, code in held
        if truth.under(code, unit) and truth.has(user, "role.grant", code)
    ]


async def test_role_holders_of_a_district_for_its_president(read_pool: asyncpg.Pool, read_truth: Truth) -> None:
    got, total = await all_holders(read_pool, DP, "UP-AWD-LKO")
    want = expected_holders(read_truth, DP, "UP-AWD-LKO")
    assert sorted(got) == sorted(want) and total == len(want) > 10
    assert all(code.startswith("UP-AWD-LKO") for _, _, code in got)
    assert (await all_holders(read_pool, DP, "UP-KSI-VNS"))[0] == []  # another district: empty
    assert (await all_holders(read_pool, DP, "UP"))[0] == []  # above the scope: not visible, empty
    assert (await all_holders(read_pool, "u-000010", "UP-AWD-LKO"))[0] == []  # an IT convenor grants nothing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_role_holders_never_leave_the_viewers_grant_scope(
    read_pool: asyncpg.Pool, read_truth: Truth, data: st.DataObject
) -> None:
    user = data.draw(st.sampled_from(sorted(read_truth.users)), label="viewer")
    unit = data.draw(st.sampled_from(sorted(read_truth.units)), label="unit")
    got, total = await all_holders(read_pool, user, unit)
    want = expected_holders(read_truth, user, unit)
    assert sorted(got) == sorted(want)
    assert total == len(want)
    assert all(read_truth.has(user, "role.grant", code) for _, _, code in got)


async def test_app_pages_carry_a_strict_csp(read_db_url: str) -> None:
    app = create_app(Settings(database_url=read_db_url, jwt_secret=SECRET, graphiql=False))
    with running_server(app) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            for path in ("/app/", "/app/js/main.js", "/app/app.css"):
                response = await client.get(path)
                assert response.status_code == 200, path
                csp = response.headers["content-security-policy"]
                assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "connect-src 'self'" in csp
            page = (await client.get("/app/")).text
    assert "<script>" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    assert not re.search(r"\son\w+=", page)  # no inline handlers
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


def catalogue_keys(lang: str) -> dict[str, str]:
    text = (WEB / "js" / "messages" / f"{lang}.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s+"([^"]+)": "((?:[^"\\]|\\.)*)",$', text, re.M))


def test_both_catalogues_hold_the_same_messages_and_every_error_code() -> None:
    en, hi = catalogue_keys("en"), catalogue_keys("hi")
    assert en.keys() == hi.keys() and len(en) > 200
    root = Path(__file__).resolve().parent.parent
    status_rows = re.findall(r"^\| \d{3}(?: / \d{3})? \| (.*)$", (root / "README.md").read_text(), re.M)
    codes = {code for row in status_rows for code in re.findall(r"`([A-Z_]+)`", row)}  # README's HTTP table
    codes |= set(re.findall(r'code\s*=\s*"([A-Z_]+)"', (root / "core" / "errors.py").read_text()))
    assert {"UNAUTHENTICATED", "GRAPHQL_PARSE_FAILED", "PAYLOAD_TOO_LARGE", "INTERNAL_SERVER_ERROR"} <= codes
    missing = sorted(c for c in codes if f"error.{c}" not in en)
    assert missing == []
    assert all(re.search("[\u0900-\u097f]", v) for k, v in hi.items() if k.startswith("error."))
    assert hi["suppressed"] == "{minCell} से कम" and en["suppressed"] == "fewer than {minCell}"  # statsPolicy


def test_the_app_is_small_and_loads_nothing_from_elsewhere() -> None:
    files = [p for p in WEB.rglob("*") if p.suffix in (".js", ".css")]
    assert sum(p.stat().st_size for p in files) < 150_000
    for p in files:
        text = p.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', "")  # a name, not a request
        assert not re.search(r"https?://", text), p  # every request goes to the page's own origin
        assert ".innerHTML" not in text and "insertAdjacentHTML" not in text, p


CALLERS_Q = """query($id: ID!) { campaignCallers(campaignId: $id) { callerId callerName assigned called reached } }"""


async def test_campaign_progress_per_caller_only_for_its_managers(read_db_url: str) -> None:
    from resolvers.cursors import to_global_id
    from transfer.demo_campaign import seed_demo_campaign

    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await seed_demo_campaign(conn)
            want = {
                r["caller_id"]: r["n"]
                for r in await conn.fetch(
                    """select ca.caller_id, count(*) as n from call_assignments ca join voters v on v.id = ca.voter_id
                       where v.contact_consent <> 'DENIED' group by 1"""
                )
            }
            campaign = to_global_id("Campaign", await conn.fetchval("select id from campaigns"))
        got = (await data(pool, DP, CALLERS_Q, {"id": campaign}))["campaignCallers"]
        assert {r["callerId"]: r["assigned"] for r in got} == want and len(want) >= 3
        assert all(r["called"] == r["reached"] == 0 and r["callerName"] for r in got)
        for outsider in ("u-000013", "u-000010", "u-000030"):  # a caller, an IT convenor, elsewhere
            assert (await data(pool, outsider, CALLERS_Q, {"id": campaign}))["campaignCallers"] == []
        assert (await data(pool, DP, CALLERS_Q, {"id": "bm90LWFuLWlk"}))["campaignCallers"] == []
    finally:
        await pool.close()
