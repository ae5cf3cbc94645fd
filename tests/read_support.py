"""Helpers of the tests/test_read_*.py modules: run a query as a user, count statements."""

from __future__ import annotations

from typing import Any

import asyncpg
from strawberry.types import ExecutionResult

from core.settings import Settings
from core.viewer import load_viewer
from policies import PolicyEngine
from schema import schema
from schema.context import Context

POLICY = PolicyEngine()
SETTINGS = Settings(jwt_secret="read-tests-cursor-key-0123456789")


class CountingPool:
    """Wraps a pool and counts the statements a request runs."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._pool, name)
        if name in ("fetch", "fetchrow", "fetchval", "execute"):

            async def counted(sql: str, *args: Any, **kwargs: Any) -> Any:
                self.statements.append(sql)
                return await attr(sql, *args, **kwargs)

            return counted
        return attr


async def context(
    pool: Any, user: str, policy: PolicyEngine | None = None, settings: Settings | None = None
) -> Context:
    viewer = await load_viewer(pool._pool if isinstance(pool, CountingPool) else pool, user)
    assert viewer is not None, user
    return Context(pool=pool, settings=settings or SETTINGS, policy=policy or POLICY, viewer=viewer)


async def run(
    pool: Any,
    user: str,
    query: str,
    variables: dict[str, Any] | None = None,
    policy: PolicyEngine | None = None,
    settings: Settings | None = None,
) -> ExecutionResult:
    ctx = await context(pool, user, policy, settings)
    return await schema.execute(query, variable_values=variables, context_value=ctx)


async def data(pool: Any, user: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await run(pool, user, query, variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def codes(result: ExecutionResult) -> list[str | None]:
    return [(e.extensions or {}).get("code") for e in result.errors or []]
