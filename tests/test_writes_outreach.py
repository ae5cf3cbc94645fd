"""Outreach on the resolvers: createCampaign, assignCalls, myCallList, logCall, campaigns,
progress."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import pytest

from core.errors import BadUserInput, Forbidden, NotFound
from resolvers import outreach
from resolvers.outreach import CampaignRow
from resolvers.voters import VoterFilterArgs
from tests.writes_support import (
    AYD,
    BOOTH_PRESIDENT_LKO_M01_B1,
    BOOTH_PRESIDENT_LKO_M01_B2,
    CALLER_AYD,
    CALLER_LKO,
    CALLER_LKO_M01,
    CALLER_LKO_M01_B1,
    DISTRICT_CO_CONVENOR_LKO,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_PRESIDENT_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    LKO_M01_B2,
    LKO_M02_B1,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_PRESIDENT,
    TODAY,
    World,
)

ALL_SCHEMES = ["PMAY-G", "PMUY", "PM-KISAN", "AB-PMJAY", "PMGKAY", "SBM-G", "PM-SVANIDHI", "NSAP"]


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


async def _campaign(
    w: World, user: str, unit: str, *, schemes=None, opens: int = -1, closes: int = 30, name: str = "Feedback"
) -> CampaignRow:
    return await outreach.create_campaign(
        w.conn,
        await w.viewer(user),
        w.policy,
        name=name,
        unit=unit,
        schemes=schemes or ALL_SCHEMES,
        opens_on=day(opens),
        closes_on=day(closes),
    )


async def _assign(w: World, user: str, campaign: int, caller: str, conn=None, **kw) -> int:
    return await outreach.assign_calls(
        conn or w.conn, await w.viewer(user), w.policy, campaign_id=campaign, caller_id=caller, **kw
    )


async def _eligible(w: World, campaign: CampaignRow, unit: str) -> set[int]:
    rows = await w.conn.fetch(
        """select v.id from voters v join units b on b.id = v.booth_id
           where (b.code = $1 or b.code like $1 || '-%') and v.phone is not null and v.contact_consent <> 'DENIED'
             and exists (select 1 from beneficiaries x where x.voter_id = v.id and x.scheme_code = any($2::text[]))""",
        unit,
        [s.code for s in campaign.schemes],
    )
    return {r["id"] for r in rows}


# ------------------------------------------------------------------ createCampaign ---
async def test_create_campaign(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01, schemes=["PMUY", "NSAP", "PMUY"])
    assert c.unit.code == LKO_M01 and [s.code for s in c.schemes] == ["PMUY", "NSAP"] and c.open and c.managed
    assert c.schemes[0].name.startswith("Pradhan Mantri Ujjwala")
    entry = await world.conn.fetchrow("select * from audit_log where action = 'outreach.campaign'")
    assert (entry["user_id"], entry["unit_code"]) == (MANDAL_PRESIDENT_LKO_M01, LKO_M01)


@pytest.mark.parametrize(
    ("user", "unit", "kw", "error"),
    [
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01, {"schemes": ["NOPE"]}, BadUserInput),
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01, {"schemes": []}, BadUserInput),
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01, {"opens_on": "2026-02-30"}, BadUserInput),
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01, {"opens_on": "26-01-01"}, BadUserInput),
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01, {"opens_on": "2026-05-02", "closes_on": "2026-05-01"}, BadUserInput),
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01, {"name": "  "}, BadUserInput),
        (MANDAL_PRESIDENT_LKO_M01, LKO, {}, NotFound),  # above the mandal
        (MANDAL_PRESIDENT_LKO_M01, AYD, {}, NotFound),
        (MANDAL_PRESIDENT_LKO_M01, "NOPE", {}, NotFound),
        (BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, {}, Forbidden),  # no outreach.manage
        (DISTRICT_CO_CONVENOR_LKO, LKO, {}, Forbidden),
        (CALLER_LKO, LKO, {}, Forbidden),
    ],
)
async def test_create_campaign_refused(world: World, user, unit, kw, error) -> None:
    args = {"name": "X", "unit": unit, "schemes": ["PMUY"], "opens_on": day(0), "closes_on": day(5)} | kw
    with pytest.raises(error):
        await outreach.create_campaign(world.conn, await world.viewer(user), world.policy, **args)
    assert await world.conn.fetchval("select count(*) from campaigns") == 0
    assert await world.audit_count() == 0


# --------------------------------------------------------------------- assignCalls ---
async def test_assign_calls_picks_eligible_voters_once(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01, schemes=["PM-KISAN", "PMGKAY"])
    eligible = await _eligible(world, c, LKO_M01)
    assert len(eligible) > 20
    n1 = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01_B1, limit=5, unit=LKO_M01_B1)
    n2 = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=10)
    # A booth president's outreach.call covers their booth only: the rest of the mandal is skipped.
    n3 = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, BOOTH_PRESIDENT_LKO_M01_B2, limit=10_000)
    n4 = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=10_000)
    rows = await world.conn.fetch("select voter_id, caller_id from call_assignments where campaign_id = $1", c.id)
    assert n1 == 5 and n2 == 10 and n3 > 0 and n4 > 0 and n1 + n2 + n3 + n4 == len(rows) == len(eligible)
    assert {r["voter_id"] for r in rows} == eligible
    for caller, booth in ((CALLER_LKO_M01_B1, LKO_M01_B1), (BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B2)):
        booths = await world.conn.fetch(
            """select distinct b.code from call_assignments ca join voters v on v.id = ca.voter_id
               join units b on b.id = v.booth_id where ca.caller_id = $1""",
            caller,
        )
        assert [r["code"] for r in booths] == [booth]
    assert await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01) == 0
    counts = [
        r["records"]
        for r in await world.conn.fetch("select records from audit_log where action = 'outreach.assign' order by id")
    ]
    assert counts == [n1, n2, n3, n4, 0]
    assert await world.rollups_match_recount() == []


async def test_assign_calls_filter(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    n = await _assign(
        world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, filt=VoterFilterArgs(gender="FEMALE", age_min=40)
    )
    assert n > 0
    bad = await world.conn.fetchval(
        """select count(*) from call_assignments ca join voters v on v.id = ca.voter_id
           where ca.campaign_id = $1 and (v.gender <> 'FEMALE' or v.age < 40)""",
        c.id,
    )
    assert bad == 0
    # Sensitive filters: allowed with voter.read_sensitive over the unit...
    n = await _assign(
        world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, filt=VoterFilterArgs(caste_category=("SC",))
    )
    assert n > 0
    # ...FORBIDDEN without (a district president manages outreach but may not read caste).
    d = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO)
    with pytest.raises(Forbidden):
        await _assign(world, DISTRICT_PRESIDENT_LKO, d.id, CALLER_LKO, filt=VoterFilterArgs(economic_status=("BPL",)))


async def test_assign_calls_refused(world: World) -> None:
    m01 = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    lko = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO)
    closed = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO, opens=-10, closes=-1)
    audit_before = await world.audit_count()
    cases: list[tuple[str, int, str, dict[str, Any], type[Exception]]] = [
        # campaign out of scope / absent
        (DISTRICT_PRESIDENT_AYD, lko.id, CALLER_LKO, {}, NotFound),
        (MANDAL_PRESIDENT_LKO_M01, lko.id, CALLER_LKO_M01, {}, NotFound),
        (MANDAL_PRESIDENT_LKO_M01, 10**12, CALLER_LKO_M01, {}, NotFound),
        # in scope without outreach.manage
        (DISTRICT_CO_CONVENOR_LKO, lko.id, CALLER_LKO, {}, Forbidden),
        (DISTRICT_CO_CONVENOR_LKO, m01.id, CALLER_LKO_M01, {}, Forbidden),
        (BOOTH_PRESIDENT_LKO_M01_B1, m01.id, CALLER_LKO_M01, {}, NotFound),  # M01 is above the booth
        # callers: unknown or not visible -> NOT_FOUND; visible but cannot call there -> BAD_USER_INPUT
        (DISTRICT_PRESIDENT_LKO, lko.id, "u-999999", {}, NotFound),
        (DISTRICT_PRESIDENT_LKO, lko.id, CALLER_AYD, {}, NotFound),
        (MANDAL_PRESIDENT_LKO_M01, m01.id, CALLER_LKO, {}, NotFound),  # a district caller: above M01
        (DISTRICT_PRESIDENT_LKO, lko.id, DISTRICT_CONVENOR_LKO, {}, BadUserInput),
        (DISTRICT_PRESIDENT_LKO, m01.id, CALLER_LKO, {}, BadUserInput),  # district caller, mandal campaign
        # unit
        (DISTRICT_PRESIDENT_LKO, m01.id, CALLER_LKO_M01, {"unit": LKO_M02_B1}, BadUserInput),
        (DISTRICT_PRESIDENT_LKO, m01.id, CALLER_LKO_M01, {"unit": AYD}, NotFound),
        (DISTRICT_PRESIDENT_LKO, m01.id, CALLER_LKO_M01, {"unit": "NOPE"}, NotFound),
        # limit, closed campaign
        (DISTRICT_PRESIDENT_LKO, lko.id, CALLER_LKO, {"limit": -1}, BadUserInput),
        (DISTRICT_PRESIDENT_LKO, lko.id, CALLER_LKO, {"limit": 10**6}, BadUserInput),
        (DISTRICT_PRESIDENT_LKO, closed.id, CALLER_LKO, {}, BadUserInput),
    ]
    for user, campaign, caller, kw, error in cases:
        with pytest.raises(error):
            await _assign(world, user, campaign, caller, **kw)
    assert await world.conn.fetchval("select count(*) from call_assignments") == 0
    assert await world.audit_count() == audit_before


async def test_assign_calls_skips_denied_and_phoneless(world: World) -> None:
    c = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO)
    await _assign(world, DISTRICT_PRESIDENT_LKO, c.id, CALLER_LKO, limit=10_000)
    bad = await world.conn.fetchval(
        """select count(*) from call_assignments ca join voters v on v.id = ca.voter_id
           where v.phone is null or v.contact_consent = 'DENIED'"""
    )
    assert bad == 0


async def test_parallel_assignments_never_double(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    eligible = await _eligible(world, c, LKO_M01)
    viewer = await world.viewer(MANDAL_PRESIDENT_LKO_M01)
    conns = [await asyncpg.connect(world.url) for _ in range(4)]
    callers = [CALLER_LKO_M01, CALLER_LKO_M01_B1, BOOTH_PRESIDENT_LKO_M01_B1, BOOTH_PRESIDENT_LKO_M01_B2]
    try:
        counts = await asyncio.gather(
            *(
                outreach.assign_calls(cn, viewer, world.policy, campaign_id=c.id, caller_id=caller, limit=10_000)
                for cn, caller in zip(conns, callers, strict=True)
            )
        )
    finally:
        await asyncio.gather(*(cn.close() for cn in conns))
    rows = await world.conn.fetch("select voter_id from call_assignments where campaign_id = $1", c.id)
    assert sum(counts) == len(rows) == len({r["voter_id"] for r in rows}) == len(eligible)


# ---------------------------------------------------------------------- myCallList ---
async def test_my_call_list_order_and_caller_view(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    n = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=12)
    ctx = await world.ctx(CALLER_LKO_M01)
    page = await outreach.my_call_list(ctx, first=50)
    assert page.total == n == len(page.items) and not page.has_next
    ids = [e.id for e in page.items]
    caller = await world.viewer(CALLER_LKO_M01)
    # Log calls: the 2nd becomes CALL_BACK, the 1st REACHED.
    await outreach.log_call(world.conn, caller, world.policy, assignment_id=ids[1], outcome="CALL_BACK")
    await outreach.log_call(world.conn, caller, world.policy, assignment_id=ids[0], outcome="REACHED", satisfaction=4)
    page = await outreach.my_call_list(await world.ctx(CALLER_LKO_M01), first=50)
    assert [e.id for e in page.items] == ids[2:] + [ids[1], ids[0]]
    assert page.items[-1].last_call is not None and page.items[-1].last_call.outcome == "REACHED"
    assert page.items[0].last_call is None

    # The caller's view of a voter, field by field.
    entry = page.items[0]
    row = await world.conn.fetchrow(
        "select v.*, b.code as booth_code from voters v join units b on b.id = v.booth_id "
        "where v.id = (select voter_id from call_assignments where id = $1)",
        entry.id,
    )
    voter = entry.voter
    assert voter.epic_number == row["epic_number"] and voter.name == row["name"]
    assert voter.phone is not None and voter.phone == row["phone"] and len(voter.phone) == 10  # in clear
    assert voter.caste_category is None and voter.caste is None and voter.economic_status is None
    assert voter.redacted_fields == ["casteCategory", "caste", "economicStatus"]
    assert voter.booth.code == row["booth_code"]
    expected = [r[0] for r in await world.conn.fetch(
        "select scheme_code from beneficiaries where voter_id = $1 order by 1", row["id"])]  # fmt: skip
    assert [s.code for s in voter.schemes] == expected and expected
    assert entry.campaign.id == c.id and entry.caller_id == CALLER_LKO_M01 and not entry.campaign.managed
    # Reading phones in clear is noted for the audit log.
    assert ctx.read_log.entries() and ctx.read_log.entries()[0][0] == "voter.read_contact"


async def test_my_call_list_pages(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    n = await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=23)
    ctx = await world.ctx(CALLER_LKO_M01)
    seen: list[int] = []
    after = None
    while True:
        page = await outreach.my_call_list(ctx, campaign_id=c.id, first=5, after=after)
        seen += [e.id for e in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert len(seen) == len(set(seen)) == n
    with pytest.raises(BadUserInput):
        await outreach.my_call_list(ctx, first=5, after="garbage")
    with pytest.raises(BadUserInput):  # a cursor of another list
        await outreach.my_call_list(ctx, campaign_id=None, first=5, after=after)
    with pytest.raises(BadUserInput):
        await outreach.my_call_list(ctx, first=501)


async def test_my_call_list_visibility(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    future = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01, opens=2, closes=9)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=5)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, future.id, CALLER_LKO_M01, limit=5)
    ctx = await world.ctx(CALLER_LKO_M01)
    page = await outreach.my_call_list(ctx)
    assert page.total == 5 and {e.campaign.id for e in page.items} == {c.id}  # not yet open: hidden
    # Others see nothing of it.
    for user in (CALLER_LKO_M01_B1, MANDAL_PRESIDENT_LKO_M01, STATE_PRESIDENT):
        assert (await outreach.my_call_list(await world.ctx(user))).total == 0
    # Consent DENIED later: off the list.
    first_voter = await world.conn.fetchval("select voter_id from call_assignments where id = $1", page.items[0].id)
    await world.conn.execute("update voters set contact_consent = 'DENIED' where id = $1", first_voter)
    assert (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).total == 4
    # The campaign closes: nothing.
    await world.conn.execute("update campaigns set closes_on = current_date - 1, opens_on = current_date - 5")
    assert (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).total == 0
    await world.conn.execute("update campaigns set closes_on = current_date + 5")
    # both open now; the DENIED voter is on both campaigns' lists (same roll order)
    assert (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).total == 4 + 4
    # The caller role is revoked: nothing, at once.
    await world.conn.execute("delete from assignments where user_id = $1", CALLER_LKO_M01)
    assert (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).total == 0


# ------------------------------------------------------------------------- logCall ---
async def test_log_call(world: World) -> None:
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=3)
    entry = (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items[0]
    caller = await world.viewer(CALLER_LKO_M01)
    log = await outreach.log_call(
        world.conn,
        caller,
        world.policy,
        assignment_id=entry.id,
        outcome="REACHED",
        problems="Cylinder refill delayed",
        benefit_received=True,
        desired_benefit="Pucca house",
        satisfaction=3,
        notes="Call after 6 pm",
    )
    assert (log.outcome, log.satisfaction, log.caller_id, log.benefit_received) == ("REACHED", 3, CALLER_LKO_M01, True)
    ca = await world.conn.fetchrow("select * from call_assignments where id = $1", entry.id)
    assert (ca["last_call_id"], ca["last_outcome"]) == (log.id, "REACHED")
    audit_row = await world.conn.fetchrow("select * from audit_log where action = 'outreach.call'")
    assert audit_row["user_id"] == CALLER_LKO_M01 and audit_row["unit_code"].startswith(LKO_M01)
    assert await world.rollups_match_recount() == []

    before = await world.audit_count()
    for user in (CALLER_LKO_M01_B1, MANDAL_PRESIDENT_LKO_M01, DISTRICT_CONVENOR_LKO):
        with pytest.raises(NotFound):
            await outreach.log_call(
                world.conn, await world.viewer(user), world.policy, assignment_id=entry.id, outcome="REACHED"
            )
    for bad in ({"satisfaction": 0}, {"satisfaction": 6}, {"outcome": "HAPPY"}, {"notes": "x" * 5000}):
        args: dict[str, Any] = {"assignment_id": entry.id, "outcome": "NO_ANSWER"} | bad
        with pytest.raises(BadUserInput):
            await outreach.log_call(world.conn, caller, world.policy, **args)
    with pytest.raises(NotFound):
        await outreach.log_call(world.conn, caller, world.policy, assignment_id=10**12, outcome="REACHED")
    await world.conn.execute("update voters set contact_consent = 'DENIED' where id = $1", ca["voter_id"])
    with pytest.raises(NotFound):
        await outreach.log_call(world.conn, caller, world.policy, assignment_id=entry.id, outcome="REACHED")
    assert await world.audit_count() == before
    assert await world.conn.fetchval("select count(*) from call_logs") == 1


async def test_two_callers_logging_concurrently(world: World) -> None:
    """Two callers of one campaign log on their lists at once, one of them twice on each entry
    concurrently: every log kept, last_call_id the last of each entry, rollups exact."""
    c = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01_B1, limit=8, unit=LKO_M01_B1)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, c.id, CALLER_LKO_M01, limit=8)
    a = await world.viewer(CALLER_LKO_M01)
    b = await world.viewer(CALLER_LKO_M01_B1)
    list_a = [e.id for e in (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items]
    list_b = [e.id for e in (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01_B1))).items]
    assert len(list_a) == len(list_b) == 8 and not set(list_a) & set(list_b)
    jobs = [(a, i, "NO_ANSWER") for i in list_a] + [(a, i, "CALL_BACK") for i in list_a]
    jobs += [(b, i, "REACHED") for i in list_b]
    conns = [await asyncpg.connect(world.url) for _ in jobs]
    try:
        logs = await asyncio.gather(
            *(
                outreach.log_call(cn, v, world.policy, assignment_id=i, outcome=o)
                for cn, (v, i, o) in zip(conns, jobs, strict=True)
            )
        )
    finally:
        await asyncio.gather(*(cn.close() for cn in conns))
    assert len({log.id for log in logs}) == len(jobs) == await world.conn.fetchval("select count(*) from call_logs")
    rows = await world.conn.fetch(
        """select ca.id, ca.last_call_id, ca.last_outcome,
                  (select max(id) from call_logs l where l.assignment_id = ca.id) as m,
                  (select outcome from call_logs l where l.id = ca.last_call_id) as o
           from call_assignments ca where ca.campaign_id = $1""",
        c.id,
    )
    for r in rows:
        assert r["last_call_id"] == r["m"] and r["last_outcome"] == r["o"]
    assert await world.audit_count("outreach.call") == len(jobs)
    assert await world.rollups_match_recount() == []


# ---------------------------------------------------------------- campaigns, progress ---
async def test_campaigns_list_and_progress(world: World) -> None:
    m01 = await _campaign(world, MANDAL_PRESIDENT_LKO_M01, LKO_M01, name="M01")
    lko = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO, name="LKO")
    old = await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO, name="old", opens=-20, closes=-10)
    ayd = await _campaign(world, DISTRICT_PRESIDENT_AYD, AYD, name="AYD")
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, m01.id, CALLER_LKO_M01, limit=6)
    await _assign(world, MANDAL_PRESIDENT_LKO_M01, m01.id, CALLER_LKO_M01_B1, limit=4, unit=LKO_M01_B1)
    caller = await world.viewer(CALLER_LKO_M01)
    entries = (await outreach.my_call_list(await world.ctx(CALLER_LKO_M01))).items
    for e, o in zip(entries, ["REACHED", "REACHED", "CALL_BACK"], strict=False):
        await outreach.log_call(world.conn, caller, world.policy, assignment_id=e.id, outcome=o)

    async def names(user: str, **kw) -> list[str]:
        page = await outreach.campaigns(await world.ctx(user), **kw)
        assert page.total == len(page.items)
        return [c.name for c in page.items]

    assert await names(STATE_PRESIDENT) == ["AYD", "old", "LKO", "M01"]
    assert await names(DISTRICT_PRESIDENT_LKO) == ["old", "LKO", "M01"]
    assert await names(DISTRICT_PRESIDENT_LKO, open_only=True) == ["LKO", "M01"]
    assert await names(DISTRICT_PRESIDENT_LKO, unit=LKO_M01) == ["M01"]
    assert await names(DISTRICT_PRESIDENT_LKO, unit=AYD) == []
    assert await names(MANDAL_PRESIDENT_LKO_M01) == ["M01"]
    assert await names(CALLER_LKO_M01) == ["M01"]  # has entries there
    assert await names(CALLER_LKO) == []  # a caller without entries
    assert await names(DISTRICT_CO_CONVENOR_LKO) == []  # no outreach.manage
    assert await names(DISTRICT_PRESIDENT_AYD) == ["AYD"]

    ctx = await world.ctx(MANDAL_PRESIDENT_LKO_M01)
    page = await outreach.campaigns(ctx)
    progress = await outreach.campaign_progress(ctx, page.items)
    p = progress[m01.id]
    assert (p.assigned, p.called, p.buckets()) == (10, 3, [("REACHED", 2), ("CALL_BACK", 1)])
    # A caller's progress counts only their own entries.
    ctx = await world.ctx(CALLER_LKO_M01_B1)
    page = await outreach.campaigns(ctx)
    p = (await outreach.campaign_progress(ctx, page.items))[m01.id]
    assert (p.assigned, p.called) == (4, 0)

    # node(id) lookups follow the same visibility.
    assert await outreach.campaign_by_id(await world.ctx(DISTRICT_PRESIDENT_LKO), m01.id) is not None
    assert await outreach.campaign_by_id(await world.ctx(DISTRICT_PRESIDENT_LKO), ayd.id) is None
    assert await outreach.campaign_by_id(await world.ctx(CALLER_LKO_M01), m01.id) is not None
    assert await outreach.campaign_by_id(await world.ctx(CALLER_LKO_M01), lko.id) is None
    assert await outreach.campaign_by_id(await world.ctx(CALLER_LKO_M01), old.id) is None
    entry = entries[0]
    assert (await outreach.call_assignment_by_id(await world.ctx(CALLER_LKO_M01), entry.id)) is not None
    assert (await outreach.call_assignment_by_id(await world.ctx(CALLER_LKO_M01_B1), entry.id)) is None
    assert (await outreach.call_assignment_by_id(await world.ctx(STATE_PRESIDENT), entry.id)) is None

    # Statistics of the units follow (row triggers).
    m01_id = await world.conn.fetchval("select id from units where code = $1", LKO_M01)
    stats = dict(
        await world.conn.fetch(
            "select dim || '/' || key, n from unit_rollups where unit_id = $1 and dim like 'out%'", m01_id
        )
    )
    assert stats["outreach_assigned/"] == 10 and stats["outreach_called/"] == 3 and stats["outcome/REACHED"] == 2


async def test_campaign_pages(world: World) -> None:
    for i in range(7):
        await _campaign(world, DISTRICT_PRESIDENT_LKO, LKO, name=f"c{i}")
    ctx = await world.ctx(DISTRICT_PRESIDENT_LKO)
    seen, after = [], None
    while True:
        page = await outreach.campaigns(ctx, first=3, after=after)
        seen += [c.name for c in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == [f"c{i}" for i in reversed(range(7))]
