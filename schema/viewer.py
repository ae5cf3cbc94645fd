"""`me`: the Viewer, their assignments (as UnitRef), permissions and the roots of their scopes."""

from __future__ import annotations

import strawberry

from core.viewer import AssignedRole
from resolvers import viewer as viewer_resolvers
from resolvers.cursors import to_global_id
from schema.enums import Level, Role
from schema.units import Unit, UnitRef, unit_from_row


@strawberry.type
class Assignment:
    id: strawberry.ID
    role: Role
    unit: UnitRef
    page: int | None = strawberry.field(
        default=None, description="A role held at one roll page of the booth `unit` (PAGE_INCHARGE); else null."
    )


def assignment_from(a: AssignedRole) -> Assignment:
    """Assignment ids are global ids of "Assignment" (resolvers.cursors.from_global_id(id, "Assignment"))."""
    return Assignment(
        id=strawberry.ID(to_global_id("Assignment", a.assignment_id)),
        role=Role(a.role),
        unit=UnitRef(code=a.unit.code, name=a.unit_name, name_hi=a.unit_name_hi, level=Level(a.unit.level.value)),
        page=a.unit.page,
    )


@strawberry.type
class Viewer:
    id: strawberry.ID
    name: str
    assignments: list[Assignment]

    @strawberry.field(description='Every permission the viewer holds anywhere (e.g. "voter.read").')
    def permissions(self, info: strawberry.Info) -> list[str]:
        return viewer_resolvers.permissions(info.context)

    @strawberry.field(description="The top units of the viewer's scopes.")
    async def roots(self, info: strawberry.Info) -> list[Unit]:
        return [unit_from_row(r) for r in await viewer_resolvers.roots(info.context)]


def viewer_from_context(info: strawberry.Info) -> Viewer:
    v = info.context.viewer
    return Viewer(id=strawberry.ID(v.user_id), name=v.name, assignments=[assignment_from(a) for a in v.assignments])
