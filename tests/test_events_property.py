"""Property: what the event hub lets an official hear of a call is exactly what the read path lets
them read. For random officials of the tiny data set and random logged calls (callers drawn from
every user, voters from the whole state), `events.filters.hears_call` agrees with
`call_log_condition` (the SQL rule behind Voter.calls and node(id)), and the payload's phone is
in clear exactly when voter.read_contact covers the voter or the call is on the official's own
open list, masked otherwise (the one redaction rule)."""

from __future__ import annotations

import random
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import SYSTEM_CLOCK
from core.settings import Settings
from core.viewer import load_viewer
from events import filters
from policies import PolicyEngine
from resolvers.call_logs import call_log_by_id
from resolvers.events import call_event
from resolvers.model_code import local_today
from resolvers.redaction import mask_phone, voter_ancestors
from schema.context import Context
from tests.dataset import load_folder
from tests.eventskit import assign, campaign, log_call

POLICY = PolicyEngine()
SETTINGS = Settings(jwt_secret="test-secret-for-events-0123456789")
USERS = [f"u-{n:06d}" for n in range(1, 61)]
CALLS = 40


@pytest.fixture
async def calls(conn: asyncpg.Connection, tiny_dataset: Path) -> list[int]:
    await load_folder(conn, tiny_dataset)
    rng = random.Random(18)
    state = await campaign(conn, "UP", "u-000001")
    voters = [r["id"] for r in await conn.fetch("select id from voters order by id")]
    logged = []
    for voter in rng.sample(voters, CALLS):
        caller, by = rng.choice(USERS), rng.choice(USERS)
        logged.append(await log_call(conn, await assign(conn, state, voter, caller, by)))
    return logged


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(user=st.sampled_from(USERS), pick=st.integers(min_value=0, max_value=CALLS - 1))
async def test_hearing_a_call_is_reading_it(conn: asyncpg.Connection, calls: list[int], user: str, pick: int) -> None:
    viewer = await load_viewer(conn, user)
    assert viewer is not None
    event = await call_event(conn, calls[pick], local_today(SYSTEM_CLOCK, SETTINGS))
    assert event is not None
    ctx = Context(pool=conn, settings=SETTINGS, policy=POLICY, viewer=viewer)  # type: ignore[arg-type]
    readable = await call_log_by_id(ctx, calls[pick]) is not None
    assert filters.hears_call(POLICY, viewer, event) == readable, (user, calls[pick])
    if not readable:
        return
    voter = filters.call_voter(POLICY, viewer, event)
    contact = POLICY.cover(viewer, "voter.read_contact").covers_ancestors(voter_ancestors(event.voter))
    own_list = (
        event.on_list
        and event.list_caller_id == user
        and POLICY.cover(viewer, "outreach.call").covers_ancestors(voter_ancestors(event.voter))
    )
    phone = event.voter["phone"]
    assert voter.phone == (phone if contact or own_list else mask_phone(phone))
    sensitive = POLICY.cover(viewer, "voter.read_sensitive").covers_ancestors(voter_ancestors(event.voter))
    assert ("casteCategory" in voter.redacted_fields) == (not sensitive)
