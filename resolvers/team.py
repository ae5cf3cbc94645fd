"""Who holds which role in a unit (`roleHolders`): the assignments at the unit and below it,
inside the viewer's role.grant cover, so that a granter sees the team they may change.

A unit that is not visible to the viewer, or over which the viewer holds no role.grant, gives
an empty list (access-policy.md: out of scope looks like absent).
"""

from __future__ import annotations

from dataclasses import dataclass

from policies import Cover
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, validate_first
from resolvers.input_checks import check_text
from resolvers.page import Page
from resolvers.places import find_unit
from resolvers.scope import SqlParams, scope_condition
from resolvers.visibility import visible_cover


@dataclass(frozen=True, slots=True)
class HolderRow:
    assignment_id: int
    user_id: str
    user_name: str
    role: str
    unit_code: str
    unit_name: str
    unit_name_hi: str | None
    unit_level: str


HOLDERS_FROM = """
from assignments a join units u on u.id = a.unit_id join users us on us.id = a.user_id
"""


async def role_holders(
    ctx: ReadContext, *, unit: str, first: int | None = 100, after: str | None = None
) -> Page[HolderRow]:
    """Assignments at `unit` and below, in the viewer's role.grant cover, by assignment id."""
    limit = validate_first(first, 100)
    code = check_text(unit, "unit", limit=200, required=True) or ""
    codec = CursorCodec(ctx.settings, "team", binding(ctx.viewer.user_id, code))
    start = codec.decode(after, (int,))
    page: Page[HolderRow] = Page()
    place = await find_unit(ctx.pool, code)
    visible = place is not None and visible_cover(ctx.viewer).covers(place)
    cover = ctx.cover("role.grant").within(place) if place is not None and visible else Cover(())
    if cover.empty:
        return page
    params = SqlParams()
    base = scope_condition(cover, params, "u")
    page.total = int(await ctx.pool.fetchval(f"select count(*) {HOLDERS_FROM} where {base}", *params.values))
    if start is not None:
        base += f" and a.id > {params.add(start[0])}::bigint"
    rows = await ctx.pool.fetch(
        f"""select a.id, a.user_id, us.name as user_name, a.role, u.code, u.name, u.name_hi, u.level
            {HOLDERS_FROM} where {base} order by a.id limit {params.add(limit + 1)}""",
        *params.values,
    )
    page.has_next = len(rows) > limit
    for r in rows[:limit]:
        page.items.append(
            HolderRow(r["id"], r["user_id"], r["user_name"], r["role"], r["code"], r["name"], r["name_hi"], r["level"])
        )
        page.cursors.append(codec.encode([r["id"]]))
    return page
