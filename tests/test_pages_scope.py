"""Page in-charges (docs/pages.md): held at one roll page of one booth, they read exactly that
page's voters (phone in clear, nothing sensitive) and nothing else, through the one scope filter;
a property test over random page in-charges and random queries; grants by booth presidents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.read_support import codes, data, run
from tests.writes_support import (
    BOOTH_PRESIDENT_LKO_M01_B1,
    BOOTH_PRESIDENT_LKO_M01_B2,
    CALLER_LKO_M01_B1,
    LKO_M01_B1,
    LKO_M01_B2,
    MANDAL_PRESIDENT_LKO_M01,
)

# Page in-charges made for this module: (user, booth code, page).
IN_CHARGES = [
    ("u-pg-01", "UP-AWD-LKO-M01-B0001", 1),
    ("u-pg-02", "UP-AWD-LKO-M01-B0001", 3),
    ("u-pg-03", "UP-AWD-LKO-M01-B0002", 2),
    ("u-pg-04", "UP-AWD-AYD-M02-B0003", 1),
    ("u-pg-05", "UP-KSI-PRJ-M02-B0001", 4),
    ("u-pg-06", "UP-KSI-VNS-M01-B0001", 2),
]
UNIT_CODES = [
    None, "UP", "UP-AWD", "UP-AWD-LKO", "UP-AWD-LKO-M01", "UP-AWD-LKO-M01-B0001", "UP-AWD-LKO-M01-B0002",
    "UP-AWD-AYD-M02-B0003", "UP-KSI-PRJ-M02-B0001", "UP-KSI-VNS-M01-B0001", "NOPE",
]  # fmt: skip
NODE = "epicNumber page phone casteCategory caste economicStatus redactedFields booth { code }"
LIST_Q = f"""query($unit: String, $page: Int, $filter: VoterFilter, $first: Int) {{
  voters(unit: $unit, page: $page, filter: $filter, first: $first) {{ totalCount edges {{ node {{ {NODE} }} }} }} }}"""


@pytest.fixture(scope="module")
async def pages_pool(db_factory, read_template: str) -> AsyncIterator[asyncpg.Pool]:
    """The tiny data set with the page in-charges above."""
    url = await db_factory.create(template=read_template)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    for user, booth, page in IN_CHARGES:
        await pool.execute("insert into users (id, name) values ($1, $1)", user)
        await pool.execute(
            """insert into assignments (user_id, role, unit_id, page)
               select $1, 'PAGE_INCHARGE', id, $3 from units where code = $2""",
            user,
            booth,
            page,
        )
    yield pool
    await pool.close()
    await db_factory.drop(url)


async def page_epics(pool: asyncpg.Pool, booth: str, page: int) -> list[str]:
    rows = await pool.fetch(
        """select v.epic_number from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.page = $2 order by v.serial_number""",
        booth,
        page,
    )
    return [r[0] for r in rows]


async def test_pages_are_thirty_serials_where_the_roll_gives_none(pages_pool: asyncpg.Pool) -> None:
    wrong = await pages_pool.fetchval("select count(*) from voters where page <> (serial_number - 1) / 30 + 1")
    assert wrong == 0
    sizes = await pages_pool.fetch("select booth_id, page, count(*) as n from voters group by 1, 2")
    assert sizes and all(1 <= r["n"] <= 30 for r in sizes)


async def test_a_page_incharge_reads_exactly_their_page(pages_pool: asyncpg.Pool) -> None:
    user, booth, page = IN_CHARGES[1]
    want = await page_epics(pages_pool, booth, page)
    assert 10 <= len(want) <= 30
    # Their whole scope, and the page asked for by booth and page: the same voters in roll order.
    for variables in ({}, {"unit": booth, "page": page}):
        got = (await data(pages_pool, user, LIST_Q, {**variables, "first": 100}))["voters"]
        assert got["totalCount"] == len(want)
        nodes = [e["node"] for e in got["edges"]]
        assert [n["epicNumber"] for n in nodes] == want
        assert {n["page"] for n in nodes} == {page}
        # Phone in clear for contact (none masked), nothing sensitive.
        assert all(n["phone"] is None or "*" not in n["phone"] for n in nodes)
        assert all(n["casteCategory"] is None and n["caste"] is None and n["economicStatus"] is None for n in nodes)
        assert all(n["redactedFields"] == ["casteCategory", "caste", "economicStatus"] for n in nodes)
    # The booth itself is above the page: not visible, so empty; another page of it too.
    for variables in ({"unit": booth}, {"unit": booth, "page": page + 1}, {"unit": "UP-AWD-LKO-M01"}):
        got = (await data(pages_pool, user, LIST_Q, {**variables, "first": 100}))["voters"]
        assert got == {"totalCount": 0, "edges": []}, variables
    other = await page_epics(pages_pool, booth, page + 1)
    me = await data(
        pages_pool,
        user,
        """query($epic: String!, $booth: String!) { voter(epicNumber: $epic) { epicNumber }
             unit(code: $booth) { code } me { permissions roots { code } assignments { role page unit { code } } } }""",
        {"epic": other[0], "booth": booth},
    )
    assert me["voter"] is None and me["unit"] is None
    assert me["me"] == {
        "permissions": ["voter.read", "voter.read_contact", "turnout.mark"],
        "roots": [],
        "assignments": [{"role": "PAGE_INCHARGE", "page": page, "unit": {"code": booth}}],
    }


async def test_a_sensitive_filter_is_forbidden_to_a_page_incharge(pages_pool: asyncpg.Pool) -> None:
    user, _booth, _page = IN_CHARGES[0]
    result = await run(pages_pool, user, LIST_Q, {"filter": {"casteCategory": ["OBC"]}})
    assert codes(result) == ["FORBIDDEN"]


async def test_the_booth_president_reads_a_page_with_everything_they_may(pages_pool: asyncpg.Pool) -> None:
    want = await page_epics(pages_pool, LKO_M01_B1, 2)
    got = (await data(pages_pool, BOOTH_PRESIDENT_LKO_M01_B1, LIST_Q, {"unit": LKO_M01_B1, "page": 2}))["voters"]
    assert [e["node"]["epicNumber"] for e in got["edges"]] == want
    assert all(e["node"]["redactedFields"] == [] for e in got["edges"])
    # Of a booth they cannot see: empty, as any invisible unit.
    got = (await data(pages_pool, BOOTH_PRESIDENT_LKO_M01_B1, LIST_Q, {"unit": LKO_M01_B2, "page": 2}))["voters"]
    assert got == {"totalCount": 0, "edges": []}
    # A page of a visible unit that is no booth is bad input.
    result = await run(pages_pool, MANDAL_PRESIDENT_LKO_M01, LIST_Q, {"unit": "UP-AWD-LKO-M01", "page": 2})
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_reading_a_page_is_audited_at_its_booth(pages_pool: asyncpg.Pool) -> None:
    """The contact read of a page in-charge is one voter.read_contact entry on the booth (the unit
    the records lie in: auditors of the booth and above see it)."""
    from server import record_reads
    from tests.read_support import context

    user, booth, page = IN_CHARGES[2]
    ctx = await context(pages_pool, user)
    from schema import schema

    result = await schema.execute("{ voters(first: 100) { edges { node { phone } } } }", context_value=ctx)
    assert result.errors is None
    with_phone = await pages_pool.fetchval(
        """select count(*) from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.page = $2 and v.phone is not null""",
        booth,
        page,
    )
    assert ctx.read_log.entries() == [("voter.read_contact", booth, with_phone)]
    assert callable(record_reads)


# ------------------------------------------------------------------- the property ---
queries = st.one_of(
    st.fixed_dictionaries(
        {
            "kind": st.just("list"),
            "unit": st.sampled_from(UNIT_CODES),
            "page": st.one_of(st.none(), st.integers(1, 5)),
            "filter": st.fixed_dictionaries(
                {},
                optional={
                    "gender": st.sampled_from(["MALE", "FEMALE"]),
                    "hasPhone": st.booleans(),
                    "search": st.sampled_from(["ra", "S", "mohd"]),
                },
            ),
        }
    ),
    st.fixed_dictionaries({"kind": st.just("voter"), "index": st.integers(0, 2003)}),
    st.fixed_dictionaries({"kind": st.just("household"), "index": st.integers(0, 2003)}),
    st.fixed_dictionaries(
        {"kind": st.just("households"), "unit": st.sampled_from(UNIT_CODES[1:]), "page": st.integers(1, 5)}
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(who=st.sampled_from(IN_CHARGES), query=queries)
async def test_nothing_outside_a_page_incharges_page_comes_back(
    pages_pool: asyncpg.Pool, who: tuple[str, str, int], query: dict[str, Any]
) -> None:
    user, booth, page = who
    mine = set(await page_epics(pages_pool, booth, page))
    epics = [r[0] for r in await pages_pool.fetch("select epic_number from voters order by id")]
    kind = query["kind"]
    if kind == "list":
        variables = {"unit": query["unit"], "page": query["page"], "filter": query["filter"], "first": 500}
        result = await run(pages_pool, user, LIST_Q, variables)
        if query["page"] is not None and query["unit"] is None:
            assert codes(result) == ["BAD_USER_INPUT"]
            return
        assert result.errors is None, result.errors
        assert result.data is not None
        got = {e["node"]["epicNumber"] for e in result.data["voters"]["edges"]}
        assert got <= mine
        assert result.data["voters"]["totalCount"] == len(got)
        # Exactly the page when asked for the page itself, or for the whole scope without a filter.
        if not query["filter"] and (
            (query["unit"], query["page"]) == (booth, page) or (query["unit"] is None and query["page"] is None)
        ):
            assert got == mine
    elif kind == "voter":
        epic = epics[query["index"] % len(epics)]
        found = await data(pages_pool, user, "query($e: String!) { voter(epicNumber: $e) { epicNumber } }", {"e": epic})
        assert (found["voter"] is not None) == (epic in mine)
    elif kind == "household":
        epic = epics[query["index"] % len(epics)]
        found = await data(
            pages_pool,
            user,
            "query($e: String!) { householdMembers(epicNumber: $e) { edges { node { epicNumber } } } }",
            {"e": epic},
        )
        got = {e["node"]["epicNumber"] for e in found["householdMembers"]["edges"]}
        assert got <= mine
        assert (epic in got) == (epic in mine)
    else:
        found = await data(
            pages_pool,
            user,
            "query($u: String!, $p: Int) {"
            " households(unit: $u, page: $p, first: 500) { edges { node { key size pages } } } }",
            {"u": query["unit"], "p": query["page"]},
        )
        nodes = [e["node"] for e in found["households"]["edges"]]
        if (query["unit"], query["page"]) != (booth, page):
            assert nodes == []
        else:
            keyed = await pages_pool.fetchval(
                """select count(*) from voters v join units b on b.id = v.booth_id
                   where b.code = $1 and v.page = $2 and v.household is not null""",
                booth,
                page,
            )
            assert sum(n["size"] for n in nodes) == keyed and all(n["pages"] == [page] for n in nodes)


# ------------------------------------------------------------------------ grants ---
GRANT = """mutation($user: ID!, $role: Role!, $unit: String!, $page: Int) {
  grantRole(userId: $user, role: $role, unit: $unit, page: $page) { id role page unit { code level } } }"""


@pytest.fixture
async def grants_pool(db_factory, read_template: str) -> AsyncIterator[asyncpg.Pool]:
    url = await db_factory.create(template=read_template)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    await pool.execute("insert into users (id, name) values ('u-new-1', 'New One'), ('u-new-2', 'New Two')")
    yield pool
    await pool.close()
    await db_factory.drop(url)


async def test_a_booth_president_appoints_and_revokes_page_incharges(grants_pool: asyncpg.Pool) -> None:
    pool = grants_pool
    made = await data(pool, BOOTH_PRESIDENT_LKO_M01_B1, GRANT, {"user": "u-new-1", "role": "PAGE_INCHARGE",
                                                                 "unit": LKO_M01_B1, "page": 4})  # fmt: skip
    assert made["grantRole"]["role"] == "PAGE_INCHARGE" and made["grantRole"]["page"] == 4
    assert made["grantRole"]["unit"] == {"code": LKO_M01_B1, "level": "BOOTH"}
    got = (await data(pool, "u-new-1", LIST_Q, {"first": 100}))["voters"]
    assert {e["node"]["epicNumber"] for e in got["edges"]} == set(await page_epics(pool, LKO_M01_B1, 4))
    entry = await pool.fetchrow("select user_id, unit_code, detail from audit_log where action = 'role.grant' "
                                "order by id desc limit 1")  # fmt: skip
    assert entry["user_id"] == BOOTH_PRESIDENT_LKO_M01_B1 and entry["unit_code"] == LKO_M01_B1
    assert '"page":4' in entry["detail"] and '"role":"PAGE_INCHARGE"' in entry["detail"]
    # The same grant again changes nothing (one assignment per user, role, booth and page).
    await data(pool, BOOTH_PRESIDENT_LKO_M01_B1, GRANT, {"user": "u-new-1", "role": "PAGE_INCHARGE",
                                                          "unit": LKO_M01_B1, "page": 4})  # fmt: skip
    assert await pool.fetchval("select count(*) from assignments where user_id = 'u-new-1'") == 1
    revoked = await data(
        pool, BOOTH_PRESIDENT_LKO_M01_B1, "mutation($id: ID!) { revokeRole(assignmentId: $id) }",
        {"id": made["grantRole"]["id"]},
    )  # fmt: skip
    assert revoked == {"revokeRole": True}
    assert (await data(pool, "u-new-1", LIST_Q, {}))["voters"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("granter", "variables", "code"),
    [
        # Not below the booth president: their page roles only, not CALLER (no role.grant).
        (BOOTH_PRESIDENT_LKO_M01_B1, {"role": "CALLER", "unit": LKO_M01_B1}, "FORBIDDEN"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"role": "PAGE_INCHARGE", "unit": LKO_M01_B1}, "BAD_USER_INPUT"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"role": "CALLER", "unit": LKO_M01_B1, "page": 2}, "BAD_USER_INPUT"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"role": "PAGE_INCHARGE", "unit": LKO_M01_B2, "page": 2}, "NOT_FOUND"),
        (BOOTH_PRESIDENT_LKO_M01_B1, {"role": "PAGE_INCHARGE", "unit": LKO_M01_B1, "page": 0}, "BAD_USER_INPUT"),
        (BOOTH_PRESIDENT_LKO_M01_B2, {"role": "PAGE_INCHARGE", "unit": LKO_M01_B1, "page": 2}, "NOT_FOUND"),
        (CALLER_LKO_M01_B1, {"role": "PAGE_INCHARGE", "unit": LKO_M01_B1, "page": 2}, "FORBIDDEN"),
        (MANDAL_PRESIDENT_LKO_M01, {"role": "PAGE_INCHARGE", "unit": "UP-AWD-LKO-M01", "page": 2}, "BAD_USER_INPUT"),
        # Never to oneself.
        (
            BOOTH_PRESIDENT_LKO_M01_B1,
            {"role": "PAGE_INCHARGE", "unit": LKO_M01_B1, "page": 2, "user": BOOTH_PRESIDENT_LKO_M01_B1},
            "FORBIDDEN",
        ),  # noqa: E501
    ],
)
async def test_page_grants_refused(
    grants_pool: asyncpg.Pool, granter: str, variables: dict[str, Any], code: str
) -> None:
    before = await grants_pool.fetchval("select count(*) from assignments")
    result = await run(grants_pool, granter, GRANT, {"user": "u-new-2", **variables})
    assert codes(result) == [code]
    assert await grants_pool.fetchval("select count(*) from assignments") == before


async def test_the_mandal_president_appoints_page_incharges_by_role_grant(grants_pool: asyncpg.Pool) -> None:
    made = await data(grants_pool, MANDAL_PRESIDENT_LKO_M01, GRANT, {"user": "u-new-2", "role": "PAGE_INCHARGE",
                                                                      "unit": LKO_M01_B2, "page": 1})  # fmt: skip
    assert made["grantRole"]["page"] == 1
    # A page in-charge cannot then be made anything by the booth president whose rank they share a line with
    # only when they outrank them: they do not, so the booth president may revoke the page role.
    revoked = await data(
        grants_pool, BOOTH_PRESIDENT_LKO_M01_B2, "mutation($id: ID!) { revokeRole(assignmentId: $id) }",
        {"id": made["grantRole"]["id"]},
    )  # fmt: skip
    assert revoked == {"revokeRole": True}


PAGE_STATS = """query($unit: String!, $page: Int!) { pageStats(unit: $unit, page: $page) {
  voters withPhone contactable households surveyed suppressed
  byGender { key count } byAgeBand { key count } byCasteCategory { key count } byEconomicStatus { key count } } }"""


async def test_page_statistics_live_and_sensitive_only_in_clear(pages_pool: asyncpg.Pool) -> None:
    want = await pages_pool.fetchrow(
        """select count(*) as voters, count(v.phone) as with_phone,
                  count(v.phone) filter (where v.contact_consent <> 'DENIED') as contactable,
                  count(distinct v.household) as households,
                  count(*) filter (where v.caste_category is not null or v.economic_status is not null) as surveyed,
                  count(*) filter (where v.gender = 'MALE') as male
           from voters v join units b on b.id = v.booth_id where b.code = $1 and v.page = 2""",
        LKO_M01_B1,
    )
    # The booth president (voter.read_sensitive): everything in clear.
    got = (await data(pages_pool, BOOTH_PRESIDENT_LKO_M01_B1, PAGE_STATS, {"unit": LKO_M01_B1, "page": 2}))["pageStats"]
    for name in ("voters", "contactable", "households", "surveyed"):
        assert got[name] == want[name], name
    assert got["withPhone"] == want["with_phone"] and not got["suppressed"]
    assert {"key": "MALE", "count": want["male"]} in got["byGender"]
    assert sum(b["count"] for b in got["byCasteCategory"]) <= want["voters"] and got["byCasteCategory"]
    # The district president (stats.read, no voter.read_sensitive): the sensitive breakdowns withheld.
    got = (await data(pages_pool, "u-000006", PAGE_STATS, {"unit": LKO_M01_B1, "page": 2}))["pageStats"]
    assert got["voters"] == want["voters"] and got["byCasteCategory"] == [] and got["byEconomicStatus"] == []
    assert got["suppressed"] is True
    # The page in-charge holds no stats.read; another booth's president cannot see the page.
    for user in (IN_CHARGES[0][0], BOOTH_PRESIDENT_LKO_M01_B2):
        assert (await data(pages_pool, user, PAGE_STATS, {"unit": LKO_M01_B1, "page": 2}))["pageStats"] is None
