"""`myCallList { callsToday }` (the app's "today" figure, issue 14 polish): the calls the viewer
logged since local midnight (ELECTION_TIMEZONE, the request's clock) on entries of their own list,
counted by the database. Property: for any logs, by the entries' callers or by others, today or
before, each user's figure is exactly their own logs of today on their own entries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.viewer import load_viewer
from schema import schema
from schema.context import Context
from tests.conftest import DatabaseFactory
from tests.read_support import POLICY, SETTINGS
from transfer.demo_campaign import seed_demo_campaign

# 07:00 today in India (the demo campaign is open today, by the clock's local date): midnight was 7 hours ago
ZONE = ZoneInfo(SETTINGS.election_timezone)
MIDNIGHT = dt.datetime.combine(dt.datetime.now(ZONE).date(), dt.time(0, 0), tzinfo=ZONE)
NOW = MIDNIGHT + dt.timedelta(hours=7)
OUTSIDER = "u-000006"  # a district president: no call list of their own
QUERY = "query { myCallList(first: 1) { callsToday } }"


@dataclasses.dataclass(frozen=True)
class Entry:
    id: int
    voter_id: int
    caller_id: str


@pytest.fixture(scope="module")
async def pool(db_factory: DatabaseFactory, read_template: str) -> AsyncIterator[asyncpg.Pool]:
    url = await db_factory.create(template=read_template)
    conn = await asyncpg.connect(url)
    try:
        assert await seed_demo_campaign(conn) is not None
    finally:
        await conn.close()
    made = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert made is not None
    yield made
    await made.close()
    await db_factory.drop(url)


async def calls_today(pool: asyncpg.Pool, user: str) -> int:
    viewer = await load_viewer(pool, user)
    assert viewer is not None
    ctx = Context(pool=pool, settings=SETTINGS, policy=POLICY, viewer=viewer, clock=FixedClock(NOW))
    result = await schema.execute(QUERY, context_value=ctx)
    assert result.errors is None, result.errors
    assert result.data is not None
    return int(result.data["myCallList"]["callsToday"])


LOGS = st.lists(
    st.tuples(st.integers(0, 10_000), st.booleans(), st.integers(0, 30 * 60)),  # entry, by its caller?, minutes ago
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(logs=LOGS)
async def test_calls_today_counts_only_ones_own_logs_of_today_on_ones_own_list(pool: asyncpg.Pool, logs) -> None:
    entries = [Entry(**r) for r in await pool.fetch("select id, voter_id, caller_id from call_assignments order by id")]
    callers = sorted({e.caller_id for e in entries})
    assert len(callers) >= 2
    written: list[tuple[Entry, str, dt.datetime]] = []
    for index, by_own_caller, minutes_ago in logs:
        entry = entries[index % len(entries)]
        who = entry.caller_id if by_own_caller else next(c for c in [*callers, OUTSIDER] if c != entry.caller_id)
        written.append((entry, who, NOW - dt.timedelta(minutes=minutes_ago)))
    async with pool.acquire() as conn:
        await conn.executemany(
            "insert into call_logs (assignment_id, voter_id, caller_id, outcome, called_at)"
            " values ($1, $2, $3, 'NO_ANSWER', $4)",
            [(e.id, e.voter_id, who, at) for e, who, at in written],
        )
    try:
        for user in [*callers, OUTSIDER]:
            want = sum(1 for e, who, at in written if who == user and e.caller_id == user and at >= MIDNIGHT)
            assert await calls_today(pool, user) == want, user
    finally:
        await pool.execute("delete from call_logs")
