"""The viewer's own view of themselves: assignments, permissions, and the roots of their scopes."""

from __future__ import annotations

from core.viewer import AssignedRole, UnitPlace
from policies import Cover
from resolvers.context import ReadContext
from resolvers.units import UnitRow, units_unscoped


def root_places(assignments: tuple[AssignedRole, ...]) -> list[UnitPlace]:
    """The assigned units not under another assigned unit (whatever the roles). A roll page is
    no unit: a page in-charge's booth is above their scope, not a root of it."""
    return list(Cover.of(a.unit for a in assignments if a.unit.page is None).units)


async def roots(ctx: ReadContext) -> list[UnitRow]:
    """The top units of the viewer's scopes, by (depth, code)."""
    return await units_unscoped(ctx, [p.id for p in root_places(ctx.viewer.assignments)])


def permissions(ctx: ReadContext) -> list[str]:
    """Every permission the viewer holds anywhere, under the current policy."""
    key = ("permissions",)
    if key not in ctx.memo:
        ctx.memo[key] = ctx.policy.permissions(ctx.viewer)
    return ctx.memo[key]
