"""THE scope filter: a covering set of units compiled to one SQL condition on indexed columns.

Every read and write path that touches units, voters or anything hanging off them builds its
WHERE through `scope_condition` (and `under_condition` for "inside this unit"). Nothing else
in the code base writes a scope condition by hand.

A row is inside a covering unit U of level L when the row's `<L>_id` column equals U.id
(`units`, `voters` carry those columns). The single STATE covers everything. A roll page of a
booth (a page in-charge's cover, docs/pages.md) holds the rows with that booth_id and that
`page`: only voters carry a page (`pages=True`); no other row lies inside a page.
"""

from __future__ import annotations

from typing import Any

from core.viewer import UnitPlace
from models import Level
from policies import Cover


class SqlParams:
    """Positional parameters for one asyncpg statement: `add(value)` returns its `$n`."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def scope_condition(cover: Cover, params: SqlParams, alias: str, *, pages: bool = False) -> str:
    """`alias`'s row lies under one of `cover`'s units. Empty cover: `false`. `pages`: the row
    carries a `page` (voters), so a cover's roll pages hold rows; else they hold none."""
    if cover.empty:
        return "false"
    if cover.everything:
        return "true"
    by_level: dict[Level, list[int]] = {}
    page_arms: list[str] = []
    for unit in cover.units:
        if unit.page is None:
            by_level.setdefault(unit.level, []).append(unit.id)
        elif pages:
            page_arms.append(_page_arm(unit, params, alias))
    arms = [
        f"{alias}.{level.column} = any({params.add(sorted(ids))}::int[])"
        if len(ids) > 1
        else f"{alias}.{level.column} = {params.add(ids[0])}::int"
        for level, ids in sorted(by_level.items(), key=lambda item: item[0].depth)
    ] + page_arms
    if not arms:
        return "false"
    return arms[0] if len(arms) == 1 else "(" + " or ".join(arms) + ")"


def reach_condition(cover: Cover, params: SqlParams, alias: str) -> str:
    """`alias`'s unit row lies inside `cover`, or is the booth of one of its roll pages: where
    someone holding a page may act on that page's voters (a page in-charge marks turnout at their
    booth, docs/elections.md). What they may touch there is still `scope_condition(..., pages=True)`
    on the voters."""
    booths = sorted({u.id for u in cover.units if u.page is not None})
    inside = scope_condition(cover, params, alias)
    if not booths:
        return inside
    return f"({inside} or {alias}.id = any({params.add(booths)}::int[]))"


def _page_arm(page: UnitPlace, params: SqlParams, alias: str) -> str:
    # (booth_id, page, serial_number) is indexed: a page's few dozen voters by one range scan.
    return f"({alias}.booth_id = {params.add(page.id)}::int and {alias}.page = {params.add(page.page)}::int)"


def under_condition(place: UnitPlace, params: SqlParams, alias: str, *, pages: bool = False) -> str:
    """`alias`'s row lies in `place`'s subtree (itself included); of a roll page, only rows that
    carry a page (`pages`) can."""
    if place.page is not None:
        return _page_arm(place, params, alias) if pages else "false"
    return under_unit(place.id, place.level, params, alias)


def under_unit(unit_id: int, level: Level, params: SqlParams, alias: str) -> str:
    """`alias`'s row lies in the subtree of the unit with this id and level (itself included)."""
    if level is Level.STATE:  # the one state holds everything
        return "true"
    return f"{alias}.{level.column} = {params.add(unit_id)}::int"


def line_condition(cover: Cover, params: SqlParams, alias: str) -> str:
    """`alias`'s unit row lies on the line of one of `cover`'s units: inside it (the scope
    filter) or above it (one of its ancestors). For records anchored at a unit, such as a
    campaign, that reach down to someone working below them."""
    if cover.empty:
        return "false"
    above = sorted({a for u in cover.units for a in u.ancestors if a is not None})
    return f"({alias}.id = any({params.add(above)}::int[]) or {scope_condition(cover, params, alias)})"
