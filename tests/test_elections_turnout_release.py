"""Turnout by caste category for viewers without voter.read_sensitive (issue 16, docs/elections.md):
the differencing attacks that the old per-table small-cell rule allowed, run against it (they
succeed) and against the release (they fail): a parent minus its shown children, and two reads
around one batch of marks. Also: a release stands at fixed boundaries, counts only marks that can
no longer be undone, and shows true counts wherever it shows a count."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from resolvers import turnout, turnout_release
from tests.elections_support import clock_at, ctx_at, lok_sabha
from tests.writes_support import (
    BOOTH_PRESIDENT_LKO_M01_B1,
    BOOTH_PRESIDENT_LKO_M01_B2,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    LKO_M01_B2,
    World,
    make_world,
)

POLL_DAY = "2029-05-20"
CATEGORIES = ("GEN", "OBC", "SC", "ST")


@pytest.fixture
async def world(database_url, conn, tiny_dataset):
    turnout_release.forget()
    async with make_world(database_url, conn, tiny_dataset) as w:
        await lok_sabha(w)
        yield w


def old_rule(counts: Mapping[str, int], min_cell: int) -> dict[str, int | None]:
    """What turnout showed before the release: access-policy.md's small-cell rule for one breakdown
    (1..min_cell-1 hidden, and the smallest other one when exactly one was), per unit and request."""
    out: dict[str, int | None] = {k: (None if 0 < n < min_cell else n) for k, n in counts.items()}
    hidden = [k for k, n in out.items() if n is None]
    if len(hidden) == 1:
        rest = sorted((n, k) for k, n in out.items() if n)
        if rest:
            out[rest[0][1]] = None
    return out


async def serials(w: World, booth: str, category: str, n: int, skip: int = 0) -> list[int]:
    rows = await w.conn.fetch(
        """select v.serial_number from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.caste_category = $2 order by v.serial_number offset $3 limit $4""",
        booth,
        category,
        skip,
        n,
    )
    assert len(rows) == n, (booth, category, n)
    return [r["serial_number"] for r in rows]


async def mark(w: World, user: str, booth: str, marks: list[int], when: str) -> None:
    await turnout.mark_voted(
        w.pool, await w.viewer(user), w.policy, clock_at(when), w.settings, booth=booth, serials=marks
    )


async def live_castes(w: World, unit: str) -> dict[str, int]:
    """The true turnout by caste category of `unit` (what the old rule started from)."""
    rows = await w.conn.fetch(
        """select m.caste_category, count(*) as n from turnout_marks m join units b on b.id = m.booth_id
           where (b.code = $1 or b.code like $1 || '-%') and m.caste_category is not null group by 1""",
        unit,
    )
    return {r["caste_category"]: r["n"] for r in rows}


async def children(w: World, unit: str) -> list[str]:
    rows = await w.conn.fetch(
        "select c.code from units c join units p on p.id = c.parent_id where p.code = $1 order by 1", unit
    )
    return [r["code"] for r in rows]


def recovered(tables: Mapping[str, Mapping[str, int | None]], family: Mapping[str, list[str]]) -> set[tuple]:
    """Hidden cells worked out exactly as a shown parent minus its shown children (a child absent
    from `tables` or without the key counts 0: nobody voted there)."""
    out = set()
    for parent, kids in family.items():
        for k in CATEGORIES:
            total = tables[parent].get(k, 0)
            hidden = [c for c in kids if tables.get(c, {}).get(k, 0) is None]
            if total is None or len(hidden) != 1:
                continue
            rest = sum(tables.get(c, {}).get(k, 0) or 0 for c in kids if c != hidden[0])
            out.add((hidden[0], k, total - rest))
    return out


async def shown(w: World, user: str, unit: str, when: str) -> dict[str, int | None]:
    data = await turnout.turnout(await ctx_at(w, user, clock_at(when)), election="LS-2029", unit=unit)
    assert data is not None
    return {b.key: b.count for b in data.by_caste_category}


async def _day_so_far(w: World) -> None:
    """B1: 3 OBC voters (a small cell), 8 GEN, 6 SC; B2: 10 OBC, 8 GEN, 6 SC. Marked at 10:00."""
    b1 = await serials(w, LKO_M01_B1, "OBC", 3) + await serials(w, LKO_M01_B1, "GEN", 8)
    b1 += await serials(w, LKO_M01_B1, "SC", 6)
    b2 = await serials(w, LKO_M01_B2, "OBC", 10) + await serials(w, LKO_M01_B2, "GEN", 8)
    b2 += await serials(w, LKO_M01_B2, "SC", 6)
    await mark(w, BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, b1, f"{POLL_DAY} 10:00")
    await mark(w, BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B2, b2, f"{POLL_DAY} 10:00")


async def test_parent_minus_children_recovers_cells_under_the_old_rule_not_the_release(world: World) -> None:
    await _day_so_far(world)
    family = {LKO: await children(world, LKO), LKO_M01: await children(world, LKO_M01)}
    units = [LKO, *family[LKO], *family[LKO_M01]]
    m = world.settings.min_cell_size
    old = {u: old_rule(await live_castes(world, u), m) for u in units}
    leaks = recovered(old, family)
    assert (LKO_M01_B1, "OBC", 3) in leaks  # the old rule gives B1's 3 OBC voters away
    new = {u: await shown(world, DISTRICT_PRESIDENT_LKO, u, f"{POLL_DAY} 11:10") for u in units}
    assert recovered(new, family) == set()
    # What is shown is true, and the small cell is hidden.
    for u in units:
        truth = await live_castes(world, u)
        assert all(n == truth.get(k, 0) for k, n in new[u].items() if n is not None), u
    assert new[LKO_M01_B1]["OBC"] is None


async def test_one_batch_between_two_reads_shows_under_the_old_rule_not_the_release(world: World) -> None:
    await _day_so_far(world)
    when_before, when_after = f"{POLL_DAY} 11:10", f"{POLL_DAY} 12:10"
    units = [LKO, LKO_M01, LKO_M01_B1, LKO_M01_B2]
    m = world.settings.min_cell_size
    old_before = {u: old_rule(await live_castes(world, u), m) for u in units}
    new_before = {u: await shown(world, DISTRICT_PRESIDENT_LKO, u, when_before) for u in units}
    # One more SC voter of B2 votes at 11:30 (the audit entry names the booth and one record).
    one = await serials(world, LKO_M01_B2, "SC", 1, skip=6)
    await mark(world, BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B2, one, f"{POLL_DAY} 11:30")
    old_after = {u: old_rule(await live_castes(world, u), m) for u in units}
    assert old_after[LKO_M01_B2]["SC"] == old_before[LKO_M01_B2]["SC"] + 1  # the old rule: that voter is SC
    # Within the hour nothing moves; at the next boundary no cell shown twice moved by 1..4, and the
    # tree gives no hidden cell back either.
    assert {u: await shown(world, DISTRICT_PRESIDENT_LKO, u, f"{POLL_DAY} 11:40") for u in units} == new_before
    new_after = {u: await shown(world, DISTRICT_PRESIDENT_LKO, u, when_after) for u in units}
    for u in units:
        for k in CATEGORIES:
            a, b = new_before[u].get(k, 0), new_after[u].get(k, 0)
            assert a is None or b is None or not 0 < b - a < m, (u, k, a, b)
    family = {LKO_M01: [LKO_M01_B1, LKO_M01_B2, *[c for c in await children(world, LKO_M01) if c not in units]]}
    assert recovered(new_after, family) == set()


async def test_a_release_counts_only_marks_past_the_undo_window_at_fixed_boundaries(world: World) -> None:
    gen = await serials(world, LKO_M01_B2, "GEN", 12)
    await mark(world, BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B2, gen[:6], f"{POLL_DAY} 09:50")
    await mark(world, BOOTH_PRESIDENT_LKO_M01_B2, LKO_M01_B2, gen[6:], f"{POLL_DAY} 09:58")
    ctx = await ctx_at(world, DISTRICT_PRESIDENT_LKO, clock_at(f"{POLL_DAY} 10:04"))
    data = await turnout.turnout(ctx, election="LS-2029", unit=LKO_M01_B2)
    assert data is not None and data.voted == 12  # totals are live
    assert data.by_caste_category == [] and data.castes_as_of is not None  # 10:04 - 300 s: the 09:00 release
    assert data.castes_as_of.isoformat().startswith(f"{POLL_DAY}T09:00:00")
    later = await turnout.turnout(
        await ctx_at(world, DISTRICT_PRESIDENT_LKO, clock_at(f"{POLL_DAY} 10:05")), election="LS-2029", unit=LKO_M01_B2
    )
    assert later is not None and [b.key for b in later.by_caste_category] == ["GEN"]  # the 10:00 release
    assert later.by_caste_category[0].count in (None, 12)  # a lone cell may be hidden (it is in the tiny set)
    # The booth president (voter.read_sensitive over the booth) reads it live.
    mine = await turnout.turnout(
        await ctx_at(world, BOOTH_PRESIDENT_LKO_M01_B2, clock_at(f"{POLL_DAY} 10:04")),
        election="LS-2029",
        unit=LKO_M01_B2,
    )
    assert (
        mine is not None
        and mine.castes_as_of is None
        and [(b.key, b.count) for b in mine.by_caste_category] == [("GEN", 12)]
    )
