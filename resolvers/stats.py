"""Unit statistics for a viewer: live from unit_rollups, sensitive breakdowns as released.

Stats of unit U for a viewer: the rollups of U when U lies inside the viewer's stats.read cover,
else the sum over the cover's units inside U (Cover.within), so nothing outside the cover is ever
counted. Breakdowns by caste_category, caste and economic_status come from released_cells, with
the suppression pattern decided over the whole tree at the last release (resolvers/release.py,
docs/disclosure-control.md), unless voter.read_sensitive covers every unit the numbers come from.
One statement for all the units of a batch (a page of children, a list), so `children { stats }`
is not one query per unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.viewer import UnitPlace
from resolvers.context import ReadContext
from resolvers.scope import SqlParams, scope_condition
from resolvers.units import UnitRow

SENSITIVE_DIMS = ("caste_category", "caste", "economic_status")
KEY_ORDER: dict[str, tuple[str, ...]] = {
    "gender": ("MALE", "FEMALE", "THIRD_GENDER"),
    "age_band": ("18-25", "26-35", "36-45", "46-60", "61+"),
    "caste_category": ("GEN", "OBC", "SC", "ST"),
    "economic_status": ("BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME"),
    "outcome": ("REACHED", "NO_ANSWER", "WRONG_NUMBER", "REFUSED", "CALL_BACK"),
}


@dataclass(slots=True)
class BucketData:
    """One bucket of a breakdown. Not frozen: a dashboard builds thousands per request, and a
    frozen dataclass's __init__ (object.__setattr__ per field) was ~8% of Q5's worker time (py-spy)."""

    key: str
    count: int | None  # None: suppressed


@dataclass(slots=True)
class StatsData:
    voters: int = 0
    with_phone: int = 0
    contactable: int = 0
    surveyed: int = 0
    by_gender: list[BucketData] = field(default_factory=list)
    by_age_band: list[BucketData] = field(default_factory=list)
    by_caste_category: list[BucketData] = field(default_factory=list)
    by_caste: list[BucketData] = field(default_factory=list)  # visible by (-count, key), then suppressed by key
    by_economic_status: list[BucketData] = field(default_factory=list)
    beneficiaries: list[BucketData] = field(default_factory=list)
    suppressed: bool = False
    outreach_assigned: int = 0
    outreach_called: int = 0
    by_outcome: list[BucketData] = field(default_factory=list)


def _ordered(dim: str, counts: Mapping[str, int | None]) -> list[BucketData]:
    """Buckets of one breakdown, zeros left out: enum order where there is one, else by key."""
    order = KEY_ORDER.get(dim)
    if order is not None:
        known = [BucketData(k, counts[k]) for k in order if k in counts]
        extra = [BucketData(k, counts[k]) for k in sorted(counts) if k not in order]
        return known + extra
    return [BucketData(k, counts[k]) for k in sorted(counts)]


def by_count(counts: Mapping[str, int | None]) -> list[BucketData]:
    """Largest first (ties by key); suppressed buckets after every visible one, by key, so that
    their place in the order tells nothing about their size."""
    visible = sorted(((k, n) for k, n in counts.items() if n is not None), key=lambda kn: (-kn[1], kn[0]))
    hidden = sorted(k for k, n in counts.items() if n is None)
    return [BucketData(k, n) for k, n in visible] + [BucketData(k, None) for k in hidden]


def build_stats(
    totals: Mapping[tuple[str, str], int],
    *,
    released: Mapping[tuple[str, str], int | None] | None = None,
) -> StatsData:
    """`totals`: live counts. `released`: the sensitive breakdowns as released (None: suppressed),
    shown instead of the live ones to a viewer without voter.read_sensitive; None: live, clear."""
    dims: dict[str, dict[str, int]] = {}
    for (dim, key), n in totals.items():
        if n > 0:
            dims.setdefault(dim, {})[key] = n

    def scalar(dim: str) -> int:
        return dims.get(dim, {}).get("", 0)

    stats = StatsData(
        voters=scalar("voters"),
        with_phone=scalar("with_phone"),
        contactable=scalar("contactable"),
        surveyed=scalar("surveyed"),
        outreach_assigned=scalar("outreach_assigned"),
        outreach_called=scalar("outreach_called"),
    )
    sensitive: dict[str, Mapping[str, int | None]] = {}
    if released is None:
        for dim in SENSITIVE_DIMS:
            sensitive[dim] = dims.get(dim, {})
    else:
        shown: dict[str, dict[str, int | None]] = {dim: {} for dim in SENSITIVE_DIMS}
        for (dim, key), count in released.items():
            shown[dim][key] = count
        sensitive.update(shown)
        stats.suppressed = any(c is None for c in released.values())
    stats.by_gender = _ordered("gender", dims.get("gender", {}))
    stats.by_age_band = _ordered("age_band", dims.get("age_band", {}))
    stats.by_caste_category = _ordered("caste_category", sensitive["caste_category"])
    stats.by_caste = by_count(sensitive["caste"])
    stats.by_economic_status = _ordered("economic_status", sensitive["economic_status"])
    stats.beneficiaries = _ordered("scheme", dims.get("scheme", {}))
    stats.by_outcome = _ordered("outcome", dims.get("outcome", {}))
    return stats


def sources_of(ctx: ReadContext, place: UnitPlace) -> tuple[UnitPlace, ...]:
    """The units whose rollups make up `place`'s stats for this viewer."""
    return ctx.cover("stats.read").within(place).units


