"""Call lists stay inside the caller's own reach (issue 12, part 1): assignCalls assigns only
voters under the callee's outreach.call cover, nobody assigns calls to themselves, a revoked
caller loses their list, logs and progress at once, and a voter whose consent becomes DENIED
leaves every list and its counts. docs/access-rules.md states the rules."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from core.errors import BadUserInput, Forbidden
from resolvers import call_logs, outreach, survey, voters
from resolvers.cursors import to_global_id
from resolvers.outreach import CampaignRow
from schema import schema
from tests.writes_support import (
    CALLER_LKO_M01,
    DISTRICT_INCHARGE_LKO_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    LKO_M02,
    MANDAL_PRESIDENT_LKO_M01,
    MANDAL_PRESIDENT_LKO_M02,
    TODAY,
    World,
)
from transfer.importer import import_folder

SCHEMES = ["PMAY-G", "PMUY", "PM-KISAN", "AB-PMJAY", "PMGKAY", "SBM-G", "PM-SVANIDHI", "NSAP"]
BOOTH_PRESIDENT_LKO_M02_B2 = "u-000021"
LKO_M02_B2 = "UP-AWD-LKO-M02-B0002"
LKO_M02_B3 = "UP-AWD-LKO-M02-B0003"


async def _campaign(w: World, user: str, unit: str) -> CampaignRow:
    return await outreach.create_campaign(
        w.conn,
        await w.viewer(user),
        w.policy,
        name="Feedback",
        unit=unit,
        schemes=SCHEMES,
        opens_on=(TODAY - dt.timedelta(days=1)).isoformat(),
        closes_on=(TODAY + dt.timedelta(days=30)).isoformat(),
    )


async def _assign(w: World, user: str, campaign: int, caller: str, **kw) -> int:
    return await outreach.assign_calls(
        w.conn, await w.viewer(user), w.policy, campaign_id=campaign, caller_id=caller, **({"limit": 10_000} | kw)
    )


async def _give(w: World, user: str, role: str, unit: str) -> None:
    """An assignment made by an administrator (outside the grant rules under test)."""
    await w.conn.execute(
        "insert into assignments (user_id, role, unit_id) select $1, $2, id from units where code = $3",
        user,
        role,
        unit,
    )


async def _eligible(w: World, unit: str) -> set[int]:
    rows = await w.conn.fetch(
        """select v.id from voters v join units b on b.id = v.booth_id
           where (b.code = $1 or b.code like $1 || '-%') and v.phone is not null and v.contact_consent <> 'DENIED'
             and exists (select 1 from beneficiaries x where x.voter_id = v.id and x.scheme_code = any($2::text[]))""",
        unit,
        SCHEMES,
    )
    return {r["id"] for r in rows}


async def _listed(w: World, caller: str) -> dict[int, str]:
    """voter id -> booth code of every entry of the caller, as stored."""
    rows = await w.conn.fetch(
        """select v.id, b.code from call_assignments ca join voters v on v.id = ca.voter_id
           join units b on b.id = v.booth_id where ca.caller_id = $1""",
        caller,
    )
    return {r["id"]: r["code"] for r in rows}


async def _clear_phones(w: World, user: str, unit: str) -> list[str]:
    """EPIC numbers whose phone `voters(unit:)` shows the user in clear."""
    page = await voters.voters_page(await w.ctx(user), unit=unit, first=500)
    return [v.epic_number for v in page.items if v.phone is not None and "phone" not in v.redacted_fields]


async def test_a_district_president_calling_one_booth_gets_no_phone_outside_it(world: World) -> None:
    """The issue's first case: a district president whose own outreach.call covers one booth."""
    await _give(world, DISTRICT_PRESIDENT_LKO, "CALLER", LKO_M01_B1)
    c = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO)
    # Self-assignment is refused outright, whatever the unit.
    for unit in (LKO_M02, LKO_M01_B1, None):
        with pytest.raises(Forbidden):
            await _assign(world, DISTRICT_PRESIDENT_LKO, c.id, DISTRICT_PRESIDENT_LKO, unit=unit)
    # Another manager hands them a mandal elsewhere: refused; the whole district: their booth only.
    with pytest.raises(BadUserInput):
        await _assign(world, DISTRICT_INCHARGE_LKO_AYD, c.id, DISTRICT_PRESIDENT_LKO, unit=LKO_M02)
    assert await _listed(world, DISTRICT_PRESIDENT_LKO) == {}
    n = await _assign(world, DISTRICT_INCHARGE_LKO_AYD, c.id, DISTRICT_PRESIDENT_LKO)
    listed = await _listed(world, DISTRICT_PRESIDENT_LKO)
    assert n == len(listed) == len(await _eligible(world, LKO_M01_B1)) > 0
    assert set(listed.values()) == {LKO_M01_B1}
    assert await _clear_phones(world, DISTRICT_PRESIDENT_LKO, LKO_M02) == []
    page = await outreach.my_call_list(await world.ctx(DISTRICT_PRESIDENT_LKO), first=500)
    assert page.total == n and {e.voter.booth.code for e in page.items} == {LKO_M01_B1}


