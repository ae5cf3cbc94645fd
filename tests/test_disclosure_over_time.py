"""Nor over time: between releases, a survey write or an erasure does not move the sensitive
breakdowns a viewer without voter.read_sensitive sees; totals and viewers who read sensitive fields
see it at once; a periodic release takes a booth once MIN_CELL_SIZE of its voters changed."""

from __future__ import annotations

import asyncio
from typing import Any

from resolvers.release import release_due
from schema import schema
from tests.serverkit import client_for
from tests.writes_support import (
    BOOTH_PRESIDENT_LKO_M01_B1,
    DISTRICT_CONVENOR_LKO,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_IT,
    STATE_PRESIDENT,
    World,
)

CHAIN = (LKO_M01_B1, "UP-AWD-LKO-M01", "UP-AWD-LKO", "UP-AWD", "UP")
STATS_Q = """query($code: String!) { unit(code: $code) { stats { surveyed
  byCasteCategory { key count } byCaste(top: 500) { key count } byEconomicStatus { key count } } } }"""
SURVEY = """mutation($input: VoterSurveyInput!) { updateVoterSurvey(input: $input) { epicNumber } }"""
ERASE = "mutation($e: String!) { eraseVoterPersonalData(epicNumber: $e) { epicNumber } }"
SENSITIVE = ("byCasteCategory", "byCaste", "byEconomicStatus")


async def ok(w: World, user: str, query: str, **variables: Any) -> dict[str, Any]:
    result = await schema.execute(query, variable_values=variables, context_value=await w.ctx(user))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def seen(w: World, user: str, codes: tuple[str, ...] = CHAIN) -> dict[str, dict[str, Any]]:
    out = {}
    for code in codes:
        stats = (await ok(w, user, STATS_Q, code=code))["unit"]["stats"]
        out[code] = {"surveyed": stats["surveyed"]} | {n: {b["key"]: b["count"] for b in stats[n]} for n in SENSITIVE}
    return out


def sensitive_only(view: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {code: {n: unit[n] for n in SENSITIVE} for code, unit in view.items()}


async def unsurveyed(w: World, count: int) -> list[str]:
    rows = await w.conn.fetch(
        "select v.epic_number from voters v join units b on b.id = v.booth_id where b.code = $1 "
        "and v.caste_category is null and v.economic_status is null and not v.erased order by v.serial_number limit $2",
        LKO_M01_B1,
        count,
    )
    assert len(rows) == count
    return [r["epic_number"] for r in rows]


async def test_a_write_and_an_erasure_do_not_show_until_a_release_takes_the_booth(world: World) -> None:
    readers = (STATE_PRESIDENT, STATE_IT)  # no voter.read_sensitive
    before = {u: await seen(world, u) for u in readers}
    mandal_before = await seen(world, MANDAL_PRESIDENT_LKO_M01, CHAIN[:2])
    epics = await unsurveyed(world, 4)

    # One survey write: SC / BPL for a voter nobody had surveyed.
    survey = {"casteCategory": "SC", "caste": "SC-01", "economicStatus": "BPL"}
    await ok(world, BOOTH_PRESIDENT_LKO_M01_B1, SURVEY, input={"epicNumber": epics[0]} | survey)
    for user in readers:
        after = await seen(world, user)
        assert sensitive_only(after) == sensitive_only(before[user])
        assert [after[c]["surveyed"] for c in CHAIN] == [before[user][c]["surveyed"] + 1 for c in CHAIN]
    mandal_after = await seen(world, MANDAL_PRESIDENT_LKO_M01, CHAIN[:2])
    for code in CHAIN[:2]:  # the mandal president reads sensitive fields there: live
        for name, key in (("byCasteCategory", "SC"), ("byCaste", "SC-01"), ("byEconomicStatus", "BPL")):
            assert mandal_after[code][name][key] == mandal_before[code][name].get(key, 0) + 1

    # An erasure of a surveyed voter (the audit names the voter): nothing moves either.
    erased = await world.conn.fetchval(
        "select v.epic_number from voters v join units b on b.id = v.booth_id where b.code = $1 "
        "and v.caste is not null order by v.serial_number limit 1",
        LKO_M01_B1,
    )
    erased_category = (await world.voter(erased))["caste_category"]
    await ok(world, DISTRICT_CONVENOR_LKO, ERASE, e=erased)
    for user in readers:
        assert sensitive_only(await seen(world, user)) == sensitive_only(before[user])

    # Two voters changed: the periodic release leaves the booth as it was released.
    assert await release_due(world.conn, min_cell=5) is None
    for user in readers:
        assert sensitive_only(await seen(world, user)) == sensitive_only(before[user])

    # Five: the release takes the booth, and every change shows at once, summed up the tree.
    for epic in epics[1:]:
        await ok(world, BOOTH_PRESIDENT_LKO_M01_B1, SURVEY, input={"epicNumber": epic} | survey)
    report = await release_due(world.conn, min_cell=5)
    assert report is not None and report.booths == 1
    released = await seen(world, STATE_PRESIDENT)
    live = await seen(world, MANDAL_PRESIDENT_LKO_M01, CHAIN[:2])
    assert released != before[STATE_PRESIDENT]
    for code in CHAIN[:2]:
        for name in SENSITIVE:
            shown = {k: n for k, n in released[code][name].items() if n is not None}
            assert shown == {k: n for k, n in live[code][name].items() if k in shown}
            assert set(released[code][name]) == set(live[code][name])
    sc_before = before[STATE_PRESIDENT]["UP"]["byCasteCategory"]["SC"]
    assert released["UP"]["byCasteCategory"]["SC"] == sc_before + 4 - (erased_category == "SC")
    assert await world.conn.fetchval("select count(*) from release_changes") == 0


async def test_the_server_releases_due_booths_periodically(world: World) -> None:
    booth_id = await world.conn.fetchval("select id from units where code = $1", LKO_M01_B1)
    await world.conn.execute(
        "update voters set caste_category = 'ST', caste = 'ST-01' where id in "
        "(select id from voters where booth_id = $1 order by serial_number limit 5)",
        booth_id,
    )
    assert await world.conn.fetchval("select count(*) from release_changes where booth_id = $1", booth_id) == 5
    live_sql = (
        "select dim, key, n from {} where unit_id = $1 and dim in ('caste_category', 'caste', 'economic_status') "
        "and n > 0 order by 1, 2"
    )
    live = await world.conn.fetch(live_sql.format("unit_rollups"), booth_id)
    assert await world.conn.fetch(live_sql.format("released_cells"), booth_id) != live
    async with client_for(world.url, seeded=False, stats_release_interval_s=0.1):
        for _ in range(100):
            if not await world.conn.fetchval("select count(*) from release_changes"):
                break
            await asyncio.sleep(0.05)
    assert await world.conn.fetch(live_sql.format("released_cells"), booth_id) == live
