"""The `allowed` hook: which units an import touches, and refusing those outside the caller's scope.

`allowed` is either a set of unit ids, each covering its subtree (a unit is allowed when it or
one of its ancestors is in the set), or a callable taking a `core.viewer.UnitPlace` (as the unit
stands inside the import's transaction) and returning a bool or an awaitable bool. A touched
unit that is not allowed is refused as NOT_FOUND at the first line that touches it, with the
same words as for a unit that does not exist.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg

from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, unit_place
from transfer.refusal import missing
from transfer.staging import Staged

Allowed: TypeAlias = Collection[int] | Callable[[UnitPlace], bool | Awaitable[bool]]


@dataclass(frozen=True)
class Touch:
    """Record `ord` of a file touches `unit_id` through `column`; refused as "no <what> <value>"."""

    unit_id: int
    ord: int
    column: str
    what: str  # "unit", "BOOTH unit", "voter"


class Scope:
    def __init__(self, allowed: Allowed | None) -> None:
        self.allowed = allowed
        self.touched: set[int] = set()
        self._verdicts: dict[int, bool] = {}

    @property
    def active(self) -> bool:
        return self.allowed is not None

    async def check(self, conn: asyncpg.Connection, staged: Staged, touches: list[Touch]) -> None:
        """Remember what was touched; refuse the first touch of a unit outside the scope."""
        self.touched.update(t.unit_id for t in touches)
        if self.allowed is None or not touches:
            return
        unknown = sorted({t.unit_id for t in touches} - self._verdicts.keys())
        if unknown:
            rows = await conn.fetch(f"select {UNIT_PLACE_COLUMNS} from units u where u.id = any($1)", unknown)
            for row in rows:
                self._verdicts[row["id"]] = await self._allows(unit_place(row))
        refused = [t for t in touches if not self._verdicts.get(t.unit_id, False)]
        if refused:
            first = min(refused, key=lambda t: t.ord)
            value = await conn.fetchval(f"select {first.column} from {staged.table} where ord = $1", first.ord)
            reason = f"no {first.what} {value!r}"
            raise missing(staged.file, staged.line(first.ord), first.column, reason, scoped=True)

    async def _allows(self, place: UnitPlace) -> bool:
        allowed = self.allowed
        if callable(allowed):
            verdict = allowed(place)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            return bool(verdict)
        assert allowed is not None
        return any(a is not None and a in allowed for a in place.ancestors)


async def touches(conn: asyncpg.Connection, sql: str, column: str, what: str) -> list[Touch]:
    """Run a query returning (unit_id, first ord) rows: that ord touches that unit."""
    return [Touch(r[0], r[1], column, what) for r in await conn.fetch(sql) if r[0] is not None]
