"""Leak tests: random officials (several assignments, none) and random queries compared with the
ground truth of tests/read_truth.py; small-cell suppression as a property; ids and cursors of the
state president replayed by a booth president."""

from __future__ import annotations

from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import Settings
from resolvers.release import release
from tests.read_support import SETTINGS, codes, data, run
from tests.read_truth import STATS_SELECTION, Truth, gid

# The tiny data set (gen_dataset.py --preset tiny) has users u-000001 .. u-000075; the last two
# hold no assignment, u-000007 / u-000042 are in-charge of two districts, u-000014 / u-000030 are
# mandal presidents and callers, u-000016 is booth president and caller.
USERS = [f"u-{i:06d}" for i in range(1, 76)]
UNIT_CODES = [
    "UP", "UP-AWD", "UP-KSI", "UP-AWD-LKO", "UP-AWD-AYD", "UP-KSI-VNS", "UP-KSI-PRJ", "UP-AWD-LKO-M01",
    "UP-AWD-LKO-M02", "UP-KSI-VNS-M01", "UP-AWD-LKO-M01-B0001", "UP-AWD-LKO-M01-B0002", "UP-AWD-AYD-M02-B0003",
    "UP-KSI-PRJ-M02-B0001", "UP-AWD-LKO-M0", "up", "NOPE",
]  # fmt: skip
SCHEME_CODES = ["PMAY-G", "PMUY", "PM-KISAN", "AB-PMJAY", "PMGKAY", "SBM-G", "PM-SVANIDHI", "NSAP", "NOPE"]
NODE_FIELDS = ("id", "epicNumber", "name", "age", "phone", "casteCategory", "caste", "economicStatus",
               "redactedFields", "booth", "schemes")  # fmt: skip
NODE = "id epicNumber name age phone casteCategory caste economicStatus redactedFields booth { code } " \
    "schemes { scheme { code } since }"  # fmt: skip
LIST_Q = f"""query($unit: String, $first: Int, $after: String, $filter: VoterFilter, $order: VoterOrder) {{
  voters(unit: $unit, first: $first, after: $after, filter: $filter, orderBy: $order) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {NODE} }} }} }} }}"""
LOOKUP_Q = f"""query($epic: String!, $vid: ID!, $uid: ID!, $code: String!) {{
  voter(epicNumber: $epic) {{ {NODE} }}
  byId: node(id: $vid) {{ ... on Voter {{ {NODE} }} }}
  unitById: node(id: $uid) {{ ... on Unit {{ code }} }}
  unit(code: $code) {{ code parent {{ code }} path {{ code }} children {{ totalCount edges {{ node {{ code }} }} }}
    stats {{ {STATS_SELECTION} }} voters(first: 2) {{ totalCount edges {{ node {{ epicNumber }} }} }} }}
}}"""

