"""Property: an invitation or API key never carries more than its issuer could grant. For random
issuers (the first twelve users: state to district offices, so that many examples succeed) and
users of the tiny data set, whenever an invitation is issued, the issuer could also
have granted every role the user holds, at its unit, to someone new (grantRole's own checks);
and an API key is issued exactly when an invitation is. Each example runs in a transaction that
is rolled back."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BoothgraphError
from core.viewer import load_viewer
from policies import PolicyEngine
from resolvers.identity import create_api_key, issue_invitation
from resolvers.roles import grant_role
from tests.dataset import load_folder

POLICY = PolicyEngine()
USERS = [f"u-{n:06d}" for n in range(1, 61)]


@pytest.fixture
async def loaded(conn: asyncpg.Connection, tiny_dataset: Path) -> asyncpg.Connection:
    await load_folder(conn, tiny_dataset)
    return conn


async def _outcome(work) -> str:  # type: ignore[no-untyped-def]
    try:
        await work()
    except BoothgraphError as exc:
        return exc.code
    return "OK"


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(issuer_id=st.sampled_from(USERS[:12]), user_id=st.sampled_from(USERS))
async def test_invitations_never_escalate(loaded: asyncpg.Connection, issuer_id: str, user_id: str) -> None:
    conn = loaded
    issuer = await load_viewer(conn, issuer_id)
    holder = await load_viewer(conn, user_id)
    if issuer is None:
        return
    tx = conn.transaction()
    await tx.start()
    try:
        invited = await _outcome(
            lambda: issue_invitation(conn, policy=POLICY, issuer=issuer, user_id=user_id, ttl_s=600)
        )
        keyed = await _outcome(
            lambda: create_api_key(conn, policy=POLICY, issuer=issuer, user_id=user_id, name="p", ttl_days=1)
        )
        assert invited == keyed, (issuer_id, user_id, invited, keyed)
        if invited != "OK":
            assert invited in {"NOT_FOUND", "FORBIDDEN", "BAD_USER_INPUT"}
            return
        assert holder is not None and holder.assignments and user_id != issuer_id
        await conn.execute("insert into users (id, name) values ('prop-new', 'New')")
        for assignment in holder.assignments:
            granted = await _outcome(
                lambda a=assignment: grant_role(conn, issuer, POLICY, user_id="prop-new", role=a.role, unit=a.unit.code)
            )
            assert granted == "OK", (issuer_id, user_id, assignment.role, assignment.unit.code, granted)
    finally:
        await tx.rollback()
