"""grantRole / revokeRole on the resolvers: service.md's order of checks, every escalation
attempt refused with nothing granted, and a grant racing a revoke."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from core.errors import BadUserInput, Forbidden, NotFound
from resolvers import audit, roles
from tests.writes_support import (
    AYD,
    BOOTH_PRESIDENT_LKO_M01_B1,
    CALLER_LKO_M01,
    DISTRICT_INCHARGE_LKO_AYD,
    DISTRICT_PRESIDENT_LKO,
    LKO,
    LKO_M01,
    LKO_M01_B1,
    LKO_M02,
    MANDAL_PRESIDENT_LKO_M01,
    REGIONAL_PRESIDENT_AWD,
    STATE_GENSEC,
    STATE_PRESIDENT,
    World,
)

NEW = "u-000074"  # a user without assignments
NEW2 = "u-000075"


async def _grant(w: World, granter: str, user: str, role: str, unit: str, conn: asyncpg.Connection | None = None):
    return await roles.grant_role(conn or w.conn, await w.viewer(granter), w.policy, user_id=user, role=role, unit=unit)


async def _revoke(w: World, revoker: str, assignment_id: Any, conn: asyncpg.Connection | None = None) -> bool:
    return await roles.revoke_role(conn or w.conn, await w.viewer(revoker), w.policy, assignment_id=assignment_id)


async def _assignments(w: World, user: str) -> list[tuple[str, str]]:
    rows = await w.conn.fetch(
        "select a.role, u.code from assignments a join units u on u.id = a.unit_id where a.user_id = $1 order by 1, 2",
        user,
    )
    return [(r["role"], r["code"]) for r in rows]


async def _assignment_id(w: World, user: str, role: str, unit: str) -> int:
    return int(
        await w.conn.fetchval(
            "select a.id from assignments a join units u on u.id = a.unit_id "
            "where a.user_id = $1 and a.role = $2 and u.code = $3",
            user,
            role,
            unit,
        )
    )


async def test_grant_and_revoke(world: World) -> None:
    row = await _grant(world, DISTRICT_PRESIDENT_LKO, NEW, "CALLER", LKO_M01)
    assert (row.user_id, row.role, row.unit_code, row.unit_level) == (NEW, "CALLER", LKO_M01, "MANDAL")
    assert await _assignments(world, NEW) == [("CALLER", LKO_M01)]
    # The next request of the grantee sees the role: assignments are read per request.
    grantee = await world.viewer(NEW)
    assert [u.code for u in world.policy.cover(grantee, "outreach.call").units] == [LKO_M01]
    entry = await world.conn.fetchrow(
        "select * from audit_log where action = 'role.grant' and id > $1", world.audit_base
    )
    assert (entry["user_id"], entry["unit_code"], entry["records"]) == (DISTRICT_PRESIDENT_LKO, LKO_M01, 1)
    # Granting it again changes nothing and returns the same assignment.
    again = await _grant(world, DISTRICT_PRESIDENT_LKO, NEW, "CALLER", LKO_M01)
    assert again.id == row.id and await _assignments(world, NEW) == [("CALLER", LKO_M01)]

    assert await _revoke(world, MANDAL_PRESIDENT_LKO_M01, row.id) is True
    assert await _assignments(world, NEW) == []
    assert world.policy.cover(await world.viewer(NEW), "outreach.call").empty
    entry = await world.conn.fetchrow(
        "select * from audit_log where action = 'role.revoke' and id > $1", world.audit_base
    )
    assert (entry["user_id"], entry["unit_code"], entry["records"]) == (MANDAL_PRESIDENT_LKO_M01, LKO_M01, 1)


@pytest.mark.parametrize(
    ("granter", "user", "role", "unit", "error"),
    [
        # same rank
        (DISTRICT_PRESIDENT_LKO, NEW, "DISTRICT_PRESIDENT", LKO, Forbidden),
        (MANDAL_PRESIDENT_LKO_M01, NEW, "MANDAL_PRESIDENT", LKO_M01, Forbidden),
        # higher rank
        (STATE_GENSEC, NEW, "STATE_PRESIDENT", "UP", Forbidden),
        # outside the granter's scope (not visible)
        (DISTRICT_PRESIDENT_LKO, NEW, "CALLER", AYD, NotFound),
        (MANDAL_PRESIDENT_LKO_M01, NEW, "CALLER", LKO_M02, NotFound),
        (MANDAL_PRESIDENT_LKO_M01, NEW, "CALLER", LKO, NotFound),
        # oneself
        (DISTRICT_PRESIDENT_LKO, DISTRICT_PRESIDENT_LKO, "CALLER", LKO, Forbidden),
        (STATE_PRESIDENT, STATE_PRESIDENT, "CALLER", LKO, Forbidden),
        # a level the role does not allow
        (DISTRICT_PRESIDENT_LKO, NEW, "BOOTH_PRESIDENT", LKO_M01, BadUserInput),
        (DISTRICT_PRESIDENT_LKO, NEW, "MANDAL_PRESIDENT", LKO_M01_B1, BadUserInput),
        (STATE_PRESIDENT, NEW, "CALLER", "UP", BadUserInput),
        (STATE_PRESIDENT, NEW, "IT_CONVENOR", "UP-AWD", BadUserInput),
        # no role.grant over the unit (visible through a role without it)
        (DISTRICT_INCHARGE_LKO_AYD, NEW, "CALLER", LKO, Forbidden),
        (BOOTH_PRESIDENT_LKO_M01_B1, NEW, "CALLER", LKO_M01_B1, Forbidden),
        # unknown user or unit
        (DISTRICT_PRESIDENT_LKO, "u-999999", "CALLER", LKO, NotFound),
        (DISTRICT_PRESIDENT_LKO, NEW, "CALLER", "UP-AWD-LKO-M99", NotFound),
    ],
)
async def test_refused_grants_change_nothing(world: World, granter, user, role, unit, error) -> None:
    before = await world.conn.fetch("select * from assignments order by id")
    with pytest.raises(error):
        await _grant(world, granter, user, role, unit)
    assert await world.conn.fetch("select * from assignments order by id") == before
    assert await world.audit_count() == 0


async def test_order_of_checks(world: World) -> None:
    # NOT_FOUND before BAD_USER_INPUT: unknown user with a bad level.
    with pytest.raises(NotFound):
        await _grant(world, DISTRICT_PRESIDENT_LKO, "u-999999", "BOOTH_PRESIDENT", LKO)
    # NOT_FOUND before FORBIDDEN: invisible unit with an over-ranked role.
    with pytest.raises(NotFound):
        await _grant(world, MANDAL_PRESIDENT_LKO_M01, NEW, "DISTRICT_PRESIDENT", AYD)
    # BAD_USER_INPUT before FORBIDDEN: no role.grant and a bad level.
    with pytest.raises(BadUserInput):
        await _grant(world, DISTRICT_INCHARGE_LKO_AYD, NEW, "BOOTH_PRESIDENT", LKO)
    # BAD_USER_INPUT before FORBIDDEN: to oneself at a bad level.
    with pytest.raises(BadUserInput):
        await _grant(world, DISTRICT_PRESIDENT_LKO, DISTRICT_PRESIDENT_LKO, "BOOTH_PRESIDENT", LKO)


async def test_highest_granting_role_decides(world: World) -> None:
    """A user who is MANDAL_PRESIDENT at M01 and DISTRICT_PRESIDENT of LKO grants at M01 with
    the rank of DISTRICT_PRESIDENT; a role without role.grant lends no rank."""
    await _grant(world, STATE_PRESIDENT, NEW, "MANDAL_PRESIDENT", LKO_M01)
    await _grant(world, STATE_PRESIDENT, NEW, "DISTRICT_PRESIDENT", LKO)
    row = await _grant(world, NEW, NEW2, "MANDAL_PRESIDENT", LKO_M01)
    assert row.role == "MANDAL_PRESIDENT"
    # DISTRICT_INCHARGE (rank 55, no role.grant) + MANDAL_PRESIDENT (30) cannot grant MANDAL_PRESIDENT.
    await _grant(world, STATE_PRESIDENT, NEW2, "DISTRICT_INCHARGE", LKO)
    with pytest.raises(Forbidden):
        await _grant(world, NEW2, "u-000073", "MANDAL_PRESIDENT", LKO_M01)


async def test_refused_revokes_change_nothing(world: World) -> None:
    own = await _assignment_id(world, DISTRICT_PRESIDENT_LKO, "DISTRICT_PRESIDENT", LKO)
    equal = await _assignment_id(world, MANDAL_PRESIDENT_LKO_M01, "MANDAL_PRESIDENT", LKO_M01)
    higher = await _assignment_id(world, REGIONAL_PRESIDENT_AWD, "REGIONAL_PRESIDENT", "UP-AWD")
    elsewhere = await _assignment_id(world, "u-000030", "MANDAL_PRESIDENT", "UP-AWD-AYD-M01")
    caller = await _assignment_id(world, CALLER_LKO_M01, "CALLER", LKO_M01)
    before = await world.conn.fetch("select * from assignments order by id")
    cases: list[tuple[str, Any, type[Exception]]] = [
        (DISTRICT_PRESIDENT_LKO, own, Forbidden),  # oneself
        (MANDAL_PRESIDENT_LKO_M01, equal, Forbidden),  # own too, and equal rank
        ("u-000019", equal, NotFound),  # another mandal's president: not visible
        (DISTRICT_PRESIDENT_LKO, higher, NotFound),  # the region is not visible to a district
        (DISTRICT_PRESIDENT_LKO, elsewhere, NotFound),
        (DISTRICT_INCHARGE_LKO_AYD, caller, Forbidden),  # visible, no role.grant
        (BOOTH_PRESIDENT_LKO_M01_B1, caller, NotFound),  # M01 is above the booth
        (DISTRICT_PRESIDENT_LKO, 10**12, NotFound),
        (DISTRICT_PRESIDENT_LKO, "not-an-id", NotFound),
    ]
    for revoker, ident, error in cases:
        with pytest.raises(error):
            await _revoke(world, revoker, ident)
    await _grant(world, STATE_PRESIDENT, NEW, "DISTRICT_PRESIDENT", LKO)
    with pytest.raises(Forbidden):  # same rank as the revoker's
        await _revoke(world, NEW, await _assignment_id(world, DISTRICT_PRESIDENT_LKO, "DISTRICT_PRESIDENT", LKO))
    assert len(await world.conn.fetch("select * from assignments order by id")) == len(before) + 1
    assert await world.audit_count() == 1  # the one grant


async def test_grant_racing_a_revoke_of_the_granter(world: World, monkeypatch) -> None:
    """The district president grants while the state president revokes the district president.
    Whatever the interleaving, a grant is never committed after the granter's role is gone."""
    real_record = audit.record
    slow_action = [""]

    async def slow(conn, *, action, **kw):
        if action == slow_action[0]:
            await asyncio.sleep(0.3)  # hold the transaction open
        return await real_record(conn, action=action, **kw)

    monkeypatch.setattr(audit, "record", slow)
    dp_assignment = await _assignment_id(world, DISTRICT_PRESIDENT_LKO, "DISTRICT_PRESIDENT", LKO)
    c1, c2 = await asyncpg.connect(world.url), await asyncpg.connect(world.url)
    try:
        # 1. The grant starts first and holds its transaction: the revoke waits for it.
        slow_action[0] = "role.grant"
        dp, sp = await world.viewer(DISTRICT_PRESIDENT_LKO), await world.viewer(STATE_PRESIDENT)
        grant = asyncio.create_task(roles.grant_role(c1, dp, world.policy, user_id=NEW, role="CALLER", unit=LKO))
        await asyncio.sleep(0.1)
        revoke = asyncio.create_task(roles.revoke_role(c2, sp, world.policy, assignment_id=dp_assignment))
        granted, revoked = await asyncio.gather(grant, revoke)
        assert granted.role == "CALLER" and revoked is True
        ids = dict(
            await world.conn.fetch(
                "select action, id from audit_log where action like 'role.%' and id > $1", world.audit_base
            )
        )
        assert ids["role.grant"] < ids["role.revoke"]

        # 2. The revoke (of a re-granted district president) starts first: the grant waits, then is refused.
        await _grant(world, STATE_PRESIDENT, DISTRICT_PRESIDENT_LKO, "DISTRICT_PRESIDENT", LKO)
        dp_assignment = await _assignment_id(world, DISTRICT_PRESIDENT_LKO, "DISTRICT_PRESIDENT", LKO)
        viewer = await world.viewer(DISTRICT_PRESIDENT_LKO)  # read before the revoke, like a request would
        slow_action[0] = "role.revoke"
        revoke = asyncio.create_task(roles.revoke_role(c2, sp, world.policy, assignment_id=dp_assignment))
        await asyncio.sleep(0.1)
        grant = asyncio.create_task(roles.grant_role(c1, viewer, world.policy, user_id=NEW2, role="CALLER", unit=LKO))
        results = await asyncio.gather(revoke, grant, return_exceptions=True)
        assert results[0] is True
        assert isinstance(results[1], (Forbidden, NotFound))
        assert await _assignments(world, NEW2) == []
    finally:
        await c1.close()
        await c2.close()


async def test_concurrent_identical_grants_make_one_assignment(world: World) -> None:
    conns = [await asyncpg.connect(world.url) for _ in range(6)]
    viewer = await world.viewer(DISTRICT_PRESIDENT_LKO)
    try:
        rows = await asyncio.gather(
            *(roles.grant_role(c, viewer, world.policy, user_id=NEW, role="CALLER", unit=LKO_M01) for c in conns)
        )
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    assert len({r.id for r in rows}) == 1
    assert await _assignments(world, NEW) == [("CALLER", LKO_M01)]
