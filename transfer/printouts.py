"""The data of a printed walk list or voter slips (docs/pages.md; rendering: printout_pdf.py).

`prepare_printout` (one transaction): the unit must be a visible booth, or a visible roll page of
one (`page`), else NOT_FOUND; the voters printed are those under it that the viewer may read
(the voter.read cover within it, through resolvers.scope), and none readable there is FORBIDDEN.
The fields printed are roll fields every voter.read holder reads (names, relative, age, gender,
house, serial, part, polling station): no phone, nothing sensitive, so the one redaction rule
has nothing to withhold here. Each printout is audited as an export (`data.export`, records =
the voters printed, detail names the file and the page) in the same transaction as the read.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from core.errors import BadUserInput, Forbidden, NotFound
from core.viewer import Viewer
from models import Level
from policies import PolicyEngine
from resolvers import audit
from resolvers.input_checks import check_page, check_text
from resolvers.places import find_unit
from resolvers.scope import SqlParams, scope_condition, under_condition
from resolvers.visibility import visible_cover
from transfer.printout_pdf import Booth, Entry, part_of

KINDS = ("walklist", "slips")


@dataclass(frozen=True, slots=True)
class Printout:
    kind: str  # "walklist" or "slips"
    booth: Booth
    page: int | None
    entries: list[Entry]

    @property
    def file_name(self) -> str:
        page = f"-P{self.page:02d}" if self.page is not None else ""
        return f"{self.kind}-{self.booth.code}{page}.pdf"


async def prepare_printout(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, *, kind: str, unit: str, page: int | None
) -> Printout:
    if kind not in KINDS:
        raise ValueError(kind)
    check_text(unit, "unit", limit=200, required=True)
    check_page(page)
    place = await find_unit(conn, unit)
    if place is None:
        raise NotFound("No such unit")
    if place.level is not Level.BOOTH:
        if visible_cover(viewer).covers(place):
            raise BadUserInput("Walk lists and slips are printed for a BOOTH unit or one of its pages", argument="unit")
        raise NotFound("No such unit")
    if page is not None:
        place = place.at_page(page)
    if not visible_cover(viewer).covers(place):
        raise NotFound("No such unit")
    rows_cover = policy.cover(viewer, "voter.read").within(place)
    if rows_cover.empty:
        raise Forbidden("You may not read this unit's voters")
    params = SqlParams()
    where = [scope_condition(rows_cover, params, "v", pages=True), under_condition(place, params, "v", pages=True)]
    async with conn.transaction():
        booth = await conn.fetchrow("select code, name, name_hi from units where id = $1", place.id)
        rows = await conn.fetch(
            f"""select v.serial_number, v.name, v.name_hi, v.relative_name, v.age, v.gender, v.house_number,
                       v.household, v.page
                from voters v where {" and ".join(where)} order by v.serial_number, v.id""",
            *params.values,
        )
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="data.export",
            unit_id=place.id,
            unit_code=place.code,
            records=len(rows),
            detail=audit.detail_json(
                file=f"{kind}.pdf", **({} if page is None else {"page": page}), phone_in_clear=False
            ),
        )
    return Printout(
        kind=kind,
        booth=Booth(booth["code"], booth["name"], booth["name_hi"], part_of(booth["code"])),
        page=page,
        entries=[
            Entry(
                serial=r["serial_number"],
                name=r["name"],
                name_hi=r["name_hi"],
                relative_name=r["relative_name"],
                age=r["age"],
                gender=r["gender"],
                house_number=r["house_number"],
                household=r["household"],
                page=r["page"],
            )
            for r in rows
        ],
    )
