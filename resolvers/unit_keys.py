"""code -> (id, level) of units, remembered per server process.

A unit keeps its id and its level for ever: units are never deleted or renamed, and an import
refuses to change a unit's level (transfer/hierarchy.py). So an entry can never go stale, and a
list asked for by unit code (`voters(unit: "…")`) needs no lookup of the unit per request. Where
a unit sits (its ancestors) can change, and is never taken from here: a condition built from a
key is always ANDed with the scope filter, which reads each row's own ancestor columns.
"""

from __future__ import annotations

import asyncpg

from models import Level
from resolvers.places import find_unit

UnitKey = tuple[int, Level]


class UnitKeys:
    """A bounded map; full, it starts over (a worker sees at most ~2 lakh codes in all)."""

    def __init__(self, maxsize: int = 50_000) -> None:
        self.maxsize = maxsize
        self._keys: dict[str, UnitKey] = {}

    def get(self, code: str) -> UnitKey | None:
        return self._keys.get(code)

    def put(self, code: str, key: UnitKey) -> None:
        if len(self._keys) >= self.maxsize:
            self._keys.clear()
        self._keys[code] = key

    async def find(self, pool: asyncpg.Pool | asyncpg.Connection, code: str) -> UnitKey | None:
        """The unit's key, from memory or the database; None for no such unit (not remembered:
        an import may create it)."""
        key = self._keys.get(code)
        if key is None:
            place = await find_unit(pool, code)
            if place is None:
                return None
            key = (place.id, place.level)
            self.put(code, key)
        return key
