"""grantRole and revokeRole, checked in service.md's order:

1. an unknown user or assignment, or a unit not visible to the granter -> NOT_FOUND;
2. a role at a level the policy does not allow for it (p2 rules) -> BAD_USER_INPUT;
3. no role.grant over the unit, a role of equal or higher rank (p3 rules) than the granting
   role, or a grant to / revoke of oneself -> FORBIDDEN.

Beyond service.md (docs/access-rules.md, "Grants cannot be laundered"): a grant or revoke is
also FORBIDDEN when the user it concerns already holds, anywhere on the unit's line (at the
unit, above it or below it), a role of rank equal to or higher than the granting role's. So an
official cannot get a role back through someone they appointed (a district president appoints
X mandal president, X may not make the district president a booth president), nor have a
subordinate revoke the roles of someone who outranks that subordinate there. The role.grant
audit entry names the permissions the role holds at the unit (`permissions`) and those the
grantee gains by it there (`adds`).

The granting role is the highest-ranked of the viewer's roles that gives role.grant over the
unit. The granter's own assignments are re-read inside the transaction under FOR SHARE locks,
so a grant racing a revoke of the granter's role settles in one order: either the grant
commits first and the revoke waits for it, or the revoke commits first and the grant is
refused. Assignments are read per request and announced by NOTIFY, so the change takes effect
on every process's next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from core.errors import BadUserInput, Forbidden, NotFound
from core.viewer import AssignedRole, UnitPlace, Viewer, load_viewer, unit_place
from models import Level
from policies import PolicyEngine
from resolvers import audit
from resolvers.input_checks import check_page, check_text, parse_id
from resolvers.places import find_unit
from resolvers.unit_of_work import in_transaction
from resolvers.visibility import visible_cover


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    id: int
    user_id: str
    role: str
    unit_id: int
    unit_code: str
    unit_name: str
    unit_name_hi: str | None
    unit_level: str
    page: int | None = None


ASSIGNMENT_SQL = """
select a.id, a.user_id, a.role, a.page, u.id as unit_id, u.code as unit_code, u.name as unit_name,
       u.name_hi as unit_name_hi, u.level as unit_level,
       u.path, u.state_id, u.region_id, u.district_id, u.mandal_id, u.booth_id