def released_sum(parts: Sequence[Mapping[tuple[str, str], tuple[int, bool]]]) -> dict[tuple[str, str], int | None]:
    """The released cells of a sum of units: a cell is suppressed when any of its parts is, so
    that a sum shows nothing its parts do not (docs/disclosure-control.md)."""
    total: dict[tuple[str, str], int] = {}
    hidden: set[tuple[str, str]] = set()
    for part in parts:
        for dk, (n, suppressed) in part.items():
            total[dk] = total.get(dk, 0) + n
            if suppressed:
                hidden.add(dk)
    return {dk: (None if dk in hidden else n) for dk, n in total.items()}


async def stats_for_units(ctx: ReadContext, units: Sequence[UnitRow]) -> dict[int, StatsData]:
    """Stats of each unit for this viewer, in one statement for all of them. The sensitive
    breakdowns come from released_cells unless voter.read_sensitive covers every source."""
    sensitive = ctx.cover("voter.read_sensitive")
    sources = {u.id: sources_of(ctx, u.place) for u in units}
    clear = {uid: bool(srcs) and all(sensitive.covers(s) for s in srcs) for uid, srcs in sources.items()}
    ids = sorted({s.id for srcs in sources.values() for s in srcs})
    live_sensitive = sorted({s.id for uid, srcs in sources.items() if clear[uid] for s in srcs})
    from_release = sorted({s.id for uid, srcs in sources.items() if not clear[uid] for s in srcs})
    rows: list[Any] = []
    if ids:
        params = SqlParams(ids, list(SENSITIVE_DIMS), live_sensitive, from_release)
        cond = scope_condition(ctx.cover("stats.read"), params, "u")
        # Each unit found once by its key and filtered by the scope, then its two kinds of rows by
        # index (half the planning and execution time of a union of two joins with units).
        rows = await ctx.pool.fetch(
            "select x.released, u.id as unit_id, x.dim, x.key, x.n, x.suppressed from units u cross join lateral ("
            " select false as released, r.dim, r.key, r.n, false as suppressed from unit_rollups r"
            " where r.unit_id = u.id and r.n <> 0 and (r.dim <> all($2::text[]) or u.id = any($3::int[]))"
            " union all"
            " select true, c.dim, c.key, c.n, c.suppressed from released_cells c"
            " where c.unit_id = u.id and u.id = any($4::int[])"
            f") x where u.id = any($1::int[]) and {cond}",
            *params.values,
        )
    per_unit: dict[int, dict[tuple[str, str], int]] = {}
    per_unit_released: dict[int, dict[tuple[str, str], tuple[int, bool]]] = {}
    for row in rows:
        if row["released"]:
            per_unit_released.setdefault(row["unit_id"], {})[(row["dim"], row["key"])] = (row["n"], row["suppressed"])
        else:
            per_unit.setdefault(row["unit_id"], {})[(row["dim"], row["key"])] = row["n"]
    result: dict[int, StatsData] = {}
    for unit in units:
        srcs = sources[unit.id]
        totals: dict[tuple[str, str], int] = {}
        for src in srcs:
            for dk, n in per_unit.get(src.id, {}).items():
                totals[dk] = totals.get(dk, 0) + n
        released = None if clear[unit.id] else released_sum([per_unit_released.get(s.id, {}) for s in srcs])
        result[unit.id] = build_stats(totals, released=released)
    return result
