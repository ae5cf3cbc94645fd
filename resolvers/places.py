"""The one lookup of a unit by its code: where it sits (`UnitPlace`), visible or not.

Only for checks and for conditions that the caller then ANDs with a scope; never handed to the
client as such. Request-scoped memo: resolvers.units.place_by_code; per-process memo of the
parts that never change: resolvers.unit_keys.UnitKeys.
"""

from __future__ import annotations

import asyncpg

from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, unit_place

UNIT_SQL = f"select {UNIT_PLACE_COLUMNS} from units u where u.code = $1"


async def find_unit(conn: asyncpg.Connection | asyncpg.Pool, code: str) -> UnitPlace | None:
    """Where the unit named `code` sits; None for no such unit."""
    row = await conn.fetchrow(UNIT_SQL, code)
    return None if row is None else unit_place(row)
