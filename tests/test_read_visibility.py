"""`voters(unit:)` and `auditLog(unit:)` with a unit the viewer cannot see, an ancestor of the
viewer's scope included, are empty with any filter, sensitive or not (access-policy.md); a unit
the viewer can see keeps its answers, and FORBIDDEN for a sensitive filter without
voter.read_sensitive."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.read_support import codes, data, run
from tests.writes_support import DISTRICT_PRESIDENT_LKO, IT_CONVENOR_LKO, LKO

LIST = """query($u: String, $f: VoterFilter) {
  voters(unit: $u, filter: $f, first: 5) { totalCount edges { node { epicNumber } } } }"""
PAGE = "query($u: String) { voters(unit: $u, first: 5) { edges { node { epicNumber booth { code } } } } }"
EMPTY = {"voters": {"totalCount": 0, "edges": []}}
SENSITIVE = {"casteCategory": ["SC"]}
PLAIN = {"gender": "FEMALE"}


async def _voters(pool: Any, user: str, unit: str | None, flt: dict[str, Any] | None) -> tuple[Any, list[Any]]:
    result = await run(pool, user, LIST, {"u": unit, "f": flt})
    return result.data, codes(result)


async def test_an_ancestor_of_the_scope_is_empty_whatever_the_filter(read_pool: asyncpg.Pool) -> None:
    for unit in ("UP", "UP-AWD", "UP-KSI", "UP-KSI-VNS"):
        for flt in (None, PLAIN, SENSITIVE):
            assert await _voters(read_pool, DISTRICT_PRESIDENT_LKO, unit, flt) == (EMPTY, []), (unit, flt)
        # the fast path (no total asked, no sensitive filter) as well
        assert await data(read_pool, DISTRICT_PRESIDENT_LKO, PAGE, {"u": unit}) == {"voters": {"edges": []}}
    # the district itself: its voters, and FORBIDDEN for a sensitive filter (no voter.read_sensitive)
    own, errors = await _voters(read_pool, DISTRICT_PRESIDENT_LKO, LKO, None)
    assert errors == [] and own["voters"]["totalCount"] > 0 and len(own["voters"]["edges"]) == 5
    everything, _ = await _voters(read_pool, DISTRICT_PRESIDENT_LKO, None, None)
    assert everything == own
    assert (await _voters(read_pool, DISTRICT_PRESIDENT_LKO, LKO, SENSITIVE))[1] == ["FORBIDDEN"]


async def test_a_unit_above_a_deeper_assignment_is_not_visible(read_db_url: str) -> None:
    """A district president of LKO who is also mandal president in AYD: AYD itself is an ancestor
    of that assignment, so voters(unit: AYD) is empty; the mandal and its booths are not."""
    conn = await asyncpg.connect(read_db_url)
    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    try:
        mandal = "UP-AWD-AYD-M01"
        await conn.execute(
            """insert into assignments (user_id, role, unit_id)
               select $1, 'MANDAL_PRESIDENT', id from units where code = $2""",
            DISTRICT_PRESIDENT_LKO,
            mandal,
        )
        in_mandal = await conn.fetchval(
            "select count(*) from voters v join units m on m.id = v.mandal_id where m.code = $1", mandal
        )
        assert in_mandal > 0
        for unit in ("UP-AWD-AYD", "UP-AWD", "UP"):
            for flt in (None, PLAIN, SENSITIVE):
                assert await _voters(pool, DISTRICT_PRESIDENT_LKO, unit, flt) == (EMPTY, []), (unit, flt)
            assert await data(pool, DISTRICT_PRESIDENT_LKO, PAGE, {"u": unit}) == {"voters": {"edges": []}}
        shown, errors = await _voters(pool, DISTRICT_PRESIDENT_LKO, mandal, SENSITIVE)  # read_sensitive there
        expected = await conn.fetchval(
            """select count(*) from voters v join units m on m.id = v.mandal_id
               where m.code = $1 and v.caste_category = 'SC'""",
            mandal,
        )
        assert errors == [] and shown["voters"]["totalCount"] == expected
        page = await data(pool, DISTRICT_PRESIDENT_LKO, PAGE, {"u": mandal})
        assert len(page["voters"]["edges"]) == min(5, in_mandal)
        assert {e["node"]["booth"]["code"].rsplit("-", 1)[0] for e in page["voters"]["edges"]} == {mandal}
    finally:
        await pool.close()
        await conn.close()


async def test_audit_log_of_an_ancestor_is_empty(read_db_url: str) -> None:
    conn = await asyncpg.connect(read_db_url)
    pool = await asyncpg.create_pool(read_db_url, min_size=1, max_size=2)
    try:
        await conn.execute(
            """insert into audit_log (user_id, action, unit_id, unit_code, records)
               select 'u-000008', 'voter.write', id, code, 1 from units where code = $1""",
            LKO,
        )
        q = "query($u: String) { auditLog(unit: $u) { totalCount edges { node { unitCode } } } }"
        own = await data(pool, IT_CONVENOR_LKO, q, {"u": LKO})
        assert own["auditLog"]["totalCount"] >= 1
        for unit in ("UP", "UP-AWD"):
            assert await data(pool, IT_CONVENOR_LKO, q, {"u": unit}) == {"auditLog": {"totalCount": 0, "edges": []}}
    finally:
        await pool.close()
        await conn.close()