async def test_entries_past_the_callers_reach_or_self_assigned_never_show(world: World) -> None:
    """Entries written before these rules (or by hand) that reach past the caller's cover, or that
    the caller assigned to themselves, show nowhere: not on the list, not in voters(unit:), not
    by EPIC number."""
    await _give(world, DISTRICT_PRESIDENT_LKO, "CALLER", LKO_M01_B1)
    c = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO)
    outside = sorted(await _eligible(world, LKO_M02))[:3]
    own_booth = sorted(await _eligible(world, LKO_M01_B1))[:3]
    await world.conn.executemany(
        "insert into call_assignments (campaign_id, voter_id, caller_id, assigned_by) values ($1, $2, $3, $4)",
        [(c.id, v, DISTRICT_PRESIDENT_LKO, DISTRICT_INCHARGE_LKO_AYD) for v in outside]
        + [(c.id, v, DISTRICT_PRESIDENT_LKO, DISTRICT_PRESIDENT_LKO) for v in own_booth],
    )
    ctx = await world.ctx(DISTRICT_PRESIDENT_LKO)
    assert (await outreach.my_call_list(ctx)).total == 0
    assert await _clear_phones(world, DISTRICT_PRESIDENT_LKO, LKO) == []
    for voter_id in outside + own_booth:
        record = await voters.voter_by_id(await world.ctx(DISTRICT_PRESIDENT_LKO), voter_id)
        assert record is not None and record.phone is not None and record.phone.startswith("******")
    assert (await outreach.campaigns(ctx)).items[0].managed  # theirs to manage, not to call


async def test_a_mandal_president_cannot_hand_one_booths_phones_to_another(world: World) -> None:
    """The issue's second case: booth B0003's phones to B0002's president."""
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M02, LKO_M02)
    with pytest.raises(BadUserInput):
        await _assign(world, MANDAL_PRESIDENT_LKO_M02, c.id, BOOTH_PRESIDENT_LKO_M02_B2, unit=LKO_M02_B3)
    assert await _listed(world, BOOTH_PRESIDENT_LKO_M02_B2) == {}
    n = await _assign(world, MANDAL_PRESIDENT_LKO_M02, c.id, BOOTH_PRESIDENT_LKO_M02_B2)
    listed = await _listed(world, BOOTH_PRESIDENT_LKO_M02_B2)
    assert n == len(listed) == len(await _eligible(world, LKO_M02_B2)) > 0
    assert set(listed.values()) == {LKO_M02_B2}
    records = [
        r["records"] for r in await world.conn.fetch("select records from audit_log where action = 'outreach.assign'")
    ]
    assert records == [n]


async def test_a_manager_granted_caller_cannot_read_phones_through_a_list_of_their_own(world: World) -> None:
    """The issue's exploit: a district in-charge without voter.read_contact, granted CALLER over
    the district, assigns themselves voters to read their phones."""
    await _give(world, DISTRICT_INCHARGE_LKO_AYD, "CALLER", LKO)
    c = await _campaign(world, DISTRICT_INCHARGE_LKO_AYD, LKO)
    with pytest.raises(Forbidden):
        await _assign(world, DISTRICT_INCHARGE_LKO_AYD, c.id, DISTRICT_INCHARGE_LKO_AYD)
    assert await world.conn.fetchval("select count(*) from call_assignments") == 0
    assert await _clear_phones(world, DISTRICT_INCHARGE_LKO_AYD, LKO) == []
    # A list handed to them by someone else is a phone bank like any other.
    n = await _assign(world, DISTRICT_PRESIDENT_LKO, c.id, DISTRICT_INCHARGE_LKO_AYD)
    page = await outreach.my_call_list(await world.ctx(DISTRICT_INCHARGE_LKO_AYD), first=500)
    assert n == page.total == len(page.items) > 0
    assert all(e.voter.redacted_fields == ["casteCategory", "caste", "economicStatus"] for e in page.items)


