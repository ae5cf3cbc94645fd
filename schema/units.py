"""Unit, UnitRef and UnitConnection. A Unit object is handed out only for a unit inside the
viewer's unit.read cover, for the viewer's own roots, or as the booth of a visible voter; whatever
it is, its parent, children, voters and stats go through the scope again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.cursors import to_global_id
from resolvers.page import Page
from resolvers.units import UnitRow, children_page
from schema.enums import Level, VoterOrder
from schema.loaders import breadcrumb_loader, scoped_unit_loader, stats_loader
from schema.relay import Node, PageInfo, connection_selection, page_info
from schema.stats import UnitStats, unit_stats

if TYPE_CHECKING:
    from schema.voters import VoterConnection, VoterFilter


@strawberry.type(description="The bare identity of a unit, for breadcrumbs.")
class UnitRef:
    code: str
    name: str
    name_hi: str | None
    level: Level


@strawberry.type(description="A unit of the organisation: the state, a region, district, mandal or booth.")
class Unit(Node):
    code: str
    name: str
    name_hi: str | None
    level: Level
    row: strawberry.Private[UnitRow]

    @strawberry.field(description="Null when the parent is outside the viewer's scope.")
    async def parent(self, info: strawberry.Info) -> Unit | None:
        if self.row.parent_id is None:
            return None
        found = await scoped_unit_loader(info.context).load(self.row.parent_id)
        return unit_from_row(found) if found else None

    @strawberry.field(description="Breadcrumbs from the top down to this unit's parent (always readable).")
    async def path(self, info: strawberry.Info) -> list[UnitRef]:
        ids = self.row.ancestor_ids
        if not ids:
            return []
        refs = await breadcrumb_loader(info.context).load_many(ids)
        return [UnitRef(code=r.code, name=r.name, name_hi=r.name_hi, level=Level(r.level.value)) for r in refs if r]

    @strawberry.field
    async def children(
        self, info: strawberry.Info, first: int | None = 100, after: str | None = None
    ) -> UnitConnection:
        sel = connection_selection(info)
        page = await children_page(info.context, self.row, first, after, want_total=sel.total, want_page=sel.page)
        return unit_connection(page)

    @strawberry.field
    async def voters(
        self,
        info: strawberry.Info,
        first: int | None = 50,
        after: str | None = None,
        filter: Annotated[VoterFilter, strawberry.lazy("schema.voters")] | None = None,
        order_by: VoterOrder | None = VoterOrder.SERIAL,
    ) -> Annotated[VoterConnection, strawberry.lazy("schema.voters")]:
        from schema.voters import voter_connection  # call time: schema.voters imports this module

        return await voter_connection(info, self.row.place, filter, order_by, first, after)

    @strawberry.field
    async def stats(self, info: strawberry.Info) -> UnitStats:
        return unit_stats(await stats_loader(info.context).load(self.row))


def unit_from_row(row: UnitRow) -> Unit:
    return Unit(
        id=strawberry.ID(to_global_id("Unit", row.id)),
        code=row.code,
        name=row.name,
        name_hi=row.name_hi,
        level=Level(row.level.value),
        row=row,
    )


@strawberry.type
class UnitEdge:
    node: Unit
    cursor: str


@strawberry.type
class UnitConnection:
    edges: list[UnitEdge]
    page_info: PageInfo
    total_count: int


def unit_connection(page: Page[UnitRow]) -> UnitConnection:
    return UnitConnection(
        edges=[UnitEdge(node=unit_from_row(r), cursor=c) for r, c in zip(page.items, page.cursors, strict=True)],
        page_info=page_info(page),
        total_count=page.total,
    )
