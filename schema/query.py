"""The read side of Query. Thin: every field asks a resolver and converts what comes back.

campaigns / myCallList / auditLog belong to the outreach module (schema/outreach.py,
`OutreachQuery`); schema/__init__.py merges the two.
"""

from __future__ import annotations

from typing import Any

import strawberry

from models import Level as ModelLevel
from resolvers import voters as voter_resolvers
from resolvers.cursors import from_global_id
from resolvers.units import unit_by_code, units_page
from schema.enums import Level, VoterOrder
from schema.loaders import scoped_unit_loader
from schema.outreach import resolve_node
from schema.relay import Node, connection_selection, selected_names
from schema.roll_pages import page_voter_connection
from schema.stats import StatsPolicy
from schema.units import Unit, UnitConnection, unit_connection, unit_from_row
from schema.viewer import Viewer, viewer_from_context
from schema.voters import Scheme, Voter, VoterConnection, VoterFilter, voter_connection, voter_from_record, want_for


async def _outreach_node(info: strawberry.Info, kind: str, pk: int) -> Any:
    """Campaign, CallAssignment, CallLog, AuditEntry by primary key: the outreach module's
    `resolve_node`, which applies their scope."""
    return await resolve_node(info, kind, pk)


@strawberry.type
class ReadQuery:
    @strawberry.field(description="Any object by its global id; null when malformed, absent or out of scope.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None:
            return None
        kind, pk = parsed
        if kind == "Unit":
            row = await scoped_unit_loader(info.context).load(pk)
            return unit_from_row(row) if row else None
        if kind == "Voter":
            record = await voter_resolvers.voter_by_id(info.context, pk, want_for(selected_names(info)))
            return voter_from_record(record) if record else None
        if kind in ("Campaign", "CallAssignment", "CallLog", "AuditEntry"):
            return await _outreach_node(info, kind, pk)
        return None

    @strawberry.field
    def me(self, info: strawberry.Info) -> Viewer:
        return viewer_from_context(info)

    @strawberry.field(description="Null when absent or outside the viewer's scope.")
    async def unit(self, info: strawberry.Info, code: str) -> Unit | None:
        row = await unit_by_code(info.context, code)
        return unit_from_row(row) if row else None

    @strawberry.field(description="Units inside the viewer's scopes, optionally of one level, matching a name prefix.")
    async def units(
        self,
        info: strawberry.Info,
        level: Level | None = None,
        search: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> UnitConnection:
        sel = connection_selection(info)
        page = await units_page(
            info.context,
            ModelLevel(level.value) if level is not None else None,
            search,
            first,
            after,
            want_total=sel.total,
            want_page=sel.page,
        )
        return unit_connection(page)

    @strawberry.field(description="Null when absent or not visible to the viewer.")
    async def voter(self, info: strawberry.Info, epic_number: str) -> Voter | None:
        record = await voter_resolvers.voter_by_epic(info.context, epic_number, want_for(selected_names(info)))
        return voter_from_record(record) if record else None

    @strawberry.field(
        description="Voters inside the viewer's voter.read scopes; with `unit`, only those under that unit, and "
        "none when the viewer cannot see that unit. With `page`, only that roll page of the booth `unit` "
        "(visible to its page in-charge, who cannot see the booth)."
    )
    async def voters(
        self,
        info: strawberry.Info,
        unit: str | None = None,
        filter: VoterFilter | None = None,
        order_by: VoterOrder | None = VoterOrder.SERIAL,
        first: int | None = 50,
        after: str | None = None,
        page: int | None = None,
    ) -> VoterConnection:
        if page is not None:
            return await page_voter_connection(info, unit, page, filter, order_by, first, after)
        return await voter_connection(info, unit, filter, order_by, first, after)

    @strawberry.field(description="How counts are protected (the same for every viewer).")
    def stats_policy(self, info: strawberry.Info) -> StatsPolicy:
        return StatsPolicy(min_cell_size=info.context.settings.min_cell_size)

    @strawberry.field
    async def schemes(self, info: strawberry.Info) -> list[Scheme]:
        return [
            Scheme(code=s.code, name=s.name, name_hi=s.name_hi) for s in await voter_resolvers.all_schemes(info.context)
        ]