filters = st.fixed_dictionaries(
    {},
    optional={
        "gender": st.sampled_from(["MALE", "FEMALE", "THIRD_GENDER"]),
        "ageMin": st.integers(18, 100),
        "ageMax": st.integers(18, 100),
        "casteCategory": st.lists(st.sampled_from(["GEN", "OBC", "SC", "ST"]), max_size=2),
        "economicStatus": st.lists(st.sampled_from(["BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME"]), max_size=2),
        "schemes": st.lists(st.sampled_from(SCHEME_CODES), min_size=1, max_size=3),
        "hasPhone": st.booleans(),
        "contactConsent": st.sampled_from(["GRANTED", "DENIED", "UNKNOWN"]),
        "search": st.one_of(
            st.sampled_from(["ra", "Ra", "SU", "mohd ", "%", "_", "a_", "\\", "pr"]),
            st.text(alphabet="aRmS %_\\", max_size=3),
        ),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    user=st.sampled_from(USERS),
    unit=st.one_of(st.none(), st.sampled_from(UNIT_CODES)),
    flt=filters,
    order=st.sampled_from(["SERIAL", "NAME", "AGE"]),
    first=st.sampled_from([1, 3, 40, 500]),
)
async def test_voter_lists_match_the_truth(
    read_pool, read_truth: Truth, user: str, unit: str | None, flt: dict[str, Any], order: str, first: int
) -> None:
    t = read_truth
    want = t.voter_list(user, unit, flt, order)
    variables = {"unit": unit, "filter": flt, "order": order, "first": first, "after": None}
    result = await run(read_pool, user, LIST_Q, variables)
    if want == "FORBIDDEN":
        assert codes(result) == ["FORBIDDEN"] and result.data is None
        return
    assert isinstance(want, list)
    assert result.errors is None, result.errors
    seen: list[dict[str, Any]] = []
    for _page in range(2):  # two pages: the cursor continues exactly where the first stopped
        assert result.data is not None
        conn = result.data["voters"]
        expected = want[len(seen) : len(seen) + first]
        assert conn["totalCount"] == len(want)
        assert [e["node"] for e in conn["edges"]] == [t.voter(user, v["epic_number"], NODE_FIELDS) for v in expected]
        seen += expected
        assert conn["pageInfo"]["hasNextPage"] == (len(want) > len(seen))
        if not conn["pageInfo"]["hasNextPage"]:
            break
        result = await run(read_pool, user, LIST_Q, {**variables, "after": conn["pageInfo"]["endCursor"]})
        assert result.errors is None, result.errors


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    user=st.sampled_from(USERS),
    voter_index=st.integers(0, 2003),
    other_index=st.integers(0, 2003),
    code=st.sampled_from(UNIT_CODES[:14]),
    node_unit=st.sampled_from(UNIT_CODES[:14]),
)
async def test_lookups_nodes_units_and_stats_match_the_truth(
    read_pool, read_truth: Truth, user: str, voter_index: int, other_index: int, code: str, node_unit: str
) -> None:
    t = read_truth
    epic = t.voters[voter_index]["epic_number"]
    other = t.voters[other_index]["epic_number"]
    variables = {
        "epic": epic,
        "vid": gid("Voter", t.voter_id[other]),
        "uid": gid("Unit", t.unit_id[node_unit]),
        "code": code,
    }
    got = await data(read_pool, user, LOOKUP_Q, variables)

    def shown(e: str) -> dict[str, Any] | None:
        return t.voter(user, e, NODE_FIELDS) if t.sees_voter(user, e) else None

    unit: dict[str, Any] | None = None
    if t.has(user, "unit.read", code):
        parent = t.units[code]["parent_code"]
        kids = sorted(c for c, u in t.units.items() if u["parent_code"] == code and t.has(user, "unit.read", c))
        listed = t.voter_list(user, code, {}, "SERIAL")
        assert isinstance(listed, list)
        unit = {
            "code": code,
            "parent": {"code": parent} if parent and t.has(user, "unit.read", parent) else None,
            "path": [{"code": c} for c in t.chain[code][:-1]],
            "children": {"totalCount": len(kids), "edges": [{"node": {"code": k}} for k in kids]},
            "stats": t.stats(user, code),
            "voters": {
                "totalCount": len(listed),
                "edges": [{"node": {"epicNumber": v["epic_number"]}} for v in listed[:2]],
            },
        }
    assert got == {
        "voter": shown(epic),
        "byId": shown(other),
        "unitById": {"code": node_unit} if t.has(user, "unit.read", node_unit) else None,
        "unit": unit,
    }


SUPPRESSION_Q = """{ units(first: 500) { edges { node { code stats {
  voters surveyed suppressed byCasteCategory { key count } byCaste(top: 500) { key count }
  byEconomicStatus { key count } } } } } }"""