from assignments a join units u on u.id = a.unit_id
"""


def _assignment(r: asyncpg.Record) -> AssignmentRow:
    return AssignmentRow(
        id=r["id"],
        user_id=r["user_id"],
        role=r["role"],
        unit_id=r["unit_id"],
        unit_code=r["unit_code"],
        unit_name=r["unit_name"],
        unit_name_hi=r["unit_name_hi"],
        unit_level=r["unit_level"],
        page=r["page"],
    )


async def _current_viewer(conn: asyncpg.Connection, viewer: Viewer) -> Viewer:
    """The granter as of now, with their assignments locked until commit (FOR SHARE: a
    concurrent revoke of one of them waits for us; one committed before us is not seen)."""
    await conn.execute("select 1 from assignments where user_id = $1 order by id for share", viewer.user_id)
    current = await load_viewer(conn, viewer.user_id)
    return current if current is not None else Viewer(viewer.user_id, viewer.name, ())


def granting_rank(policy: PolicyEngine, viewer: Viewer, place: UnitPlace, role: str | None = None) -> int | None:
    """The rank with which the viewer grants or revokes `role` at `place`: of role.grant over it, or
    of an assignment over it whose role may appoint `role` (p4: a booth president appoints page
    in-charges without role.grant over the booth); the rank rules are the same for both."""
    rank = permission_rank(policy, viewer, place, "role.grant")
    for assignment in viewer.assignments if role is not None else ():
        if place.is_under(assignment.unit) and role in policy.appoints(assignment.role):
            own = policy.rank(assignment.role)
            rank = own if rank is None else max(rank, own)
    return rank


def permission_rank(policy: PolicyEngine, viewer: Viewer, place: UnitPlace, permission: str) -> int | None:
    """Rank of the highest of the viewer's roles that gives `permission` over `place`, or None.
    Each assignment is asked on its own (a viewer holding only that one), so that the policy,
    role inheritance included, decides which role grants, not a list of role names here."""
    best: int | None = None
    for assignment in viewer.assignments:
        if not place.is_under(assignment.unit):
            continue
        alone = Viewer(viewer.user_id, viewer.name, (assignment,))
        if policy.allows(alone, permission, place):
            rank = policy.rank(assignment.role)
            best = rank if best is None else max(best, rank)
    policy.cover(viewer, permission)  # leave the engine synced with the viewer's real links
    return best


def check_grant_power(policy: PolicyEngine, viewer: Viewer, place: UnitPlace, role: str) -> None:
    rank = granting_rank(policy, viewer, place, role)
    if rank is None:
        raise Forbidden("You may not grant or revoke roles in this unit")
    if policy.rank(role) >= rank:
        raise Forbidden(f"You may only grant or revoke roles of lower rank than your own ({role} is not)")


def line_rank(policy: PolicyEngine, holder: Viewer, place: UnitPlace) -> int | None:
    """Rank of the highest of the holder's roles on `place`'s line (at it, above or below it)."""
    ranks = [policy.rank(a.role) for a in holder.assignments if place.is_under(a.unit) or a.unit.is_under(place)]
    return max(ranks, default=None)


async def check_not_outranked(
    conn: asyncpg.Connection, policy: PolicyEngine, me: Viewer, user_id: str, place: UnitPlace, role: str
) -> Viewer:
    """FORBIDDEN when `user_id` holds on the unit's line a role of rank >= the granting role's:
    such a grant or revoke can only be one the user could not make or suffer directly (a role
    laundered back through a subordinate, a rival removed through one). Returns the user, with
    their assignments locked until commit (FOR SHARE) so the answer holds when we commit."""
    await conn.execute("select 1 from assignments where user_id = $1 order by id for share", user_id)
    holder = await load_viewer(conn, user_id) or Viewer(user_id, "", ())
    held, mine = line_rank(policy, holder, place), granting_rank(policy, me, place, role)
    if held is not None and mine is not None and held >= mine:
        raise Forbidden("This user holds a role of equal or higher rank than yours on this unit's line")
    return holder


def _is_visible(viewer: Viewer, place: UnitPlace) -> bool:
    return visible_cover(viewer).covers(place)


async def grant_role(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    *,
    user_id: str,
    role: Any,
    unit: str,
    page: int | None = None,
) -> AssignmentRow:
    """`page`: the role is held at that roll page of the booth `unit` (docs/pages.md)."""
    role_name = str(getattr(role, "value", role))
    check_text(user_id, "userId", limit=200, required=True)
    check_text(unit, "unit", limit=200, required=True)
    check_page(page)

    async def work() -> AssignmentRow:
        me = await _current_viewer(conn, viewer)
        # 1. NOT_FOUND: unknown user, unknown or invisible unit.
        user_exists = await conn.fetchval("select true from users where id = $1", user_id)
        place = await find_unit(conn, unit)
        if place is not None and page is not None:
            if place.level is not Level.BOOTH:
                raise BadUserInput("page is a roll page of a BOOTH unit", argument="page")
            place = place.at_page(page)
        if not user_exists or place is None or not _is_visible(me, place):
            raise NotFound("No such user or unit")
        # 2. BAD_USER_INPUT: a role the policy does not know, or at a level it does not allow.
        if role_name not in policy.roles():
            raise BadUserInput(f"Unknown role {role_name}", argument="role")
        if place.kind not in policy.allowed_levels(role_name):
            allowed = ", ".join(sorted(policy.allowed_levels(role_name)))
            raise BadUserInput(f"{role_name} may only be assigned at level {allowed}", argument="role")
        # 3. FORBIDDEN: no role.grant here, a role not below the granting role, oneself.
        check_grant_power(policy, me, place, role_name)
        if user_id == me.user_id:
            raise Forbidden("You may not grant a role to yourself")
        grantee = await check_not_outranked(conn, policy, me, user_id, place, role_name)
        had = set(policy.permissions_over(grantee, place))
        # What the role alone holds at the unit, as the policy (inheritance included) says.
        alone = Viewer(grantee.user_id, grantee.name, (AssignedRole(0, role_name, place, place.code, None),))
        gives = policy.permissions_over(alone, place)
        policy.cover(me, "role.grant")  # leave the engine synced with the granter
        new_id = await conn.fetchval(
            """insert into assignments (user_id, role, unit_id, page) values ($1, $2, $3, $4)
               on conflict (user_id, role, unit_id, page) do nothing returning id""",
            user_id,
            role_name,
            place.id,
            place.page,
        )
        existed = new_id is None
        row = await conn.fetchrow(
            ASSIGNMENT_SQL
            + " where a.user_id = $1 and a.role = $2 and a.unit_id = $3 and a.page is not distinct from $4",
            user_id,
            role_name,
            place.id,
            place.page,
        )
        await audit.record(
            conn,
            user_id=me.user_id,
            action="role.grant",
            unit_id=place.id,
            unit_code=place.code,
            records=0 if existed else 1,
            detail=audit.detail_json(
                user=user_id,
                role=role_name,
                **({} if place.page is None else {"page": place.page}),
                assignment=row["id"],
                already_held=existed,
                permissions=gives,
                adds=[p for p in gives if p not in had],
            ),
        )
        return _assignment(row)

    return await in_transaction(conn, work)


async def revoke_role(conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, *, assignment_id: Any) -> bool:
    try:
        ident = parse_id(assignment_id, "assignmentId")
    except BadUserInput:
        raise NotFound("No such assignment") from None

    async def work() -> bool:
        me = await _current_viewer(conn, viewer)
        # Lock the assignment so two revokes (or a revoke and a grant check) do not interleave.
        row = await conn.fetchrow(ASSIGNMENT_SQL + " where a.id = $1 for update of a", ident)
        if row is None:
            raise NotFound("No such assignment")
        place = unit_place(
            {**dict(row), "id": row["unit_id"], "code": row["unit_code"], "level": row["unit_level"]}, row["page"]
        )
        if not _is_visible(me, place):
            raise NotFound("No such assignment")
        check_grant_power(policy, me, place, row["role"])
        if row["user_id"] == me.user_id:
            raise Forbidden("You may not revoke your own role")
        await check_not_outranked(conn, policy, me, row["user_id"], place, row["role"])
        await conn.execute("delete from assignments where id = $1", ident)
        await audit.record(
            conn,
            user_id=me.user_id,
            action="role.revoke",
            unit_id=place.id,
            unit_code=place.code,
            records=1,
            detail=audit.detail_json(
                user=row["user_id"],
                role=row["role"],
                assignment=ident,
                **({} if row["page"] is None else {"page": row["page"]}),
            ),
        )
        return True

    return await in_transaction(conn, work)
