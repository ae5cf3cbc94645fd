"""One mutation, one unit of work: one pooled connection of the request, one transaction holding
the change and its audit entry. The schema layer calls `run_mutation` and never touches a pool;
a mutation resolver takes (conn, viewer, policy, ...) and wraps its change in `in_transaction`
(tests and the command line hand it a connection of their own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

import asyncpg

from core.viewer import Viewer
from policies import PolicyEngine
from resolvers.context import ReadContext

T = TypeVar("T")
P = ParamSpec("P")

DEADLOCK_RETRIES = 3


async def run_mutation(
    ctx: ReadContext,
    mutation: Callable[Concatenate[asyncpg.Connection, Viewer, PolicyEngine, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`mutation(conn, viewer, policy, *args, **kwargs)` on one connection of the request's pool
    (through its gate: a bounded wait, the user's share, the statement budget)."""
    async with ctx.pool.acquire() as conn:
        return await mutation(conn, ctx.viewer, ctx.policy, *args, **kwargs)


async def in_transaction(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in one transaction; retried (whole) when PostgreSQL picks it as a deadlock
    victim or a serialization failure, so concurrent grants and revokes settle in some order."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            async with conn.transaction():
                return await work()
        except (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError):
            if attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
