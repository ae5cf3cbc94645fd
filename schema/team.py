"""What the officials' app asks beyond the contract (additive): `roleHolders(unit:)`, who holds
which role at a unit and below it (Team), and `campaignCallers(campaignId:)`, a campaign's
progress per caller (Campaigns). Thin: resolvers/team.py and resolvers/caller_progress.py work."""

from __future__ import annotations

import strawberry

from resolvers import caller_progress as progress_resolvers
from resolvers import team as team_resolvers
from resolvers.cursors import to_global_id
from schema.enums import Level, Role
from schema.relay import PageInfo, page_info
from schema.units import UnitRef
from schema.viewer import Assignment


@strawberry.type(description="An assignment with the user who holds it.")
class RoleHolder:
    assignment: Assignment
    user_id: strawberry.ID
    user_name: str


@strawberry.type
class RoleHolderEdge:
    node: RoleHolder
    cursor: str


@strawberry.type
class RoleHolderConnection:
    edges: list[RoleHolderEdge]
    page_info: PageInfo
    total_count: int


def holder_from(row: team_resolvers.HolderRow) -> RoleHolder:
    return RoleHolder(
        assignment=Assignment(
            id=strawberry.ID(to_global_id("Assignment", row.assignment_id)),
            role=Role(row.role),
            unit=UnitRef(code=row.unit_code, name=row.unit_name, name_hi=row.unit_name_hi, level=Level(row.unit_level)),
        ),
        user_id=strawberry.ID(row.user_id),
        user_name=row.user_name,
    )


@strawberry.type(description="One caller's entries of a campaign: assigned, called, reached.")
class CallerProgress:
    caller_id: strawberry.ID
    caller_name: str
    assigned: int
    called: int
    reached: int


@strawberry.type
class TeamQuery:
    @strawberry.field(
        description="A campaign's progress per caller, for holders of outreach.manage over its unit; "
        "empty when the campaign is absent, not visible or not managed by the viewer."
    )
    async def campaign_callers(self, info: strawberry.Info, campaign_id: strawberry.ID) -> list[CallerProgress]:
        rows = await progress_resolvers.caller_progress(info.context, campaign_id=str(campaign_id))
        return [
            CallerProgress(
                caller_id=strawberry.ID(r.caller_id),
                caller_name=r.caller_name,
                assigned=r.assigned,
                called=r.called,
                reached=r.reached,
            )
            for r in rows
        ]

    @strawberry.field(
        description="Assignments at the unit and below it where the viewer holds role.grant, by id; "
        "empty when the unit is not visible or the viewer may not grant there."
    )
    async def role_holders(
        self, info: strawberry.Info, unit: str, first: int | None = 100, after: str | None = None
    ) -> RoleHolderConnection:
        page = await team_resolvers.role_holders(info.context, unit=unit, first=first, after=after)
        return RoleHolderConnection(
            edges=[
                RoleHolderEdge(node=holder_from(r), cursor=cursor)
                for r, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=page_info(page),
            total_count=page.total,
        )
