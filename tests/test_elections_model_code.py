"""Elections and the Model Code of Conduct on the resolvers (issue 16): creating and editing
elections, and each Model Code rule inside and outside its window and its unit, with the silence
period's edges. Every "now" is a FixedClock; the machine's clock decides nothing here, the
campaigns' own open/closed state included (resolvers/outreach.py): campaigns run from yesterday
through OPEN_UNTIL, so every clock of these tests falls inside them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core.errors import BadUserInput, Forbidden, ModelCodeInForce, NotFound
from core.viewer import Viewer
from models import CallOutcome
from resolvers import elections, outreach
from resolvers.elections import PhaseInput
from resolvers.outreach import CampaignRow
from resolvers.voters import VoterFilterArgs
from tests.elections_support import AYD_POLL, LKO_POLL, clock_at, ctx_at, lok_sabha
from tests.writes_support import (
    AYD,
    BOOTH_PRESIDENT_LKO_M01_B1,
    CALLER_LKO_M01,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_CONVENOR_VNS,
    DISTRICT_PRESIDENT_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_GENSEC,
    STATE_PRESIDENT,
    TODAY,
    World,
    make_world,
)

SCHEMES = ["PMAY-G", "PMUY", "PM-KISAN", "AB-PMJAY", "PMGKAY", "SBM-G", "PM-SVANIDHI", "NSAP"]


@pytest.fixture
async def world(database_url, conn, tiny_dataset):
    async with make_world(database_url, conn, tiny_dataset) as w:
        yield w


# ------------------------------------------------------------------------ elections ---
async def test_create_election_lists_phases_on_each_viewers_line(world: World) -> None:
    e = await lok_sabha(world)
    assert (e.code, e.model_code_from, e.counting_on) == ("LS-2029", dt.date(2029, 3, 16), dt.date(2029, 6, 4))
    assert [(p.place.code, p.poll_date) for p in e.phases] == [(LKO, LKO_POLL), (AYD, AYD_POLL)]
    audit = await world.conn.fetch(
        "select user_id, unit_code, records, detail from audit_log where action = 'election.create' order by unit_code"
    )
    assert [(r["user_id"], r["unit_code"], r["records"], json.loads(r["detail"])) for r in audit] == [
        (STATE_PRESIDENT, AYD, 1, {"election": "LS-2029"}),
        (STATE_PRESIDENT, LKO, 1, {"election": "LS-2029"}),
    ]
    clock = clock_at("2029-04-01 10:00")
    # A booth president sees the election by the district above them, and only that phase.
    mine = await elections.elections(await ctx_at(world, BOOTH_PRESIDENT_LKO_M01_B1, clock))
    assert [(x.code, [(p.place.code, p.poll_date) for p in x.phases]) for x in mine] == [("LS-2029", [(LKO, LKO_POLL)])]
    ayd = await elections.elections(await ctx_at(world, DISTRICT_PRESIDENT_AYD, clock))
    assert [[p.place.code for p in x.phases] for x in ayd] == [[AYD]]
    # Varanasi is not covered: nothing to see, by list or by code.
    vns = await ctx_at(world, DISTRICT_CONVENOR_VNS, clock)
    assert await elections.elections(vns) == []
    assert await elections.election_by_code(world.pool, "LS-2029", vns.viewer) is None
    assert await elections.elections(await ctx_at(world, STATE_PRESIDENT, clock), unit=LKO_M01_B1) == [
        await elections.election_by_code(world.pool, "LS-2029", await world.viewer(STATE_PRESIDENT))
    ]


@pytest.mark.parametrize(
    ("user", "phases", "kw", "error"),
    [
        (DISTRICT_PRESIDENT_LKO, [(AYD, AYD_POLL)], {}, NotFound),  # not visible
        (DISTRICT_PRESIDENT_LKO, [(LKO, LKO_POLL), ("NOPE", LKO_POLL)], {}, NotFound),
        (DISTRICT_CONVENOR_LKO, [(LKO, LKO_POLL)], {}, Forbidden),  # visible, no election.manage
        (DISTRICT_PRESIDENT_LKO, [(LKO, LKO_POLL), ("UP", LKO_POLL)], {}, NotFound),  # the state is above them
        (STATE_PRESIDENT, [(LKO, LKO_POLL), (LKO_M01, LKO_POLL)], {}, BadUserInput),  # nesting
        (STATE_PRESIDENT, [(LKO, LKO_POLL), (LKO, AYD_POLL)], {}, BadUserInput),  # twice
        (STATE_PRESIDENT, [(LKO, dt.date(2029, 6, 5))], {}, BadUserInput),  # after counting
        (STATE_PRESIDENT, [(LKO, dt.date(2029, 3, 15))], {}, BadUserInput),  # before the Model Code
        (STATE_PRESIDENT, [], {}, BadUserInput),
        (STATE_PRESIDENT, [(LKO, LKO_POLL)], {"code": "bad code"}, BadUserInput),
    ],
)
async def test_create_election_refused(world: World, user, phases, kw, error) -> None:
    with pytest.raises(error):
        await lok_sabha(world, phases=phases, user=user, **kw)
    assert await world.conn.fetchval("select count(*) from elections") == 0
    assert await world.audit_count() == 0


async def test_by_election_by_a_district_president_and_edits(world: World) -> None:
    by = await lok_sabha(world, phases=[(LKO_M01_B1, LKO_POLL)], code="BYE-LKO", user=DISTRICT_PRESIDENT_LKO)
    assert [p.place.code for p in by.phases] == [LKO_M01_B1]
    with pytest.raises(BadUserInput):  # codes are unique
        await lok_sabha(world, phases=[(LKO, LKO_POLL)], code="BYE-LKO", user=STATE_PRESIDENT)
    await lok_sabha(world)
    # The state election covers AYD too: the LKO president may not edit it; AYD's cannot see LKO's by-election.
    with pytest.raises(Forbidden):
        await elections.update_election(
            world.conn, await world.viewer(DISTRICT_PRESIDENT_LKO), world.policy, code="LS-2029", name="X"
        )
    with pytest.raises(NotFound):
        await elections.update_election(
            world.conn, await world.viewer(DISTRICT_PRESIDENT_AYD), world.policy, code="BYE-LKO", name="X"
        )
    moved = await elections.update_election(
        world.conn,
        await world.viewer(STATE_GENSEC),
        world.policy,
        code="LS-2029",
        counting_on="2029-06-10",
        phases=[PhaseInput(LKO, "2029-06-01")],
    )
    assert (moved.counting_on, [(p.place.code, p.poll_date) for p in moved.phases]) == (
        dt.date(2029, 6, 10),
        [(LKO, dt.date(2029, 6, 1))],
    )
    updates = await world.conn.fetch(
        "select unit_code from audit_log where action = 'election.update' order by unit_code"
    )
    assert [r["unit_code"] for r in updates] == [AYD, LKO]  # the units it covered and covers


# ---------------------------------------------------------------------- the rules ---
OPEN_UNTIL = "2029-12-31"  # after every clock of these tests


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


async def _entry(w: World, *, purpose: str = "FEEDBACK") -> int:
    """One call-list entry of CALLER_LKO_M01 in LKO-M01, of a campaign open from yesterday through
    OPEN_UNTIL, assigned today (the machine's clock) by the mandal president."""
    manager = await w.viewer(MANDAL_PRESIDENT_LKO_M01)
    c = await _open_campaign(w, manager, "Feedback", purpose)
    assert await outreach.assign_calls(w.conn, manager, w.policy, campaign_id=c.id, caller_id=CALLER_LKO_M01, limit=3)
    return int(await w.conn.fetchval("select min(id) from call_assignments where campaign_id = $1", c.id))


async def _open_campaign(w: World, manager: Viewer, name: str = "F", purpose: str = "FEEDBACK") -> CampaignRow:
    """A campaign of LKO-M01, open from yesterday through OPEN_UNTIL."""
    return await outreach.create_campaign(
        w.conn, manager, w.policy, name=name, unit=LKO_M01, schemes=SCHEMES, opens_on=day(-1), closes_on=OPEN_UNTIL,
        purpose=purpose,
    )  # fmt: skip


async def _log(w: World, entry: int, clock, **kw):
    return await outreach.log_call(
        w.conn, await w.viewer(CALLER_LKO_M01), w.policy, assignment_id=entry, outcome=CallOutcome.REACHED,
        clock=clock, settings=w.settings, **kw,
    )  # fmt: skip


async def _refusals(w: World) -> list[tuple[str, str, dict]]:
    rows = await w.conn.fetch("select user_id, unit_code, detail from audit_log where action = 'model_code.refused'")
    return [(r["user_id"], r["unit_code"], json.loads(r["detail"])) for r in rows]


@pytest.mark.parametrize(
    ("when", "refused"),
    [
        ("2029-03-15 23:59:59", False),  # the day before the Model Code
        ("2029-03-16 00:00", True),
        ("2029-06-04 23:59:59", True),  # counting day
        ("2029-06-05 00:00", False),
    ],
)
async def test_benefit_wanted_refused_while_the_code_is_in_force(world: World, when: str, refused: bool) -> None:
    await lok_sabha(world)
    entry = await _entry(world)
    calls = "select count(*) from call_logs"
    if refused:
        with pytest.raises(ModelCodeInForce) as err:
            await _log(world, entry, clock_at(when), desired_benefit="a pucca house")
        assert err.value.extensions["code"] == "MODEL_CODE_IN_FORCE"
        assert err.value.extensions["rule"] == "BENEFIT_REGISTRATION" and "2 May 2024" in err.value.message
        assert await world.conn.fetchval(calls) == 0
        booth = await world.conn.fetchval(
            "select b.code from call_assignments ca join voters v on v.id = ca.voter_id "
            "join units b on b.id = v.booth_id where ca.id = $1",
            entry,
        )
        assert await _refusals(world) == [
            (CALLER_LKO_M01, booth, {"election": "LS-2029", "refused": "logCall", "rule": "BENEFIT_REGISTRATION"})
        ]
        # The same call without the question is fine, and what was recorded before stays readable.
        await _log(world, entry, clock_at(when), problems="none")
        assert await world.conn.fetchval(calls) == 1
    else:
        log = await _log(world, entry, clock_at(when), desired_benefit="a pucca house")
        assert log.desired_benefit == "a pucca house" and await _refusals(world) == []


async def test_benefit_wanted_allowed_where_no_election_covers_the_booth(world: World) -> None:
    await lok_sabha(world, phases=[(AYD, AYD_POLL)])  # Ayodhya only
    entry = await _entry(world)
    log = await _log(world, entry, clock_at("2029-04-01 10:00"), desired_benefit="gas connection")
    assert log.desired_benefit == "gas connection" and await _refusals(world) == []


async def test_calls_of_a_benefit_registration_campaign_refused_in_the_window(world: World) -> None:
    entry = await _entry(world, purpose="BENEFIT_REGISTRATION")  # made before any election was known
    await lok_sabha(world)
    with pytest.raises(ModelCodeInForce):
        await _log(world, entry, clock_at("2029-04-01 10:00"))
    await _log(world, entry, clock_at("2029-07-01 10:00"))
    assert await world.conn.fetchval("select count(*) from call_logs") == 1


@pytest.mark.parametrize(
    ("unit", "opens", "closes", "refused"),
    [
        (LKO_M01, "2029-03-01", "2029-03-15", False),  # ends the day before the Model Code
        (LKO_M01, "2029-03-01", "2029-03-16", True),
        (LKO_M01, "2029-06-04", "2029-06-30", True),  # meets counting day
        (LKO_M01, "2029-06-05", "2029-06-30", False),
        ("UP-KSI-VNS", "2029-04-01", "2029-04-30", False),  # a unit no election covers
        ("UP", "2029-04-01", "2029-04-30", True),  # covers LKO and AYD
    ],
)
async def test_benefit_registration_campaigns(world: World, unit: str, opens: str, closes: str, refused: bool) -> None:
    await lok_sabha(world)
    args = {"name": "Register", "unit": unit, "schemes": ["PMUY"], "opens_on": opens, "closes_on": closes}
    viewer = await world.viewer(STATE_PRESIDENT)
    if refused:
        with pytest.raises(ModelCodeInForce):
            await outreach.create_campaign(world.conn, viewer, world.policy, purpose="BENEFIT_REGISTRATION", **args)
        assert await world.conn.fetchval("select count(*) from campaigns") == 0
        assert [(u, d["rule"]) for _, u, d in await _refusals(world)] == [(unit, "BENEFIT_REGISTRATION")]
        # A feedback campaign of the same dates is fine.
        await outreach.create_campaign(world.conn, viewer, world.policy, **args)
    else:
        c = await outreach.create_campaign(world.conn, viewer, world.policy, purpose="BENEFIT_REGISTRATION", **args)
        assert c.purpose == "BENEFIT_REGISTRATION" and await _refusals(world) == []


@pytest.mark.parametrize(
    ("when", "filt", "refused"),
    [
        ("2029-04-01 10:00", VoterFilterArgs(caste_category=("OBC",)), True),
        ("2029-04-01 10:00", VoterFilterArgs(caste_category=()), True),  # chosen by caste, even if empty
        ("2029-04-01 10:00", VoterFilterArgs(economic_status=("BPL",)), False),
        ("2029-03-15 10:00", VoterFilterArgs(caste_category=("OBC",)), False),
        ("2029-06-05 10:00", VoterFilterArgs(caste_category=("OBC",)), False),
    ],
)
async def test_call_lists_chosen_by_caste(world: World, when: str, filt: VoterFilterArgs, refused: bool) -> None:
    await lok_sabha(world)
    manager = await world.viewer(MANDAL_PRESIDENT_LKO_M01)
    c = await _open_campaign(world, manager)
    kw = {"campaign_id": c.id, "caller_id": CALLER_LKO_M01, "filt": filt, "clock": clock_at(when)}
    if refused:
        with pytest.raises(ModelCodeInForce) as err:
            await outreach.assign_calls(world.conn, manager, world.policy, settings=world.settings, **kw)
        assert err.value.extensions["rule"] == "CASTE_APPEAL"
        assert await world.conn.fetchval("select count(*) from call_assignments") == 0
        assert [(u, d["rule"]) for _, u, d in await _refusals(world)] == [(LKO_M01, "CASTE_APPEAL")]
    else:
        assert await outreach.assign_calls(world.conn, manager, world.policy, settings=world.settings, **kw) > 0
        assert await _refusals(world) == []


async def test_caste_lists_allowed_in_a_unit_no_election_covers(world: World) -> None:
    await lok_sabha(world, phases=[(AYD, AYD_POLL)])
    manager = await world.viewer(MANDAL_PRESIDENT_LKO_M01)
    c = await _open_campaign(world, manager)
    n = await outreach.assign_calls(
        world.conn, manager, world.policy, campaign_id=c.id, caller_id=CALLER_LKO_M01,
        filt=VoterFilterArgs(caste_category=("OBC", "SC")), clock=clock_at("2029-04-01 10:00"), settings=world.settings,
    )  # fmt: skip
    assert n > 0


# ------------------------------------------------------------------ silence period ---
@pytest.mark.parametrize(
    ("when", "silent"),
    [
        ("2029-05-18 17:59:59", False),  # LKO's poll closes on 20 May at 18:00 IST
        ("2029-05-18 18:00:00", True),
        ("2029-05-20 17:59:59", True),
        ("2029-05-20 18:00:00", False),
    ],
)
async def test_silence_period_edges(world: World, when: str, silent: bool) -> None:
    await lok_sabha(world)
    entry = await _entry(world)
    clock = clock_at(when)
    ctx = await ctx_at(world, CALLER_LKO_M01, clock)
    page = await outreach.my_call_list(ctx)
    pause = await outreach.call_list_pause(ctx)
    if silent:
        assert page.items == [] and page.total == 0
        assert pause is not None and pause.rule.code == "SILENCE_PERIOD" and pause.entries == 3
        assert LKO_POLL in pause.poll_dates  # the poll dates whose silence holds now
        with pytest.raises(ModelCodeInForce) as err:
            await _log(world, entry, clock)
        assert err.value.extensions["rule"] == "SILENCE_PERIOD"
        assert [d["rule"] for _, _, d in await _refusals(world)] == ["SILENCE_PERIOD"]
        assert await world.conn.fetchval("select count(*) from call_logs") == 0
    else:
        assert page.total == 3 and len(page.items) == 3 and pause is None
        await _log(world, entry, clock)


async def test_silence_is_per_booth_poll_date(world: World) -> None:
    """In AYD's silence period (its poll on 25 May), LKO's lists run as usual."""
    await lok_sabha(world)
    await _entry(world)
    ctx = await ctx_at(world, CALLER_LKO_M01, clock_at("2029-05-24 12:00"))
    assert (await outreach.my_call_list(ctx)).total == 3
    assert await outreach.call_list_pause(ctx) is None


async def test_assigning_calls_of_a_benefit_registration_campaign(world: World) -> None:
    """A campaign after counting day, its calls assigned ahead while the Model Code is in force."""
    await lok_sabha(world)
    manager = await world.viewer(MANDAL_PRESIDENT_LKO_M01)
    c = await outreach.create_campaign(
        world.conn, manager, world.policy, name="Register", unit=LKO_M01, schemes=SCHEMES,
        opens_on="2029-06-05", closes_on=OPEN_UNTIL, purpose="BENEFIT_REGISTRATION",
    )  # fmt: skip
    kw = {"campaign_id": c.id, "caller_id": CALLER_LKO_M01, "settings": world.settings}
    with pytest.raises(ModelCodeInForce) as err:
        await outreach.assign_calls(world.conn, manager, world.policy, clock=clock_at("2029-04-01 10:00"), **kw)
    assert err.value.extensions["rule"] == "BENEFIT_REGISTRATION"
    assert await world.conn.fetchval("select count(*) from call_assignments") == 0
    assert await outreach.assign_calls(world.conn, manager, world.policy, clock=clock_at("2029-06-05 10:00"), **kw) > 0


# ------------------------------------------------------- campaigns open by the clock ---
async def test_a_campaign_opens_and_closes_by_the_injected_clock(world: World) -> None:
    """Open/closed follows the request's clock (ELECTION_TIMEZONE), not the database's
    current_date: a campaign of May 2029 is open at a clock in May 2029 and closed after it, for its
    manager's list, the caller's list and their calls, and assignCalls."""
    manager = await world.viewer(MANDAL_PRESIDENT_LKO_M01)
    c = await outreach.create_campaign(
        world.conn, manager, world.policy, name="May", unit=LKO_M01, schemes=SCHEMES,
        opens_on="2029-05-01", closes_on="2029-05-10", clock=clock_at("2029-04-30 10:00"), settings=world.settings,
    )  # fmt: skip
    assert not c.open  # the day before it opens
    kw = {"campaign_id": c.id, "caller_id": CALLER_LKO_M01, "settings": world.settings, "limit": 3}
    assert await outreach.assign_calls(world.conn, manager, world.policy, clock=clock_at("2029-05-01 00:00"), **kw)
    for when, is_open in (("2029-05-01 00:00", True), ("2029-05-10 23:59:59", True), ("2029-05-11 00:00", False)):
        clock = clock_at(when)
        managed = await outreach.campaigns(await ctx_at(world, MANDAL_PRESIDENT_LKO_M01, clock), open_only=True)
        assert [x.id for x in managed.items] == ([c.id] if is_open else []), when
        mine = await outreach.my_call_list(await ctx_at(world, CALLER_LKO_M01, clock))
        assert mine.total == (3 if is_open else 0), when
    # IST midnight: 2029-05-10 18:30 UTC is already the 11th in Lucknow.
    late = await ctx_at(world, CALLER_LKO_M01, clock_at("2029-05-11 00:00"))
    assert (await outreach.my_call_list(late)).total == 0
    entry = int(await world.conn.fetchval("select min(id) from call_assignments where campaign_id = $1", c.id))
    await _log(world, entry, clock_at("2029-05-10 12:00"))
    with pytest.raises(NotFound):
        await _log(world, entry, clock_at("2029-05-11 00:00"))
    with pytest.raises(BadUserInput, match="closed"):
        await outreach.assign_calls(world.conn, manager, world.policy, clock=clock_at("2029-05-11 00:00"), **kw)
