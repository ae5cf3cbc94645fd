"""Page in-charges on election day (issue 16, docs/elections.md): turnout.mark over their roll page
only. They mark and undo serials of their page (others are unknown to them, as out of scope looks
like absent), get the GOTV list of their page, and see no booth; a property test over random page
in-charges and serials checks that a mark never lands outside the marker's page."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import NotFound
from resolvers import turnout
from resolvers.voters import Want
from tests.elections_support import clock_at, ctx_at, lok_sabha
from tests.writes_support import BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, LKO_M01_B2, World, make_world

POLL_DAY = "2029-05-20"  # LKO's poll date in tests/elections_support.py
IN_CHARGES = {  # user -> (booth, page)
    "u-pg-01": (LKO_M01_B1, 1),
    "u-pg-02": (LKO_M01_B1, 2),
    "u-pg-03": (LKO_M01_B1, 3),
    "u-pg-04": (LKO_M01_B2, 2),
}


@pytest.fixture
async def world(database_url, conn, tiny_dataset):
    async with make_world(database_url, conn, tiny_dataset) as w:
        await lok_sabha(w)
        for user, (booth, page) in IN_CHARGES.items():
            await conn.execute("insert into users (id, name) values ($1, $1)", user)
            await conn.execute(
                "insert into assignments (user_id, role, unit_id, page) select $1, 'PAGE_INCHARGE', id, $3"
                " from units where code = $2",
                user,
                booth,
                page,
            )
        yield w


async def pages_of(w: World, booth: str) -> dict[int, int]:
    """serial -> roll page, of the booth's voters."""
    rows = await w.conn.fetch(
        "select v.serial_number, v.page from voters v join units b on b.id = v.booth_id where b.code = $1", booth
    )
    return {r["serial_number"]: r["page"] for r in rows}


async def marked(w: World, booth: str) -> set[int]:
    rows = await w.conn.fetch(
        "select v.serial_number from turnout_marks m join voters v on v.id = m.voter_id"
        " join units b on b.id = m.booth_id where b.code = $1",
        booth,
    )
    return {r["serial_number"] for r in rows}


async def mark(w: World, user: str, booth: str, serials: list[int], when: str = f"{POLL_DAY} 10:00"):
    return await turnout.mark_voted(
        w.pool, await w.viewer(user), w.policy, clock_at(when), w.settings, booth=booth, serials=serials
    )


async def undo(w: World, user: str, booth: str, serials: list[int], when: str = f"{POLL_DAY} 10:01"):
    return await turnout.undo_marks(
        w.pool, await w.viewer(user), w.policy, clock_at(when), w.settings, booth=booth, serials=serials
    )


async def test_a_page_incharge_marks_and_undoes_their_page_only(world: World) -> None:
    page = await pages_of(world, LKO_M01_B1)
    on_2 = sorted(s for s, p in page.items() if p == 2)
    others = sorted(s for s, p in page.items() if p != 2)[:3]
    result = await mark(world, "u-pg-02", LKO_M01_B1, on_2[:4] + others)
    assert (result.marked, result.already, result.unknown) == (4, [], sorted(others))
    assert await marked(world, LKO_M01_B1) == set(on_2[:4])
    # The booth president marks the rest of the booth; the page in-charge cannot undo those.
    await mark(world, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, others)
    gone = await undo(world, "u-pg-02", LKO_M01_B1, on_2[:2] + others)
    assert (gone.undone, gone.not_marked) == (2, sorted(others))
    assert await marked(world, LKO_M01_B1) == set(on_2[2:4]) | set(others)
    entry = await world.conn.fetchrow(
        "select user_id, unit_code, records from audit_log where action = 'turnout.mark' order by id limit 1"
    )
    assert tuple(entry) == ("u-pg-02", LKO_M01_B1, 4)
    # Another booth: not visible to them.
    with pytest.raises(NotFound):
        await mark(world, "u-pg-02", LKO_M01_B2, on_2[:1])


async def test_a_page_incharge_gets_gotv_for_their_page(world: World) -> None:
    page = await pages_of(world, LKO_M01_B1)
    on_3 = sorted(s for s, p in page.items() if p == 3)
    await mark(world, "u-pg-03", LKO_M01_B1, on_3[:5])
    ctx = await ctx_at(world, "u-pg-03", clock_at(f"{POLL_DAY} 12:00"))
    got = await turnout.gotv(ctx, election="LS-2029", unit=LKO_M01_B1, page=3, first=500, want=Want(total=True))
    expected = await world.conn.fetch(
        """select v.epic_number from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.page = 3 and v.contact_consent <> 'DENIED'
             and not exists (select 1 from turnout_marks m where m.voter_id = v.id)
           order by (not exists (select 1 from beneficiaries x where x.voter_id = v.id)), v.serial_number""",
        LKO_M01_B1,
    )
    assert [v.epic_number for v in got.items] == [r["epic_number"] for r in expected] and got.total == len(expected)
    assert expected and all(v.phone is None or v.phone.isdigit() for v in got.items)  # phones in clear to call
    # The whole booth, or another page: nothing.
    for unit, pg in ((LKO_M01_B1, None), (LKO_M01_B1, 2), (LKO_M01_B2, 3)):
        other = await turnout.gotv(ctx, election="LS-2029", unit=unit, page=pg, want=Want(total=True))
        assert other.total == 0 and other.items == [], (unit, pg)
    # The booth president sees the page too, through the same argument.
    president = await ctx_at(world, BOOTH_PRESIDENT_LKO_M01_B1, clock_at(f"{POLL_DAY} 12:00"))
    again = await turnout.gotv(president, election="LS-2029", unit=LKO_M01_B1, page=3, first=500)
    assert [v.epic_number for v in again.items] == [r["epic_number"] for r in expected]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    user=st.sampled_from([*IN_CHARGES, BOOTH_PRESIDENT_LKO_M01_B1]),
    booth=st.sampled_from([LKO_M01_B1, LKO_M01_B2]),
    serials=st.lists(st.integers(1, 130), min_size=1, max_size=30),
    undo_some=st.booleans(),
)
async def test_marks_never_land_outside_the_markers_page(
    world: World, user: str, booth: str, serials: list[int], undo_some: bool
) -> None:
    page = await pages_of(world, booth)
    before = await marked(world, booth)
    held = IN_CHARGES.get(user)
    if held is None:  # the booth president: their booth
        reach = set(page) if booth == LKO_M01_B1 else None
    else:
        reach = {s for s, p in page.items() if p == held[1]} if held[0] == booth else None
    try:
        result = await mark(world, user, booth, serials)
    except NotFound:
        assert reach is None
        assert await marked(world, booth) == before
        return
    assert reach is not None
    wanted = set(serials)
    assert set(result.unknown) == wanted - reach
    assert await marked(world, booth) == before | (wanted & reach)
    if undo_some:
        after = await marked(world, booth)
        gone = await undo(world, user, booth, serials)
        assert set(gone.not_marked) == wanted - (after & reach)
        assert await marked(world, booth) == after - (wanted & reach)
