"""THE scope filter: a covering set of units compiled to one SQL condition on indexed columns.

Every read and write path that touches units, voters or anything hanging off them builds its
WHERE through `scope_condition` (and `under_condition` for "inside this unit"). Nothing else
in the code base writes a scope condition by hand.

A row is inside a covering unit U of level L when the row's `<L>_id` column equals U.id
(`units`, `voters` carry those columns). The single STATE covers everything.
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


def scope_condition(cover: Cover, params: SqlParams, alias: str) -> str:
    """`alias`'s row lies under one of `cover`'s units. Empty cover: `false`."""
    if cover.empty:
        return "false"
    if cover.everything:
        return "true"
    by_level: dict[Level, list[int]] = {}
    for unit in cover.units:
        by_level.setdefault(unit.level, []).append(unit.id)
    arms = [
        f"{alias}.{level.column} = any({params.add(sorted(ids))}::int[])"
        if len(ids) > 1
        else f"{alias}.{level.column} = {params.add(ids[0])}::int"
        for level, ids in sorted(by_level.items(), key=lambda item: item[0].depth)
    ]
    return arms[0] if len(arms) == 1 else "(" + " or ".join(arms) + ")"


def under_condition(place: UnitPlace, params: SqlParams, alias: str) -> str:
    """`alias`'s row lies in `place`'s subtree (itself included)."""
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