async def test_a_revoked_caller_loses_logs_list_and_progress_at_once(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=4)
    entry = (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items[0]
    log = await outreach.log_call(
        world.conn, await world.viewer(CALLER_LKO_M01), world.policy, assignment_id=entry.id, outcome="REACHED"
    )
    query = """query($id: ID!) { node(id: $id) { ... on CallLog { outcome callerId } } }"""
    log_id = to_global_id("CallLog", log.id)

    async def seen() -> tuple[object, int, int, list[int]]:
        ctx = await world.ctx(CALLER_LKO_M01)
        result = await schema.execute(query, variable_values={"id": log_id}, context_value=ctx)
        assert result.errors is None, result.errors
        ctx = await world.ctx(CALLER_LKO_M01)
        calls = await call_logs.calls_for_voters(ctx, [entry.voter.id], 20, None)
        page = calls[entry.voter.id]
        assert not isinstance(page, Exception)
        mine = await outreach.campaigns(ctx)
        progress = await outreach.campaign_progress(ctx, mine.items)
        return (
            result.data["node"] if result.data else None,
            (await outreach.my_call_list(ctx)).total,
            len(page.items),
            [p.assigned for p in progress.values()],
        )

    assert await seen() == ({"outcome": "REACHED", "callerId": CALLER_LKO_M01}, 4, 1, [4])
    await world.conn.execute("delete from assignments where user_id = $1", CALLER_LKO_M01)
    assert await seen() == (None, 0, 0, [])


async def test_a_voter_whose_consent_becomes_denied_leaves_every_list_and_count(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    n = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=6)
    entries = (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items
    caller = await world.viewer(CALLER_LKO_M01)
    for e in entries[:2]:
        await outreach.log_call(world.conn, caller, world.policy, assignment_id=e.id, outcome="REACHED")
    writer = await world.viewer(MANDAL_PRESIDENT_LKO_M01)
    mandal_id = await world.conn.fetchval("select id from units where code = $1", LKO_M01)

    async def counts() -> tuple[int, int, int, int, int]:
        manager = await world.ctx(MANDAL_PRESIDENT_LKO_M01)
        progress = (await outreach.campaign_progress(manager, [c]))[c.id]
        rollup = {
            r["dim"]: r["n"]
            for r in await world.conn.fetch(
                "select dim, n from unit_rollups where unit_id = $1"
                " and dim in ('outreach_assigned', 'outreach_called')",
                mandal_id,
            )
        }
        return (
            (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).total,
            progress.assigned,
            progress.called,
            rollup.get("outreach_assigned", 0),
            rollup.get("outreach_called", 0),
        )

    assert await counts() == (n, n, 2, n, 2)
    # A called voter says "do not call" through a survey write; an uncalled one asks for erasure.
    await survey.update_voter_survey(world.conn, writer, world.policy, entries[0].voter.epic_number, {
        "contactConsent": "DENIED"})  # fmt: skip
    assert await counts() == (n - 1, n - 1, 1, n - 1, 1)
    await survey.erase_voter_personal_data(world.conn, writer, world.policy, entries[3].voter.epic_number)
    assert await counts() == (n - 2, n - 2, 1, n - 2, 1)
    assert await world.rollups_match_recount() == []
    # Consent granted again does not put them back: a manager assigns afresh.
    await survey.update_voter_survey(world.conn, writer, world.policy, entries[0].voter.epic_number, {
        "contactConsent": "GRANTED"})  # fmt: skip
    assert await counts() == (n - 2, n - 2, 1, n - 2, 1)


async def test_consent_denied_by_an_import_leaves_every_list_and_count(world: World, tiny_dataset: Path) -> None:
    """voters.csv setting contact_consent DENIED does what a survey write does: the voter leaves
    every call list, with the calls logged on them, and the outreach counts follow."""
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    n = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=4)
    entries = (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items
    caller = await world.viewer(CALLER_LKO_M01)
    await outreach.log_call(world.conn, caller, world.policy, assignment_id=entries[0].id, outcome="REACHED")
    denied = {entries[0].voter.epic_number, entries[1].voter.epic_number}
    with (tiny_dataset / "voters.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = [r | {"contact_consent": "DENIED"} for r in reader if r["epic_number"] in denied]
    assert header is not None and len(rows) == 2
    folder = tiny_dataset.parent / "denied-import"
    folder.mkdir(exist_ok=True)
    with (folder / "voters.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    await import_folder(world.conn, folder)
    listed = (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items
    assert {e.voter.epic_number for e in listed} == {e.voter.epic_number for e in entries} - denied
    assert len(listed) == n - 2
    mandal_id = await world.conn.fetchval("select id from units where code = $1", LKO_M01)
    rollup = dict(
        await world.conn.fetch(
            "select dim, n from unit_rollups where unit_id = $1 and dim in ('outreach_assigned', 'outreach_called')",
            mandal_id,
        )
    )
    assert rollup == {"outreach_assigned": n - 2}
    assert await world.rollups_match_recount() == []
