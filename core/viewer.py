"""Who is asking: the user and their assignments, read from the database at request time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg

from core.errors import Unauthenticated
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
    # The version of the policy published through the database (migration 0007), read in the
    # same statement; None when none is published (the policy files then apply).
    policy_version: int | None = None

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


def viewer_sql(*, source: str = "users usr", where: str = "usr.id = $1", extra: str = "", before: str = "") -> str:
    """The statement that reads who is asking: the user (`usr`, from `source`) and every
    assignment with its unit, one row per assignment (`viewer_of` makes the Viewer). `extra`
    adds columns read in the same statement; `before`, a WITH clause they need."""
    return f"""{before}
select usr.id as user_id, usr.name as user_name, a.id as assignment_id, a.role, a.page,
       (select version from published_policy) as policy_version,
       u.name as unit_name, u.name_hi as unit_name_hi, {UNIT_PLACE_COLUMNS}{extra}
from {source}
left join assignments a on a.user_id = usr.id
left join units u on u.id = a.unit_id
where {where}
order by a.id
"""


VIEWER_SQL = viewer_sql()
# The same statement with the session's state in every row: a signed-in official's request reads
# its session and its roles in one round trip instead of two.
SESSION_VIEWER_SQL = viewer_sql(
    extra=""",
       (select s.revoked_at is null and s.expires_at > now() from sessions s
        where s.id = $2 and s.user_id = usr.id) as session_live"""
)


def viewer_of(rows: list[asyncpg.Record]) -> Viewer | None:
    """The Viewer of `viewer_sql`'s rows (None: no such user)."""
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
    first = rows[0]
    return Viewer(
        user_id=first["user_id"],
        name=first["user_name"],
        assignments=assignments,
        policy_version=first["policy_version"],
    )


async def load_viewer(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> Viewer | None:
    """The user with their current assignments, or None for an unknown user (one statement)."""
    return viewer_of(await conn.fetch(VIEWER_SQL, user_id))


async def load_session_viewer(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, session_id: str
) -> tuple[bool, Viewer | None]:
    """(whether the session is live: not revoked, not past its end, the user's; the viewer), in
    one statement. A session id that is not a UUID, or of an unknown user, is not live."""
    try:
        ident = uuid.UUID(session_id)
    except ValueError:
        return False, None
    rows = await conn.fetch(SESSION_VIEWER_SQL, user_id, ident)
    return bool(rows and rows[0]["session_live"]), viewer_of(rows)


async def load_token_viewer(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, session_id: str | None
) -> Viewer | None:
    """The viewer of a token's user (None: unknown user). A token of a signed-in session works
    while its session does: signing out or a revocation ends it on every server process at its
    next request (resolvers/identity.py); an ended one is refused here (Unauthenticated)."""
    if session_id is None:
        return await load_viewer(conn, user_id)
    live, viewer = await load_session_viewer(conn, user_id, session_id)
    if not live:
        raise Unauthenticated("The session has ended; sign in again")
    return viewer
