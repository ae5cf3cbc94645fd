"""Who is asking: the user and their assignments, read from the database at request time."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from models import LEVELS, Level


@dataclass(frozen=True, slots=True)
class UnitPlace:
    """Where a unit sits in the tree: enough to decide "is X under Y" without a query."""

    id: int
    code: str
    level: Level
    path: str  # "UP/UP-AWD/UP-AWD-LKO": codes from the top, the Casbin domain
    ancestors: tuple[int | None, ...]  # ids of state, region, district, mandal, booth (self included)
    # A roll page of the booth: the place is that page, below the booth (docs/pages.md). `id`,
    # `code` and `level` stay the booth's; `path` ends in "/P07", one more Casbin domain step.
    page: int | None = None

    def is_under(self, other: UnitPlace) -> bool:
        """True when self is `other` or lies in its subtree (a page lies under its booth)."""
        return self.ancestors[other.level.depth] == other.id and (other.page is None or other.page == self.page)

    @property
    def key(self) -> tuple[int, int | None]:
        """Tells places apart: a page shares its booth's id."""
        return (self.id, self.page)

    @property
    def kind(self) -> str:
        """The level's name, or PAGE: what the policy's p2 rules name."""
        return PAGE if self.page is not None else self.level.value

    def at_page(self, page: int) -> UnitPlace:
        """This booth's roll page `page`."""
        return UnitPlace(self.id, self.code, self.level, f"{self.path}/{page_segment(page)}", self.ancestors, page)


PAGE = "PAGE"


def page_segment(page: int) -> str:
    """A page's step of the Casbin domain path: 7 -> "P07"."""
    return f"P{page:02d}"


@dataclass(frozen=True, slots=True)
class AssignedRole:
    assignment_id: int
    role: str
    unit: UnitPlace
    unit_name: str
    unit_name_hi: str | None


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: str
    name: str
    assignments: tuple[AssignedRole, ...] = field(default=())

    @property
    def links(self) -> tuple[tuple[str, str], ...]:
        """(role, domain path) pairs: the Casbin grouping rules of this user."""
        return tuple(sorted({(a.role, a.unit.path) for a in self.assignments}))


UNIT_PLACE_COLUMNS = "u.id, u.code, u.level, u.path, u.state_id, u.region_id, u.district_id, u.mandal_id, u.booth_id"


def unit_place(row: asyncpg.Record | dict, page: int | None = None) -> UnitPlace:
    place = UnitPlace(
        id=row["id"],
        code=row["code"],
        level=Level(row["level"]),
        path=row["path"],
        ancestors=tuple(row[f"{lvl.value.lower()}_id"] for lvl in LEVELS),
    )
    return place if page is None else place.at_page(page)


VIEWER_SQL = f"""
select usr.id as user_id, usr.name as user_name, a.id as assignment_id, a.role, a.page,
       u.name as unit_name, u.name_hi as unit_name_hi, {UNIT_PLACE_COLUMNS}
from users usr
left join assignments a on a.user_id = usr.id
left join units u on u.id = a.unit_id
where usr.id = $1
order by a.id
"""


async def load_viewer(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> Viewer | None:
    """The user with their current assignments, or None for an unknown user (one statement)."""
    rows = await conn.fetch(VIEWER_SQL, user_id)
    if not rows:
        return None
    assignments = tuple(
        AssignedRole(
            assignment_id=r["assignment_id"],
            role=r["role"],
            unit=unit_place(r, r["page"]),
            unit_name=r["unit_name"],
            unit_name_hi=r["unit_name_hi"],
        )
        for r in rows
        if r["assignment_id"] is not None
    )
    return Viewer(user_id=rows[0]["user_id"], name=rows[0]["user_name"], assignments=assignments)
