"""Units for a viewer: lookups, children, search lists, roots and breadcrumbs.

Every lookup that hands out a unit goes through scope_condition over the viewer's unit.read
cover. Two unscoped reads exist, and they never hand out a unit: `place_by_code` (the position of
a unit named in an argument, used only to build a condition that is ANDed with the scope) and
`breadcrumbs` (code, name, level of the ancestors of a unit already handed out: always readable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.viewer import UnitPlace, unit_place
from models import Level
from policies import Cover
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, like_prefix, validate_first
from resolvers.page import Page
from resolvers.places import find_unit
from resolvers.scope import SqlParams, scope_condition

UNIT_COLUMNS = (
    "u.id, u.code, u.parent_id, u.level, u.name, u.name_hi, u.path, "
    "u.state_id, u.region_id, u.district_id, u.mandal_id, u.booth_id"
)


@dataclass(frozen=True, slots=True)
class UnitRow:
    place: UnitPlace
    name: str
    name_hi: str | None
    parent_id: int | None

    @property
    def id(self) -> int:
        return self.place.id

    @property
    def code(self) -> str:
        return self.place.code

    @property
    def level(self) -> Level:
        return self.place.level

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the units above this one, from the top (breadcrumbs)."""
        return [i for i in self.place.ancestors[: self.place.level.depth] if i is not None]


@dataclass(frozen=True, slots=True)
class UnitRefRow:
    code: str
    name: str
    name_hi: str | None
    level: Level


def unit_row(row: Mapping[str, Any]) -> UnitRow:
    return UnitRow(place=unit_place(row), name=row["name"], name_hi=row["name_hi"], parent_id=row["parent_id"])


def _unit_cover(ctx: ReadContext) -> Cover:
    return ctx.cover("unit.read")


async def unit_by_code(ctx: ReadContext, code: str) -> UnitRow | None:
    """The unit with this code when it lies inside the viewer's unit.read cover, else None."""
    params = SqlParams(code)
    cond = scope_condition(_unit_cover(ctx), params, "u")
    if cond == "false":
        return None
    row = await ctx.pool.fetchrow(f"select {UNIT_COLUMNS} from units u where u.code = $1 and {cond}", *params.values)
    return unit_row(row) if row else None


async def units_by_ids(ctx: ReadContext, ids: Iterable[int]) -> dict[int, UnitRow]:
    """The units of `ids` inside the viewer's unit.read cover (one statement)."""
    wanted = sorted(set(ids))
    params = SqlParams(wanted)
    cond = scope_condition(_unit_cover(ctx), params, "u")
    if not wanted or cond == "false":
        return {}
    rows = await ctx.pool.fetch(
        f"select {UNIT_COLUMNS} from units u where u.id = any($1::int[]) and {cond}", *params.values
    )
    return {r["id"]: unit_row(r) for r in rows}


async def place_by_code(ctx: ReadContext, code: str) -> UnitPlace | None:
    """Where the unit named `code` sits, visible or not. Only for building conditions that are
    ANDed with a scope condition; never hand anything of it to the client."""
    key = ("place_by_code", code)
    if key not in ctx.memo:
        ctx.memo[key] = await find_unit(ctx.pool, code)
    return ctx.memo[key]


async def breadcrumbs(ctx: ReadContext, ids: Iterable[int]) -> dict[int, UnitRefRow]:
    """code, name and level of ancestors of units already handed out (always readable)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await ctx.pool.fetch(
        "select u.id, u.code, u.name, u.name_hi, u.level from units u where u.id = any($1::int[])", wanted
    )
    return {r["id"]: UnitRefRow(r["code"], r["name"], r["name_hi"], Level(r["level"])) for r in rows}


async def units_unscoped(ctx: ReadContext, ids: Iterable[int]) -> list[UnitRow]:
    """The viewer's own assigned units (roots of the viewer's scopes), by (depth, code)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = await ctx.pool.fetch(
        f"select {UNIT_COLUMNS} from units u where u.id = any($1::int[]) order by u.depth, u.code", wanted
    )
    return [unit_row(r) for r in rows]


async def _unit_page(
    ctx: ReadContext,
    codec: CursorCodec,
    params: SqlParams,
    where: list[str],
    order: tuple[str, ...],
    key_types: tuple[type, ...],
    first: int,
    after: str | None,
    want_total: bool,
    want_page: bool,
) -> Page[UnitRow]:
    start = codec.decode(after, key_types)
    page: Page[UnitRow] = Page()
    if "false" in where:
        return page
    if want_total:
        total_params = SqlParams(*params.values)
        page.total = await ctx.pool.fetchval(
            f"select count(*) from units u where {' and '.join(where)}", *total_params.values
        )
    if not want_page:
        return page
    page_where = list(where)
    if start is not None:
        placeholders = ", ".join(params.add(v) for v in start)
        page_where.append(f"({', '.join(order)}) > ({placeholders})")
    limit = params.add(first + 1)
    rows = await ctx.pool.fetch(
        f"select {UNIT_COLUMNS}, u.depth from units u where {' and '.join(page_where)} "
        f"order by {', '.join(order)} limit {limit}",
        *params.values,
    )
    page.has_next = len(rows) > first
    for r in rows[:first]:
        page.items.append(unit_row(r))
        page.cursors.append(codec.encode([r["depth"], r["code"]] if len(order) == 2 else [r["code"]]))
    return page


async def children_page(
    ctx: ReadContext,
    parent: UnitRow,
    first: int | None,
    after: str | None,
    *,
    want_total: bool = True,
    want_page: bool = True,
) -> Page[UnitRow]:
    """Children of `parent` inside the viewer's unit.read cover, by code."""
    n = validate_first(first, 100)
    codec = CursorCodec(ctx.settings, "units:children", binding(ctx.viewer.user_id, parent.id))
    params = SqlParams(parent.id)
    where = ["u.parent_id = $1", scope_condition(_unit_cover(ctx), params, "u")]
    return await _unit_page(ctx, codec, params, where, ("u.code",), (str,), n, after, want_total, want_page)


async def units_page(
    ctx: ReadContext,
    level: Level | None,
    search: str | None,
    first: int | None,
    after: str | None,
    *,
    want_total: bool = True,
    want_page: bool = True,
) -> Page[UnitRow]:
    """Units inside the viewer's unit.read cover, of one level, whose name starts with `search`
    (case-insensitive; LIKE wildcards in `search` match literally), by (depth, code)."""
    n = validate_first(first, 50)
    codec = CursorCodec(
        ctx.settings, "units:search", binding(ctx.viewer.user_id, level.value if level else None, search)
    )
    params = SqlParams()
    where = [scope_condition(_unit_cover(ctx), params, "u")]
    if level is not None:
        where.append(f"u.level = {params.add(level.value)}")
    if search is not None:
        where.append(f"lower(u.name) like lower({params.add(like_prefix(search))}) escape '\\'")
    return await _unit_page(
        ctx, codec, params, where, ("u.depth", "u.code"), (int, str), n, after, want_total, want_page
    )
