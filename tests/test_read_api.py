"""The read API, case by case, on the tiny data set (expected values from tests/read_truth.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import asyncpg

from core.errors import BadUserInput
from core.settings import Settings
from core.viewer import load_viewer
from policies import PolicyEngine
from policies.engine import POLICY_DIR
from schema import schema
from schema.context import Context
from tests.read_support import SETTINGS, CountingPool, codes, context, data, run
from tests.read_truth import STATS_SELECTION, Truth, gid

SP = "u-000001"  # STATE_PRESIDENT at UP
DP = "u-000006"  # DISTRICT_PRESIDENT at UP-AWD-LKO
DI = "u-000007"  # DISTRICT_INCHARGE at UP-AWD-LKO and UP-AWD-AYD
DC = "u-000008"  # DISTRICT_CONVENOR at UP-AWD-LKO
CALLER = "u-000013"  # CALLER at UP-AWD-LKO
MP_CALLER = "u-000014"  # MANDAL_PRESIDENT and CALLER at UP-AWD-LKO-M01
BP = "u-000018"  # BOOTH_PRESIDENT at UP-AWD-LKO-M01-B0002
NOBODY = "u-000075"  # no assignment
LKO = "UP-AWD-LKO"
B1 = "UP-AWD-LKO-M01-B0001"
B2 = "UP-AWD-LKO-M01-B0002"

NODE = (
    "epicNumber phone casteCategory caste economicStatus redactedFields booth { code } "
    "schemes { scheme { code } since }"
)
FIELDS = ("epicNumber", "phone", "casteCategory", "caste", "economicStatus", "redactedFields", "booth", "schemes")

VOTERS_Q = f"""query($unit: String, $first: Int, $after: String, $filter: VoterFilter, $order: VoterOrder) {{
  voters(unit: $unit, first: $first, after: $after, filter: $filter, orderBy: $order) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {NODE} }} }}
  }}
}}"""


async def _all_pages(pool, user, variables, first):
    seen, after, pages = [], None, 0
    while True:
        d = await data(pool, user, VOTERS_Q, {**variables, "first": first, "after": after})
        conn = d["voters"]
        seen += [e["node"] for e in conn["edges"]]
        assert [e["cursor"] for e in conn["edges"]][-1:] == ([conn["pageInfo"]["endCursor"]] if conn["edges"] else [])
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            return seen, conn["totalCount"], pages
        after = conn["pageInfo"]["endCursor"]


async def test_voter_pages_walk_the_roll_in_each_order(read_pool, read_truth: Truth) -> None:
    for order in ("SERIAL", "NAME", "AGE"):
        got, total, pages = await _all_pages(read_pool, DC, {"unit": "UP-AWD-LKO-M01", "order": order}, 37)
        want = read_truth.voter_list(DC, "UP-AWD-LKO-M01", {}, order)
        assert isinstance(want, list)
        assert got == [read_truth.voter(DC, v["epic_number"], FIELDS) for v in want]
        assert total == len(want) and pages == -(-len(want) // 37)


async def test_first_must_be_0_to_500(read_pool) -> None:
    for first in (-1, 501):
        for query in (
            "query($f: Int) { voters(first: $f) { totalCount } }",
            "query($f: Int) { units(first: $f) { totalCount } }",
            'query($f: Int) { unit(code: "UP") { children(first: $f) { totalCount } } }',
            'query($f: Int) { voter(epicNumber: "LLX3604800") { calls(first: $f) { totalCount } } }',
        ):
            result = await run(read_pool, SP, query, {"f": first})
            assert codes(result) == ["BAD_USER_INPUT"], (query, first)
    d = await data(read_pool, SP, "{ voters(first: 0) { edges { cursor } pageInfo { hasNextPage endCursor } } }")
    assert d == {"voters": {"edges": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}}
    d = await data(read_pool, SP, "{ voters(first: 500) { edges { cursor } } }")
    assert len(d["voters"]["edges"]) == 500


async def test_cursors_are_tamper_proof_and_bound_to_their_query(read_pool) -> None:
    first = await data(read_pool, DC, VOTERS_Q, {"unit": LKO, "first": 5})
    cursor = first["voters"]["pageInfo"]["endCursor"]
    body, sig = cursor.split(".")
    forged_body = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    bad = [
        ({"unit": LKO, "after": forged_body + "." + sig}, DC),  # altered values
        ({"unit": LKO, "after": body + "." + sig[::-1]}, DC),  # altered signature
        ({"unit": LKO, "after": "garbage"}, DC),
        ({"unit": LKO, "after": ""}, DC),
        ({"unit": LKO, "after": cursor, "order": "AGE"}, DC),  # another order
        ({"unit": LKO, "after": cursor, "filter": {"gender": "MALE"}}, DC),  # another filter
        ({"unit": "UP-AWD-LKO-M01", "after": cursor}, DC),  # another unit
        ({"unit": LKO, "after": cursor}, DP),  # another viewer
    ]
    for variables, user in bad:
        result = await run(read_pool, user, VOTERS_Q, {"first": 5, **variables})
        assert codes(result) == ["BAD_USER_INPUT"], variables
        assert result.data is None
    again = await data(read_pool, DC, VOTERS_Q, {"unit": LKO, "first": 5, "after": cursor})
    assert again["voters"]["edges"]


async def test_search_is_a_case_insensitive_prefix_or_exact_epic_with_literal_wildcards(
    read_pool, read_truth: Truth
) -> None:
    epic = read_truth.voters[7]["epic_number"]
    name = read_truth.voters[7]["name"]
    for search in ("%", "_", "a%", "\\", "_a", name[:3].upper(), name.lower(), epic, epic.lower(), ""):
        got, total, _ = await _all_pages(read_pool, SP, {"filter": {"search": search}}, 500)
        want = read_truth.voter_list(SP, None, {"search": search}, "SERIAL")
        assert isinstance(want, list)
        assert [v["epicNumber"] for v in got] == [v["epic_number"] for v in want], search
        assert total == len(want)
    assert (await data(read_pool, SP, '{ units(search: "%") { totalCount } }'))["units"]["totalCount"] == 0
    assert (await data(read_pool, SP, '{ units(search: "_") { totalCount } }'))["units"]["totalCount"] == 0


async def test_units_by_level_and_name_prefix_in_depth_code_order(read_pool, read_truth: Truth) -> None:
    q = """query($level: Level, $search: String, $after: String) {
      units(level: $level, search: $search, first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { code level } } } }"""
    for user, level, search in ((SP, None, None), (DI, "MANDAL", None), (DC, None, "primary"), (BP, None, None)):
        got, after = [], None
        while True:
            d = (await data(read_pool, user, q, {"level": level, "search": search, "after": after}))["units"]
            got += [e["node"]["code"] for e in d["edges"]]
            if not d["pageInfo"]["hasNextPage"]:
                break
            after = d["pageInfo"]["endCursor"]
        want = sorted(
            (
                c
                for c, u in read_truth.units.items()
                if read_truth.has(user, "unit.read", c)
                and (level is None or u["level"] == level)
                and (search is None or u["name"].lower().startswith(search))
            ),
            key=lambda c: (len(read_truth.chain[c]), c),
        )
        assert got == want and d["totalCount"] == len(want)
    assert (await data(read_pool, CALLER, "{ units { totalCount edges { node { code } } } }")) == {
        "units": {"totalCount": 0, "edges": []}
    }


async def test_total_count_only_when_selected_from_rollups_without_filter(read_pool, read_truth: Truth) -> None:
    ctx = await context(CountingPool(read_pool), DI)
    q = "query($f: VoterFilter) { voters(filter: $f, first: 2) { totalCount edges { node { epicNumber } } } }"
    result = await schema.execute(q, context_value=ctx)
    assert result.errors is None and result.data
    assert result.data["voters"]["totalCount"] == len(read_truth.voter_list(DI, None, {}, "SERIAL"))
    assert len(ctx.pool.statements) == 2 and "unit_rollups" in ctx.pool.statements[0]

    ctx = await context(CountingPool(read_pool), DI)
    result = await schema.execute(q, variable_values={"f": {"gender": "FEMALE"}}, context_value=ctx)
    assert result.data and result.data["voters"]["totalCount"] == len(
        read_truth.voter_list(DI, None, {"gender": "FEMALE"}, "SERIAL")
    )
    assert "count(*)" in ctx.pool.statements[0] and len(ctx.pool.statements) == 2

    ctx = await context(CountingPool(read_pool), DI)
    result = await schema.execute(
        "{ voters(first: 2) { edges { node { epicNumber schemes { since } } } } }", context_value=ctx
    )
    assert result.errors is None and len(ctx.pool.statements) == 1  # one statement for the page and its nesting

    ctx = await context(CountingPool(read_pool), DI)
    result = await schema.execute("{ voters { totalCount } }", context_value=ctx)
    assert result.errors is None and len(ctx.pool.statements) == 1  # no page fetched when not selected


async def test_stats_of_a_page_of_units_is_one_statement(read_pool, read_truth: Truth) -> None:
    q = f'{{ unit(code: "UP") {{ children {{ edges {{ node {{ code stats {{ {STATS_SELECTION} }} }} }} }} }} }}'
    ctx = await context(CountingPool(read_pool), SP)
    result = await schema.execute(q, context_value=ctx)
    assert result.errors is None and result.data
    assert [e["node"] for e in result.data["unit"]["children"]["edges"]] == [
        {"code": c, "stats": read_truth.stats(SP, c)} for c in ("UP-AWD", "UP-KSI")
    ]
    assert len(ctx.pool.statements) == 3  # the unit, the children page, the stats of both
    ctx = await context(CountingPool(read_pool), SP)
    q = "{ units(level: BOOTH, first: 30) { edges { node { stats { voters byCaste(top: 2) { key } } } } } }"
    result = await schema.execute(q, context_value=ctx)
    assert result.errors is None and len(ctx.pool.statements) == 2


async def test_stats_follow_the_stats_cover_and_suppress_without_read_sensitive(read_pool, read_truth: Truth) -> None:
    q = f"query($c: String!) {{ unit(code: $c) {{ stats {{ {STATS_SELECTION} }} }} }}"
    for user, code in ((SP, "UP"), (DP, LKO), (DC, LKO), (BP, B2), (DI, "UP-AWD-AYD"), (SP, B2)):
        d = await data(read_pool, user, q, {"c": code})
        assert d == {"unit": {"stats": read_truth.stats(user, code)}}, (user, code)
    # the small-cell booth: 1-4 ST voters, suppressed for the district president, clear for the convenor
    dp = (await data(read_pool, DP, q, {"c": B2}))["unit"]["stats"]
    dc = (await data(read_pool, DC, q, {"c": B2}))["unit"]["stats"]
    assert dp["suppressed"] and not dc["suppressed"]
    assert [b for b in dp["byCasteCategory"] if b["key"] == "ST"] == [{"key": "ST", "count": None}]
    assert 1 <= [b for b in dc["byCasteCategory"] if b["key"] == "ST"][0]["count"] <= 4
    assert (await data(read_pool, SP, '{ unit(code: "UP") { stats { byCaste(top: 0) { key } } } }')) == {
        "unit": {"stats": {"byCaste": []}}
    }
    assert codes(await run(read_pool, SP, '{ unit(code: "UP") { stats { byCaste(top: -1) { key } } } }')) == [
        "BAD_USER_INPUT"
    ]


async def test_sensitive_filters_need_read_sensitive_over_every_voter_the_query_could_return(read_pool) -> None:
    q = "query($u: String, $f: VoterFilter) { voters(unit: $u, filter: $f, first: 1) { totalCount } }"
    caste = {"casteCategory": ["ST"]}
    econ = {"economicStatus": ["HIGH_INCOME"]}
    for user, unit, flt, code in (
        (DP, None, caste, "FORBIDDEN"),
        (DP, B2, econ, "FORBIDDEN"),
        (DP, "UP-KSI", caste, None),  # nothing there for them: empty, not an error
        (DP, "NO-SUCH-UNIT", caste, None),
        (DC, None, caste, None),
        (DC, None, {"casteCategory": []}, None),
        (BP, None, econ, None),
        (SP, None, {"economicStatus": []}, "FORBIDDEN"),
        (CALLER, None, caste, None),  # no voter.read anywhere: nothing, no error
        ("u-000011", LKO, caste, None),  # SOCIAL_MEDIA_CONVENOR
    ):
        result = await run(read_pool, user, q, {"u": unit, "f": flt})
        assert codes(result) == ([code] if code else []), (user, unit, flt)
    d = await data(read_pool, DC, q, {"u": B2, "f": caste})
    assert 1 <= d["voters"]["totalCount"] <= 4


async def test_me(read_pool, read_truth: Truth) -> None:
    q = "{ me { id name assignments { id role unit { code name nameHi level } } permissions roots { code level } } }"
    for user in (SP, DI, MP_CALLER, "u-000016", CALLER, NOBODY):
        d = await data(read_pool, user, q)
        pool_rows = await read_pool.fetch("select id, role from assignments where user_id = $1 order by id", user)
        assert d == {
            "me": {
                "id": user,
                "name": read_truth.users[user],
                "assignments": [
                    {"id": gid("Assignment", r["id"]), "role": r["role"], "unit": read_truth.ref(code)}
                    for r, (_, code) in zip(pool_rows, read_truth.assignments.get(user, []), strict=True)
                ],
                "permissions": read_truth.permissions(user),
                "roots": [{"code": c, "level": read_truth.level(c)} for c in read_truth.roots(user)],
            }
        }, user


async def test_units_parent_path_children(read_pool, read_truth: Truth) -> None:
    q = """query($c: String!) { unit(code: $c) { id code name nameHi level parent { code }
        path { code name nameHi level } children { totalCount edges { node { code parent { code } } } } } }"""
    for user, code in ((BP, B2), (DP, "UP-AWD-LKO-M01"), (DP, LKO), (SP, "UP"), (DI, "UP-AWD-AYD"), (DP, "UP-AWD")):
        d = await data(read_pool, user, q, {"c": code})
        if not read_truth.has(user, "unit.read", code):
            assert d == {"unit": None}
            continue
        u = read_truth.units[code]
        parent = u["parent_code"]
        kids = [c for c, k in read_truth.units.items() if k["parent_code"] == code]
        assert d == {
            "unit": {
                "id": gid("Unit", read_truth.unit_id[code]),
                **read_truth.ref(code),
                "parent": {"code": parent} if parent and read_truth.has(user, "unit.read", parent) else None,
                "path": [read_truth.ref(c) for c in read_truth.chain[code][:-1]],
                "children": {
                    "totalCount": len(kids),
                    "edges": [{"node": {"code": k, "parent": {"code": code}}} for k in sorted(kids)],
                },
            }
        }


async def test_node_ids(read_pool, read_truth: Truth) -> None:
    epic = read_truth.voters_under(B2)[0]["epic_number"]
    q = """query($id: ID!) { node(id: $id) { id __typename ... on Unit { code } ... on Voter { epicNumber phone } } }"""
    unit_id, voter_id = gid("Unit", read_truth.unit_id[B2]), gid("Voter", read_truth.voter_id[epic])
    v = read_truth.by_epic[epic]
    assert await data(read_pool, BP, q, {"id": unit_id}) == {"node": {"id": unit_id, "__typename": "Unit", "code": B2}}
    assert await data(read_pool, BP, q, {"id": voter_id}) == {
        "node": {"id": voter_id, "__typename": "Voter", "epicNumber": epic, "phone": v["phone"] or None}
    }
    for malformed in (
        "",
        "x",
        "VW5pdDox!",
        gid("Unit", 10**30),
        gid("Nope", 1),
        gid("Unit", -1),
        "VW5pdA==",
        gid("Voter", 0),
    ):
        assert await data(read_pool, SP, q, {"id": malformed}) == {"node": None}, malformed
    for kind in ("Campaign", "CallAssignment", "CallLog", "AuditEntry"):
        assert await data(read_pool, SP, q, {"id": gid(kind, 10**9)}) == {"node": None}
    entry = await read_pool.fetchval("select max(id) from audit_log")
    if entry is not None:  # the importer's data.import entry: in the state's audit.read cover only
        audit = gid("AuditEntry", entry)
        assert await data(read_pool, SP, q, {"id": audit}) == {"node": {"id": audit, "__typename": "AuditEntry"}}
        assert await data(read_pool, BP, q, {"id": audit}) == {"node": None}
    assert await data(read_pool, "u-000019", q, {"id": voter_id}) == {"node": None}  # MANDAL_PRESIDENT of M02


async def test_schemes_for_anyone(read_pool, read_truth: Truth) -> None:
    d = await data(read_pool, NOBODY, "{ schemes { code name nameHi } }")
    assert d == {
        "schemes": [
            {"code": c, "name": s["name"], "nameHi": s["name_hi"] or None}
            for c, s in sorted(read_truth.schemes.items())
        ]
    }


async def test_clear_reads_are_noted_with_the_unit_of_the_query(read_pool, read_truth: Truth) -> None:
    ctx = await context(read_pool, DC)
    q = "query($u: String) { voters(unit: $u, first: 500) { edges { node { epicNumber phone } } } }"
    await schema.execute(q, variable_values={"u": B1}, context_value=ctx)
    with_phone = sum(1 for v in read_truth.voters_under(B1) if v["phone"])
    assert ctx.read_log.entries() == [("voter.read_contact", B1, with_phone)]
    ctx = await context(read_pool, DC)
    await schema.execute("{ voters(first: 5) { edges { node { epicNumber redactedFields } } } }", context_value=ctx)
    assert ctx.read_log.entries() == []  # nothing read in clear: phone and sensitive fields not selected
    ctx = await context(read_pool, DP)  # no read_contact: masked phones are not clear reads
    await schema.execute(q, variable_values={"u": B1}, context_value=ctx)
    assert ctx.read_log.entries() == []
    ctx = await context(read_pool, DC)
    epic = read_truth.voters_under(B2)[3]["epic_number"]
    await schema.execute(
        "query($e: String!) { voter(epicNumber: $e) { caste } }", variable_values={"e": epic}, context_value=ctx
    )
    assert ctx.read_log.entries() == (
        [("voter.read_sensitive", B2, 1)]
        if any(read_truth.by_epic[epic][k] for k in ("caste_category", "caste", "economic_status"))
        else []
    )


async def test_policy_file_reload_changes_decisions(read_pool, read_truth: Truth, tmp_path: Path) -> None:
    policy_dir = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policy_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    engine = PolicyEngine(policy_dir)
    epic = next(v["epic_number"] for v in read_truth.voters_under(B2) if v["caste"] and v["phone"])
    q = "query($e: String!) { voter(epicNumber: $e) { caste phone redactedFields } }"
    v = read_truth.by_epic[epic]
    before = await run(read_pool, BP, q, {"e": epic}, policy=engine)
    assert before.data == {"voter": {"caste": v["caste"], "phone": v["phone"], "redactedFields": []}}
    csv = policy_dir / "policy.csv"
    csv.write_text(csv.read_text().replace("p, BOOTH_PRESIDENT, voter.read_sensitive\n", ""))
    assert engine.reload_if_changed()
    after = await run(read_pool, BP, q, {"e": epic}, policy=engine)
    assert after.data == {
        "voter": {"caste": None, "phone": v["phone"], "redactedFields": ["casteCategory", "caste", "economicStatus"]}
    }
    csv.write_text(csv.read_text().replace("p, BOOTH_PRESIDENT, voter.read\n", ""))
    assert engine.reload_if_changed()
    assert (await run(read_pool, BP, q, {"e": epic}, policy=engine)).data == {"voter": None}
    assert not engine.reload_if_changed()


async def test_revoked_assignment_sees_nothing_at_the_next_request(read_db_url: str, read_truth: Truth) -> None:
    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    try:
        q = """{ me { assignments { role } roots { code } } unit(code: "UP-AWD-LKO") { code }
                 voters(first: 1) { totalCount } units { totalCount } }"""
        before = await data(pool, DP, q)
        assert before["unit"] == {"code": LKO} and before["voters"]["totalCount"] == len(read_truth.voters_under(LKO))
        await pool.execute("delete from assignments where user_id = $1", DP)
        after = await data(pool, DP, q)
        assert after == {
            "me": {"assignments": [], "roots": []},
            "unit": None,
            "voters": {"totalCount": 0},
            "units": {"totalCount": 0},
        }
    finally:
        await pool.close()


async def _outreach_world(pool: asyncpg.Pool, read_truth: Truth, *, opens: dt.date, closes: dt.date):
    """A campaign at LKO with two call-list entries for CALLER and a call log on the first."""
    voters = [v for v in read_truth.voters_under(B2) if v["phone"] and v["contact_consent"] != "DENIED"][:2]
    denied = next(v for v in read_truth.voters_under(B2) if v["contact_consent"] == "DENIED")
    campaign = await pool.fetchval(
        "insert into campaigns (name, unit_id, schemes, opens_on, closes_on, created_by) "
        "values ('c', $1, '{PMUY}', $2, $3, $4) returning id",
        read_truth.unit_id[LKO],
        opens,
        closes,
        DP,
    )
    ids = []
    for v in [*voters, denied]:
        ids.append(
            await pool.fetchval(
                "insert into call_assignments (campaign_id, voter_id, caller_id, assigned_by) "
                "values ($1, $2, $3, $4) returning id",
                campaign,
                read_truth.voter_id[v["epic_number"]],
                CALLER,
                DP,
            )
        )
    log = await pool.fetchval(
        "insert into call_logs (assignment_id, voter_id, caller_id, outcome, notes) "
        "values ($1, $2, $3, 'REACHED', 'ok') returning id",
        ids[0],
        read_truth.voter_id[voters[0]["epic_number"]],
        CALLER,
    )
    return campaign, voters, denied, log


async def test_a_caller_sees_only_own_call_list_voters_of_open_campaigns(read_db_url: str, read_truth: Truth) -> None:
    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    try:
        today = dt.date.today()
        campaign, voters, denied, log = await _outreach_world(
            pool, read_truth, opens=today - dt.timedelta(days=1), closes=today + dt.timedelta(days=1)
        )
        q = """query($e: String!) { voter(epicNumber: $e) { epicNumber phone casteCategory caste economicStatus
                 redactedFields schemes { scheme { code } } booth { code parent { code } stats { voters }
                 voters { totalCount } children { totalCount } }
                 calls { totalCount edges { node { id outcome notes callerId } } } } }"""
        epic = voters[0]["epic_number"]
        v = read_truth.by_epic[epic]
        got = await data(pool, CALLER, q, {"e": epic})
        assert got == {
            "voter": {
                "epicNumber": epic,
                "phone": v["phone"],
                "casteCategory": None,
                "caste": None,
                "economicStatus": None,
                "redactedFields": ["casteCategory", "caste", "economicStatus"],
                "schemes": [{"scheme": {"code": c}} for c in sorted(read_truth.benefits.get(epic, {}))],
                "booth": {
                    "code": B2,
                    "parent": None,
                    "stats": {"voters": 0},
                    "voters": {"totalCount": 0},
                    "children": {"totalCount": 0},
                },
                "calls": {
                    "totalCount": 1,
                    "edges": [
                        {"node": {"id": gid("CallLog", log), "outcome": "REACHED", "notes": "ok", "callerId": CALLER}}
                    ],
                },
            }
        }
        # not on the list, DENIED consent, or a list of somebody else: nothing
        others = [x for x in read_truth.voters_under(B2) if x not in voters][0]["epic_number"]
        for e in (others, denied["epic_number"]):
            assert await data(pool, CALLER, q, {"e": e}) == {"voter": None}
        assert await data(pool, "u-000015", q, {"e": epic}) == {"voter": None}  # another CALLER
        assert (await data(pool, CALLER, "{ voters { totalCount } }")) == {"voters": {"totalCount": 0}}
        # the log: the campaign's managers see it, a booth president without outreach.manage does not
        calls = "query($e: String!) { voter(epicNumber: $e) { calls { totalCount } } }"
        assert await data(pool, DP, calls, {"e": epic}) == {"voter": {"calls": {"totalCount": 1}}}
        assert await data(pool, BP, calls, {"e": epic}) == {"voter": {"calls": {"totalCount": 0}}}
        node = "query($id: ID!) { node(id: $id) { id } }"
        assert await data(pool, BP, node, {"id": gid("CallLog", log)}) == {"node": None}
        # closed campaign: gone at once
        await pool.execute(
            "update campaigns set opens_on = $1, closes_on = $1 where id = $2", today - dt.timedelta(days=3), campaign
        )
        assert await data(pool, CALLER, q, {"e": epic}) == {"voter": None}
    finally:
        await pool.close()


async def test_voter_calls_pages(read_db_url: str, read_truth: Truth) -> None:
    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    try:
        today = dt.date.today()
        _, voters, _, first_log = await _outreach_world(pool, read_truth, opens=today, closes=today)
        epic = voters[0]["epic_number"]
        assignment = await pool.fetchval("select assignment_id from call_logs where id = $1", first_log)
        logs = [first_log]
        for outcome in ("NO_ANSWER", "CALL_BACK", "WRONG_NUMBER"):
            logs.append(
                await pool.fetchval(
                    "insert into call_logs (assignment_id, voter_id, caller_id, outcome) "
                    "values ($1, $2, $3, $4) returning id",
                    assignment,
                    read_truth.voter_id[epic],
                    CALLER,
                    outcome,
                )
            )
        q = """query($a: String) { voters(unit: "UP-AWD-LKO-M01-B0002", first: 3) { edges { node { epicNumber
                 calls(first: 3, after: $a) { totalCount pageInfo { hasNextPage endCursor }
                 edges { node { id } } } } } } }"""
        d = await data(pool, DP, q, {"a": None})
        by_epic = {e["node"]["epicNumber"]: e["node"]["calls"] for e in d["voters"]["edges"]}
        page = by_epic[epic]
        assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"]
        assert [e["node"]["id"] for e in page["edges"]] == [gid("CallLog", i) for i in sorted(logs, reverse=True)[:3]]
        single = """query($e: String!, $a: String) { voter(epicNumber: $e) { calls(first: 3, after: $a) {
                      totalCount pageInfo { hasNextPage } edges { node { id } } } } }"""
        rest = await data(pool, DP, single, {"e": epic, "a": page["pageInfo"]["endCursor"]})
        assert rest == {
            "voter": {
                "calls": {
                    "totalCount": 4,
                    "pageInfo": {"hasNextPage": False},
                    "edges": [{"node": {"id": gid("CallLog", min(logs))}}],
                }
            }
        }
        other = voters[1]["epic_number"]
        result = await run(pool, DP, single, {"e": other, "a": page["pageInfo"]["endCursor"]})
        assert codes(result) == ["BAD_USER_INPUT"]
    finally:
        await pool.close()


async def test_context_built_by_hand_like_the_server(read_pool) -> None:
    viewer = await load_viewer(read_pool, SP)
    assert viewer is not None
    ctx = Context(pool=read_pool, settings=Settings(), policy=PolicyEngine(), viewer=viewer)
    result = await schema.execute('{ unit(code: "UP") { code } }', context_value=ctx)
    assert result.data == {"unit": {"code": "UP"}}
    assert SETTINGS.jwt_secret  # cursors of the tests are signed with a derived key


def test_cursor_keys_come_from_the_jwt_secret(tmp_path: Path) -> None:
    from resolvers.cursors import CursorCodec

    def codec(settings: Settings) -> CursorCodec:
        return CursorCodec(settings, "voters:SERIAL", "bind")

    one = codec(Settings(jwt_secret="a-secret-of-some-length-1", database_url="postgresql://x/y"))
    same = codec(Settings(jwt_secret="a-secret-of-some-length-1", database_url="postgresql://x/y"))
    other = codec(Settings(jwt_secret="a-secret-of-some-length-2", database_url="postgresql://x/y"))
    cursor = one.encode([1, 2, 3])
    assert same.decode(cursor, (int, int, int)) == [1, 2, 3]
    try:
        other.decode(cursor, (int, int, int))
    except BadUserInput:
        pass
    else:
        raise AssertionError("a cursor signed with another secret was accepted")
    # embedded database without JWT_SECRET: the secret `serve` keeps under the data directory
    (tmp_path / "jwt_secret").write_text("kept-secret-0123456789\n")
    kept = codec(Settings(jwt_secret=None, database_url=None, data_dir=tmp_path))
    assert kept.key == codec(Settings(jwt_secret="kept-secret-0123456789", database_url="postgresql://x/y")).key
