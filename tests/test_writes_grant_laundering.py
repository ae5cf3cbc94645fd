"""Grants cannot be laundered through a second account (issue 12, part 2): nobody grants to, or
revokes from, a user who holds a role of equal or higher rank than the granting role anywhere on
the unit's line; appointing one's own team still works; the role.grant audit entry names the
permissions the grant adds. docs/access-rules.md states the rule."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BadUserInput, Forbidden, NotFound
from core.viewer import UnitPlace, Viewer
from resolvers import roles
from resolvers.places import find_unit
from tests.writes_support import (
    DISTRICT_INCHARGE_LKO_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    LKO_M02,
    LKO_M02_B1,
    MANDAL_PRESIDENT_LKO_M01,
    REGIONAL_PRESIDENT_AWD,
    World,
)

NEW = "u-000074"  # users without assignments
NEW2 = "u-000075"
CONVENOR_PERMISSIONS = [
    "unit.read",
    "stats.read",
    "voter.read",
    "voter.read_contact",
    "voter.read_sensitive",
    "voter.write",
    "data.import",
    "data.export",
    "outreach.manage",
]


async def _grant(w: World, granter: str, user: str, role: str, unit: str) -> roles.AssignmentRow:
    return await roles.grant_role(w.conn, await w.viewer(granter), w.policy, user_id=user, role=role, unit=unit)


async def _held(w: World) -> list[tuple[str, str, str]]:
    rows = await w.conn.fetch(
        "select a.user_id, a.role, u.code from assignments a join units u on u.id = a.unit_id order by 1, 2, 3"
    )
    return [(r["user_id"], r["role"], r["code"]) for r in rows]


async def test_a_role_cannot_come_back_through_a_second_account(world: World) -> None:
    """The issue's case: the district president appoints X, X makes the district president a
    booth president there. Also a third account, and every other way round the chain."""
    await _grant(world, DISTRICT_PRESIDENT_LKO, NEW, "MANDAL_PRESIDENT", LKO_M01)
    await _grant(world, NEW, NEW2, "BOOTH_PRESIDENT", LKO_M01_B1)  # one's own team: fine
    before, audits = await _held(world), await world.audit_count()
    for granter, user, role, unit in [
        (NEW, DISTRICT_PRESIDENT_LKO, "BOOTH_PRESIDENT", LKO_M01_B1),  # two accounts
        (NEW, DISTRICT_PRESIDENT_LKO, "CALLER", LKO_M01),
        (NEW, REGIONAL_PRESIDENT_AWD, "BOOTH_PRESIDENT", LKO_M01_B1),  # anyone above them there
    ]:
        with pytest.raises(Forbidden):
            await _grant(world, granter, user, role, unit)
    # Three accounts: the regional president appoints a district president, who appoints a
    # mandal president, who may make neither of them a booth president or caller.
    await _grant(world, REGIONAL_PRESIDENT_AWD, NEW, "DISTRICT_PRESIDENT", LKO)
    await _grant(world, NEW, NEW2, "MANDAL_PRESIDENT", LKO_M02)
    before, audits = await _held(world), await world.audit_count()
    for user in (REGIONAL_PRESIDENT_AWD, NEW):
        for role, unit in (("BOOTH_PRESIDENT", LKO_M02_B1), ("CALLER", LKO_M02)):
            with pytest.raises(Forbidden):
                await _grant(world, NEW2, user, role, unit)
    assert await _held(world) == before and await world.audit_count() == audits


async def test_order_of_checks_is_kept(world: World) -> None:
    """The new refusal is a FORBIDDEN: it comes after NOT_FOUND and BAD_USER_INPUT."""
    await _grant(world, DISTRICT_PRESIDENT_LKO, NEW, "MANDAL_PRESIDENT", LKO_M01)
    with pytest.raises(NotFound):
        await _grant(world, NEW, DISTRICT_PRESIDENT_LKO, "BOOTH_PRESIDENT", LKO_M02_B1)  # not visible to NEW
    with pytest.raises(BadUserInput):
        await _grant(world, NEW, DISTRICT_PRESIDENT_LKO, "BOOTH_PRESIDENT", LKO_M01)  # wrong level


async def test_a_subordinate_cannot_revoke_the_roles_of_someone_who_outranks_them(world: World) -> None:
    """Revocation laundering: X, appointed by the president, removes the booth role of a rival
    who outranks X there (a district in-charge)."""
    await world.conn.execute(
        "insert into assignments (user_id, role, unit_id) select $1, 'BOOTH_PRESIDENT', id from units where code = $2",
        DISTRICT_INCHARGE_LKO_AYD,
        LKO_M01_B1,
    )
    await _grant(world, DISTRICT_PRESIDENT_LKO, NEW, "MANDAL_PRESIDENT", LKO_M01)
    rival = await world.conn.fetchval(
        "select a.id from assignments a join units u on u.id = a.unit_id where a.user_id = $1 and u.code = $2",
        DISTRICT_INCHARGE_LKO_AYD,
        LKO_M01_B1,
    )
    with pytest.raises(Forbidden):
        await roles.revoke_role(world.conn, await world.viewer(NEW), world.policy, assignment_id=rival)
    assert await world.conn.fetchval("select count(*) from assignments where id = $1", rival) == 1
    # The district president outranks the in-charge: theirs to revoke.
    assert await roles.revoke_role(
        world.conn, await world.viewer(DISTRICT_PRESIDENT_LKO), world.policy, assignment_id=rival
    )


async def test_appointing_ones_own_team_is_audited_with_the_permissions_it_adds(world: World) -> None:
    row = await _grant(world, DISTRICT_PRESIDENT_LKO, NEW, "DISTRICT_CONVENOR", LKO)
    # The mandal president already calls in the whole mandal: a booth caller role adds nothing.
    await _grant(world, DISTRICT_PRESIDENT_LKO, MANDAL_PRESIDENT_LKO_M01, "CALLER", LKO_M01_B1)
    entries = await world.conn.fetch(
        "select user_id, unit_code, detail from audit_log"
        " where action = 'role.grant' and user_id <> 'system' order by id"  # not the data set's own load
    )
    details = [(e["user_id"], e["unit_code"], json.loads(e["detail"])) for e in entries]
    assert details == [
        (
            DISTRICT_PRESIDENT_LKO,
            LKO,
            {
                "user": NEW,
                "role": "DISTRICT_CONVENOR",
                "assignment": row.id,
                "already_held": False,
                "permissions": CONVENOR_PERMISSIONS,
                "adds": CONVENOR_PERMISSIONS,
            },
        ),
        (
            DISTRICT_PRESIDENT_LKO,
            LKO_M01_B1,
            {
                "user": MANDAL_PRESIDENT_LKO_M01,
                "role": "CALLER",
                "assignment": details[1][2]["assignment"],
                "already_held": False,
                "permissions": ["outreach.call"],
                "adds": [],
            },
        ),
    ]


# ------------------------------------------------------------------------ property ---
async def _place(w: World, code: str) -> UnitPlace:
    place = await find_unit(w.conn, code)
    assert place is not None
    return place


USERS = [DISTRICT_PRESIDENT_LKO, MANDAL_PRESIDENT_LKO_M01, REGIONAL_PRESIDENT_AWD, NEW, NEW2]
WHERE = {  # role -> the units of the game where it may be held
    "DISTRICT_PRESIDENT": [LKO],
    "MANDAL_PRESIDENT": [LKO_M01, LKO_M02],
    "BOOTH_PRESIDENT": [LKO_M01_B1, LKO_M02_B1],
    "CALLER": [LKO, LKO_M01, LKO_M01_B1],
}
# A step: (granter, grantee, role, unit); a granter of None is the previous step's grantee, so
# that chains of two and three accounts come up often.
step = st.sampled_from(sorted(WHERE)).flatmap(
    lambda role: st.tuples(
        st.one_of(st.none(), st.sampled_from(USERS)),
        st.sampled_from(USERS),
        st.just(role),
        st.sampled_from(WHERE[role]),
    )
)
grants = st.lists(step, min_size=2, max_size=6)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=grants)
async def test_no_user_ever_holds_a_role_whose_grant_chain_starts_with_them(world: World, steps) -> None:
    """Random grants among a few users and units. Each granted assignment's *chain* is its
    granter, and the chains of the granter's assignments that gave the granting rank over the
    unit (all of those that tie). Property: no user holds a granted assignment whose chain holds
    that user: nobody ever holds a role that reached them through authority they conferred.
    Sound for the rule: such a chain starts from a role of the user above the unit whose rank
    exceeds every rank along it, so the last grant was to a user outranking the granter there."""
    tx = world.conn.transaction()
    await tx.start()
    try:
        chain: dict[int, frozenset[str]] = {}  # assignment id -> its chain (granted ones only)
        previous = DISTRICT_PRESIDENT_LKO
        for chosen, user, role, unit in steps:
            granter_id, previous = chosen or previous, user
            granter = await world.viewer(granter_id)
            existing = {r["id"] for r in await world.conn.fetch("select id from assignments")}
            try:
                row = await _grant(world, granter_id, user, role, unit)
            except (Forbidden, NotFound, BadUserInput):
                continue
            if row.id in existing:
                continue  # held already: a repeated grant changes nothing
            place = await _place(world, unit)
            rank = roles.granting_rank(world.policy, granter, place)
            sources = [
                a.assignment_id
                for a in granter.assignments
                if place.is_under(a.unit)
                and world.policy.rank(a.role) == rank
                and world.policy.allows(Viewer(granter_id, "", (a,)), "role.grant", place)
            ]
            chain[row.id] = frozenset({granter_id}).union(*(chain.get(s, frozenset()) for s in sources))
            held = {r["id"]: r["user_id"] for r in await world.conn.fetch("select id, user_id from assignments")}
            for assignment_id, grantors in chain.items():
                assert held[assignment_id] not in grantors, (assignment_id, held[assignment_id], grantors, steps)
    finally:
        await tx.rollback()
