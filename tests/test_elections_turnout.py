"""Election day on the resolvers (issue 16): turnout marking (poll date and hours, scope,
idempotence, undo), live turnout and the get-out-the-vote list exact against a ground truth
computed here from the tables, consent, and a property test of marking's and turnout's scope."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BadUserInput, Forbidden, NotFound, PollNotOpen
from resolvers import turnout
from resolvers.voters import Want
from tests.elections_support import clock_at, ctx_at, lok_sabha
from tests.writes_support import (
    AYD,
    AYD_M01_B1,
    BOOTH_PRESIDENT_LKO_M01_B1,
    BOOTH_PRESIDENT_LKO_M01_B2,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    LKO_M01_B2,
    MANDAL_PRESIDENT_LKO_M01,
    STATE_PRESIDENT,
    World,
    make_world,
)

POLL_DAY = "2029-05-20"  # LKO's poll date in tests/elections_support.py


@pytest.fixture
async def world(database_url, conn, tiny_dataset):
    async with make_world(database_url, conn, tiny_dataset) as w:
        yield w


async def mark(w: World, user: str, booth: str, serials: list[int], when: str = f"{POLL_DAY} 10:00"):
    return await turnout.mark_voted(
        w.pool, await w.viewer(user), w.policy, clock_at(when), w.settings, booth=booth, serials=serials
    )


async def undo(w: World, user: str, booth: str, serials: list[int], when: str):
    return await turnout.undo_marks(
        w.pool, await w.viewer(user), w.policy, clock_at(when), w.settings, booth=booth, serials=serials
    )


async def rollups_match_marks(w: World) -> list[tuple]:
    """turnout_rollups (stripes summed) against a recount from turnout_marks, for every unit."""
    kept = await w.conn.fetch(
        "select election_id, unit_id, dim, key, sum(n)::bigint as n from turnout_rollups group by 1, 2, 3, 4 "
        "having sum(n) <> 0"
    )
    recount = await w.conn.fetch(
        """select m.election_id, a.unit_id, c.dim, c.key, count(*) as n
           from turnout_marks m join units b on b.id = m.booth_id
           cross join lateral (values ('voted', ''), ('hour', lpad(m.local_hour::text, 2, '0')),
                                      ('caste_category', m.caste_category)) c(dim, key)
           cross join lateral unnest(array[b.state_id, b.region_id, b.district_id, b.mandal_id, b.id]) a(unit_id)
           where a.unit_id is not null and c.key is not null group by 1, 2, 3, 4"""
    )
    a = {(r["election_id"], r["unit_id"], r["dim"], r["key"]): r["n"] for r in kept}
    b = {(r["election_id"], r["unit_id"], r["dim"], r["key"]): r["n"] for r in recount}
    return sorted((k, a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k))


# ------------------------------------------------------------------------- marking ---
async def test_marking_is_idempotent_and_audited(world: World) -> None:
    await lok_sabha(world)
    first = await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [3, 1, 2, 2, 9_999_999])
    assert (first.elections, first.marked, first.already, first.unknown) == (["LS-2029"], 3, [], [9_999_999])
    again = await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1, 2, 3, 4], f"{POLL_DAY} 11:00")
    assert (again.marked, again.already, again.unknown) == (1, [1, 2, 3], [])
    rows = await world.conn.fetch(
        """select v.serial_number, m.local_hour, m.marked_by from turnout_marks m join voters v on v.id = m.voter_id
           order by 1"""
    )
    assert [(r["serial_number"], r["local_hour"], r["marked_by"]) for r in rows] == [
        (1, 10, BOOTH_PRESIDENT_LKO_M01_B1),
        (2, 10, BOOTH_PRESIDENT_LKO_M01_B1),
        (3, 10, BOOTH_PRESIDENT_LKO_M01_B1),
        (4, 11, BOOTH_PRESIDENT_LKO_M01_B1),
    ]
    audit = await world.conn.fetch(
        "select user_id, unit_code, records, detail from audit_log where action = 'turnout.mark' order by id"
    )
    assert [(r["user_id"], r["unit_code"], r["records"], json.loads(r["detail"])) for r in audit] == [
        (BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, 3, {"serials": 4}),
        (BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, 1, {"serials": 4}),
    ]
    assert await rollups_match_marks(world) == []


@pytest.mark.parametrize(
    ("when", "why"),
    [
        ("2029-05-19 10:00", "No election polls"),  # the day before
        ("2029-05-21 10:00", "No election polls"),
        (f"{POLL_DAY} 06:59:59", "open from 07:00 to 18:00"),
        (f"{POLL_DAY} 18:00", "open from 07:00 to 18:00"),
    ],
)
async def test_marking_outside_the_poll_date_or_hours(world: World, when: str, why: str) -> None:
    await lok_sabha(world)
    with pytest.raises(PollNotOpen) as err:
        await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1], when)
    assert why in err.value.message and err.value.extensions["code"] == "POLL_NOT_OPEN"
    assert await world.conn.fetchval("select count(*) from turnout_marks") == 0
    assert await world.audit_count("turnout.mark") == 0
    # The edges of the hours: 07:00 and 17:59:59 are open.
    for t in ("07:00", "17:59:59"):
        if when.startswith(POLL_DAY):
            assert (await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1], f"{POLL_DAY} {t}")).elections


async def test_poll_hours_are_settings(world: World) -> None:
    await lok_sabha(world)
    world.settings = world.settings.model_copy(update={"poll_closes_at": __import__("datetime").time(19, 0)})
    assert (await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1], f"{POLL_DAY} 18:30")).marked == 1


async def test_marking_a_booth_no_election_polls_at(world: World) -> None:
    await lok_sabha(world, phases=[(AYD, __import__("datetime").date(2029, 5, 20))])
    with pytest.raises(PollNotOpen):
        await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1])


@pytest.mark.parametrize(
    ("user", "booth", "error"),
    [
        (BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B1, NotFound),  # another booth: not visible
        (BOOTH_PRESIDENT_LKO_M01_B1, AYD_M01_B1, NotFound),
        (BOOTH_PRESIDENT_LKO_M01_B1, "NOPE", NotFound),
        (MANDAL_PRESIDENT_LKO_M01, LKO_M01_B1, Forbidden),  # visible, no turnout.mark
        (STATE_PRESIDENT, LKO_M01_B1, Forbidden),
        (DISTRICT_CONVENOR_LKO, LKO_M01, BadUserInput),  # not a booth
    ],
)
async def test_marking_outside_scope(world: World, user: str, booth: str, error: type) -> None:
    await lok_sabha(world)
    with pytest.raises(error):
        await mark(world, user, booth, [1, 2])
    assert await world.conn.fetchval("select count(*) from turnout_marks") == 0
    assert await world.audit_count("turnout.mark") == 0


@pytest.mark.parametrize("serials", [[], [0], [-1], list(range(1, 102)), [True]])
async def test_marking_bad_serials(world: World, serials: list[Any]) -> None:
    await lok_sabha(world)
    with pytest.raises(BadUserInput):
        await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, serials)


async def test_undo_within_the_window_only(world: World) -> None:
    await lok_sabha(world)
    await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1, 2], f"{POLL_DAY} 10:00:00")
    await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [3], f"{POLL_DAY} 10:04:00")
    # TURNOUT_UNDO_S = 300: at 10:05:00 the 10:00:00 marks are exactly 300 s old (still undoable),
    # at 10:05:01 no longer.
    late = await undo(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [1, 3, 7], f"{POLL_DAY} 10:05:01")
    assert (late.undone, late.expired, late.not_marked) == (1, [1], [7])
    ok = await undo(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [2], f"{POLL_DAY} 10:05:00")
    assert (ok.undone, ok.expired) == (1, [])
    left = await world.conn.fetch("select v.serial_number from turnout_marks m join voters v on v.id = m.voter_id")
    assert [r["serial_number"] for r in left] == [1]
    assert [r["records"] for r in await world.conn.fetch(
        "select records from audit_log where action = 'turnout.undo' order by id")] == [1, 1]  # fmt: skip
    with pytest.raises(NotFound):
        await undo(world, BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B1, [1], f"{POLL_DAY} 10:05:00")
    # Marked again after an undo: counted once.
    assert (await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [2, 3], f"{POLL_DAY} 12:00")).marked == 2
    assert await rollups_match_marks(world) == []


# -------------------------------------------------------------------- live turnout ---
async def _truth(w: World, unit: str) -> dict[str, Any]:
    """Turnout of `unit` for LS-2029 computed from voters and turnout_marks (LKO and AYD covered)."""
    under = (
        "(b.code = $1 or b.code like $1 || '-%' or $1 = 'UP')"
        " and (b.code like 'UP-AWD-LKO-%' or b.code like 'UP-AWD-AYD-%')"
    )
    eligible = await w.conn.fetchval(
        f"select count(*) from voters v join units b on b.id = v.booth_id where {under}", unit
    )
    rows = await w.conn.fetch(
        f"""select m.local_hour, v.caste_category from turnout_marks m join voters v on v.id = m.voter_id
            join units b on b.id = m.booth_id where {under}""",
        unit,
    )
    hours: dict[str, int] = {}
    castes: dict[str, int] = {}
    for r in rows:
        hours[f"{r['local_hour']:02d}"] = hours.get(f"{r['local_hour']:02d}", 0) + 1
        if r["caste_category"]:
            castes[r["caste_category"]] = castes.get(r["caste_category"], 0) + 1
    return {"voted": len(rows), "eligible": eligible, "hours": hours, "castes": castes}


async def _mark_some(w: World, seed: int) -> None:
    rnd = random.Random(seed)
    for user, booth in ((BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1), (BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B2)):
        for hour in (7, 9, 13, 17):
            serials = rnd.sample(range(1, 110), 12)
            await mark(w, user, booth, serials, f"{POLL_DAY} {hour:02d}:30")


async def test_turnout_exact_against_the_ground_truth(world: World) -> None:
    await lok_sabha(world)
    await _mark_some(world, 7)
    clock = clock_at(f"{POLL_DAY} 18:30")
    for user, unit, clear in (
        (STATE_PRESIDENT, "UP", False),
        (STATE_PRESIDENT, LKO, False),
        (DISTRICT_PRESIDENT_LKO, LKO_M01, False),
        (DISTRICT_CONVENOR_LKO, LKO, True),  # voter.read_sensitive over LKO
        (BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, True),
    ):
        data = await turnout.turnout(await ctx_at(world, user, clock), election="LS-2029", unit=unit)
        assert data is not None
        truth = await _truth(world, unit)
        assert (data.voted, data.eligible) == (truth["voted"], truth["eligible"]), (user, unit)
        assert [(b.key, b.count) for b in data.by_hour] == sorted(truth["hours"].items())
        order = ["GEN", "OBC", "SC", "ST"]
        castes = truth["castes"]
        assert [b.key for b in data.by_caste_category] == [k for k in order if k in castes]
        if clear:  # live
            assert [b.count for b in data.by_caste_category] == [castes[k] for k in order if k in castes]
            assert data.castes_as_of is None and not data.suppressed
        else:  # the 18:00 release (every mark is before it): true where shown (tests/test_elections_turnout_release.py)
            assert all(b.count in (None, castes[b.key]) for b in data.by_caste_category)
            assert data.castes_as_of is not None and data.castes_as_of.hour == 18
            assert data.suppressed == any(b.count is None for b in data.by_caste_category)
    assert truth["voted"] > 0
    # Not visible, or no stats.read there: nothing.
    ctx = await ctx_at(world, BOOTH_PRESIDENT_LKO_M01_B1, clock)
    assert await turnout.turnout(ctx, election="LS-2029", unit=LKO_M01_B2) is None
    assert await turnout.turnout(ctx, election="LS-2029", unit=LKO_M01) is None  # above their scope is not visible
    assert await turnout.turnout(ctx, election="NOPE", unit=LKO_M01_B1) is None


async def test_turnout_is_fresh_after_each_mark_and_undo(world: World) -> None:
    await lok_sabha(world)
    ctx = await ctx_at(world, STATE_PRESIDENT, clock_at(f"{POLL_DAY} 10:00"))
    for n, serials in ((2, [1, 2]), (5, [3, 4, 5])):
        await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, serials)
        data = await turnout.turnout(ctx, election="LS-2029", unit="UP")
        assert data is not None and data.voted == n
    await undo(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, [5], f"{POLL_DAY} 10:01")
    data = await turnout.turnout(ctx, election="LS-2029", unit=LKO_M01)
    assert data is not None and data.voted == 4


# ----------------------------------------------------------------- get out the vote ---
async def _gotv_truth(w: World, booth: str) -> list[str]:
    rows = await w.conn.fetch(
        """select v.epic_number from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.contact_consent <> 'DENIED'
             and not exists (select 1 from turnout_marks m where m.voter_id = v.id)
           order by (not exists (select 1 from beneficiaries x where x.voter_id = v.id)), v.serial_number, v.id""",
        booth,
    )
    return [r["epic_number"] for r in rows]


async def test_gotv_list_exact_paged_and_consent(world: World) -> None:
    await lok_sabha(world)
    await _mark_some(world, 11)
    ctx = await ctx_at(world, BOOTH_PRESIDENT_LKO_M01_B1, clock_at(f"{POLL_DAY} 15:00"))
    want = await _gotv_truth(world, LKO_M01_B1)
    got: list[str] = []
    after = None
    while True:
        page = await turnout.gotv(
            ctx, election="LS-2029", unit=LKO_M01_B1, first=17, after=after, want=Want(total=True)
        )
        assert page.total == len(want)
        got += [v.epic_number for v in page.items]
        if not page.has_next:
            break
        after = page.end_cursor
    assert got == want and len(want) > 20
    denied = await world.conn.fetchval(
        "select count(*) from voters v join units b on b.id = v.booth_id"
        " where b.code = $1 and contact_consent = 'DENIED'",
        LKO_M01_B1,
    )
    assert denied > 0  # DENIED voters exist in the booth and none is listed
    first = (await turnout.gotv(ctx, election="LS-2029", unit=LKO_M01_B1, first=1)).items[0]
    assert first.schemes  # beneficiaries first
    assert first.phone is None or (first.phone.isdigit() and "phone" not in first.redacted_fields)
    # One page of the roll (serials 10..30), in the same order.
    serial = dict(
        await world.conn.fetch(
            "select v.epic_number, v.serial_number from voters v join units b on b.id = v.booth_id where b.code = $1",
            LKO_M01_B1,
        )
    )
    part = await turnout.gotv(ctx, election="LS-2029", unit=LKO_M01_B1, serial_from=10, serial_to=30, first=500)
    assert [v.epic_number for v in part.items] == [e for e in want if 10 <= serial[e] <= 30]
    # The mandal above the booth president's booth is not visible to them: empty.
    assert (await turnout.gotv(ctx, election="LS-2029", unit=LKO_M01, first=500)).items == []
    # Someone else's booth, and roles without turnout.mark: empty.
    for user, unit in ((BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B1), (DISTRICT_CONVENOR_LKO, LKO)):
        other = await ctx_at(world, user, clock_at(f"{POLL_DAY} 15:00"))
        assert (await turnout.gotv(other, election="LS-2029", unit=unit, want=Want(total=True))).total == 0


# ------------------------------------------------------------------ scope, as a property ---
USERS = [f"u-{i:06d}" for i in range(1, 76)]
UNITS = [
    "UP", "UP-AWD", "UP-KSI", LKO, AYD, "UP-KSI-VNS", LKO_M01, "UP-AWD-LKO-M02", "UP-AWD-AYD-M01",
    LKO_M01_B1, LKO_M01_B2, "UP-AWD-LKO-M02-B0001", AYD_M01_B1, "UP-AWD-AYD-M02-B0003", "UP-KSI-VNS-M01-B0001",
]  # fmt: skip
BOOTHS = [u for u in UNITS if "-B0" in u]


@pytest.fixture
async def scope_world(database_url, conn, tiny_dataset):
    async with make_world(database_url, conn, tiny_dataset) as w:
        await lok_sabha(w)  # LKO and AYD poll on 20 and 25 May; VNS is not covered
        yield w


async def _assigned(w: World, user: str) -> list[tuple[str, str]]:
    rows = await w.conn.fetch(
        "select a.role, u.code from assignments a join units u on u.id = a.unit_id where a.user_id = $1", user
    )
    return [(r["role"], r["code"]) for r in rows]


def _under(code: str, top: str) -> bool:
    return top == "UP" or code == top or code.startswith(top + "-")


STATS_ROLES = {
    "STATE_PRESIDENT", "STATE_GENERAL_SECRETARY", "REGIONAL_PRESIDENT", "REGIONAL_INCHARGE", "DISTRICT_PRESIDENT",
    "DISTRICT_INCHARGE", "DISTRICT_CONVENOR", "DISTRICT_CO_CONVENOR", "IT_CONVENOR", "SOCIAL_MEDIA_CONVENOR",
    "OFFICE_SECRETARY", "MANDAL_PRESIDENT", "BOOTH_PRESIDENT",
}  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    user=st.sampled_from(USERS),
    booth=st.sampled_from(BOOTHS),
    serials=st.lists(st.integers(1, 130), min_size=1, max_size=30),
    unit=st.sampled_from(UNITS),
    day=st.sampled_from(["2029-05-20", "2029-05-25"]),
)
async def test_marking_and_turnout_stay_in_scope(
    scope_world: World, user: str, booth: str, serials: list[int], unit: str, day: str
) -> None:
    w = scope_world
    assigned = await _assigned(w, user)
    may_mark = any(r == "BOOTH_PRESIDENT" and _under(booth, u) for r, u in assigned)
    sees = any(_under(booth, u) for _, u in assigned)
    polls = (booth.startswith(LKO) and day == "2029-05-20") or (booth.startswith(AYD) and day == "2029-05-25")
    before = await w.conn.fetchval("select count(*) from turnout_marks")
    try:
        result = await mark(w, user, booth, serials, f"{day} 12:00")
    except NotFound:
        assert not sees
    except Forbidden:
        assert sees and not may_mark
    except PollNotOpen:
        assert may_mark and not polls
    else:
        assert may_mark and polls and result.booth_code == booth
    if not (may_mark and polls):
        assert await w.conn.fetchval("select count(*) from turnout_marks") == before
    # Turnout: exactly the marks under the unit and under the viewer's stats.read units, never more.
    stats_units = [u for r, u in assigned if r in STATS_ROLES]
    ctx = await ctx_at(w, user, clock_at(f"{day} 12:30"))
    data = await turnout.turnout(ctx, election="LS-2029", unit=unit)
    visible = any(_under(unit, u) for _, u in assigned)
    reach = [u for u in stats_units if _under(u, unit) or _under(unit, u)]
    # The election is known to viewers on the line of one of its units (LKO, AYD).
    knows = any(_under(u, p) or _under(p, u) for _, u in assigned for p in (LKO, AYD))
    if not visible or not reach or not knows:
        assert data is None
        return
    assert data is not None
    marks = await w.conn.fetch("select b.code from turnout_marks m join units b on b.id = m.booth_id")
    expected = sum(1 for m in marks if _under(m["code"], unit) and any(_under(m["code"], u) for u in stats_units))
    assert data.voted == expected
    assert await rollups_match_marks(w) == []