async def test_small_cells_never_show_and_never_follow_from_a_total(read_db_url: str, read_truth: Truth) -> None:
    # MIN_CELL_SIZE takes effect at a release (the pattern is decided then, over the whole tree)
    t = read_truth
    checked = 0
    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    try:
        for min_cell in (5, 12, 60):
            async with pool.acquire() as conn:
                await release(conn, min_cell=min_cell)
            config = Settings(jwt_secret=SETTINGS.jwt_secret, min_cell_size=min_cell)
            for user in USERS:
                result = await run(pool, user, SUPPRESSION_Q, settings=config)
                assert result.errors is None and result.data is not None
                for edge in result.data["units"]["edges"]:
                    code, stats = edge["node"]["code"], edge["node"]["stats"]
                    if all(t.has(user, "voter.read_sensitive", v["booth_code"]) for v in t.voters_under(code)):
                        assert not stats["suppressed"]
                        continue
                    any_hidden = False
                    for name in ("byCasteCategory", "byCaste", "byEconomicStatus"):
                        buckets = stats[name]
                        hidden = [b for b in buckets if b["count"] is None]
                        shown = [b["count"] for b in buckets if b["count"] is not None]
                        assert all(n >= min_cell for n in shown), (user, code, name)
                        # never exactly one hidden bucket among several: the total of the others would give it away
                        assert len(hidden) != 1 or len(buckets) == 1, (user, code, name)
                        any_hidden = any_hidden or bool(hidden)
                        checked += 1
                    assert stats["suppressed"] == any_hidden
    finally:
        await pool.close()
    assert checked > 100


async def test_ids_and_cursors_of_the_state_president_replayed_by_a_booth_president(
    read_pool, read_truth: Truth
) -> None:
    t = read_truth
    sp, bp, booth = "u-000001", "u-000018", "UP-AWD-LKO-M01-B0002"
    harvest = await data(
        read_pool,
        sp,
        """{ voters(unit: "UP-KSI", first: 20) { pageInfo { endCursor } edges { cursor node { id epicNumber } } }
             units(level: BOOTH, first: 50) { pageInfo { endCursor } edges { cursor node { id code } } }
             unit(code: "UP") { children(first: 1) { pageInfo { endCursor } } } }""",
    )
    voter_ids = [e["node"]["id"] for e in harvest["voters"]["edges"]]
    unit_nodes = [e["node"] for e in harvest["units"]["edges"]]
    cursors = [e["cursor"] for e in harvest["voters"]["edges"]]
    node_q = "query($id: ID!) { node(id: $id) { id } }"
    for vid in voter_ids:
        assert await data(read_pool, bp, node_q, {"id": vid}) == {"node": None}
    for u in unit_nodes:
        expected = {"id": u["id"]} if u["code"] == booth else None
        assert await data(read_pool, bp, node_q, {"id": u["id"]}) == {"node": expected}
    for e in harvest["voters"]["edges"]:
        q = "query($e: String!) { voter(epicNumber: $e) { epicNumber } }"
        assert await data(read_pool, bp, q, {"e": e["node"]["epicNumber"]}) == {"voter": None}
    replays = [
        ("query($a: String) { voters(first: 5, after: $a) { edges { node { epicNumber } } } }", cursors[0]),
        (
            'query($a: String) { voters(unit: "UP-KSI", first: 5, after: $a) { edges { node { epicNumber } } } }',
            cursors[3],
        ),
        (
            f'query($a: String) {{ voters(unit: "{booth}", first: 5, after: $a) {{ edges {{ node {{ id }} }} }} }}',
            cursors[5],
        ),
        (
            "query($a: String) { units(level: BOOTH, after: $a) { edges { node { code } } } }",
            harvest["units"]["pageInfo"]["endCursor"],
        ),
        (
            f'query($a: String) {{ unit(code: "{booth}") {{ children(after: $a) {{ totalCount }} }} }}',
            harvest["unit"]["children"]["pageInfo"]["endCursor"],
        ),
    ]
    for query, cursor in replays:
        result = await run(read_pool, bp, query, {"a": cursor})
        assert codes(result) == ["BAD_USER_INPUT"], query
        assert result.data in (None, {"unit": None})
    # and without the foreign cursor the booth president still sees exactly the own booth
    own = await data(read_pool, bp, '{ voters(unit: "UP-KSI") { totalCount } everything: voters { totalCount } }')
    assert own == {"voters": {"totalCount": 0}, "everything": {"totalCount": len(t.voters_under(booth))}}
