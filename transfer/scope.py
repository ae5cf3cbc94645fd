"""The `allowed` hook: which units an import touches, and refusing those outside the caller's scope.

`allowed` is either a set of unit ids, each covering its subtree (a unit is allowed when it or
one of its ancestors is in the set), or a callable taking a `core.viewer.UnitPlace` (as the unit
stands inside the import's transaction) and returning a bool or an awaitable bool. A touched
unit that is not allowed is refused as NOT_FOUND at the first line that touches it, with the
same words as for a unit that does not exist; the two are found together and the first line
of either is refused (docs/import-scope.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg

from core.errors import BoothgraphError
from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, unit_place
from transfer.refusal import missing
from transfer.staging import Staged

Allowed: TypeAlias = Collection[int] | Callable[[UnitPlace], bool | Awaitable[bool]]


@dataclass(frozen=True)
class Absent:
    """Record `ord` refers through `column` to a <what> that exists neither in the upload nor
    in the database; refused as "no <what> <value>", like a touch outside the scope."""

    ord: int
    column: str
    what: str


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
        # The first refusal of a stored record outside the scope whose key a file reuses (an
        # EPIC stored in another district): raised only after every other check of the import,
        # so that no other refusal's place depends on whether that key exists elsewhere.
        self.deferred: BoothgraphError | None = None

    @property
    def active(self) -> bool:
        return self.allowed is not None

    async def check(
        self,
        conn: asyncpg.Connection,
        staged: Staged,
        touches: list[Touch],
        absent: Sequence[Absent] = (),
        *,
        defer: bool = False,
    ) -> list[int]:
        """Remember what was touched; refuse the first record (by line, then column) that touches
        a unit outside the scope or whose reference resolves to nothing (`absent`): with a scope,
        both are one refusal, the same status and words, so that its place never depends on what
        exists elsewhere. `defer`: remember the refusal in `deferred` instead of raising it, and
        return the refused unit ids."""
        self.touched.update(t.unit_id for t in touches)
        refused: list[Touch | Absent] = list(absent)
        if self.allowed is not None and touches:
            unknown = sorted({t.unit_id for t in touches} - self._verdicts.keys())
            if unknown:
                rows = await conn.fetch(f"select {UNIT_PLACE_COLUMNS} from units u where u.id = any($1)", unknown)
                for row in rows:
                    self._verdicts[row["id"]] = await self._allows(unit_place(row))
            refused += [t for t in touches if not self._verdicts.get(t.unit_id, False)]
        if not refused:
            return []
        first = min(refused, key=lambda t: (t.ord, staged.columns.index(t.column)))
        value = await conn.fetchval(f"select {first.column} from {staged.table} where ord = $1", first.ord)
        error = missing(
            staged.file, staged.line(first.ord), first.column, f"no {first.what} {value!r}", scoped=self.active
        )
        if not defer:
            raise error
        self.deferred = self.deferred or error
        return sorted({t.unit_id for t in refused if isinstance(t, Touch)})

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
