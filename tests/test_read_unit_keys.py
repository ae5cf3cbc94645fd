"""resolvers.unit_keys: a server remembers units' ids and levels across requests. A unit that
moves out of an official's district between two requests must leave their lists at once."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from core.viewer import load_viewer
from policies import PolicyEngine
from resolvers.unit_keys import UnitKeys
from schema import schema
from schema.context import Context
from tests.read_support import SETTINGS
from transfer.importer import import_folder

QUERY = "query($u: String) { voters(unit: $u, first: 50) { edges { node { epicNumber } } } }"


async def epics(pool: asyncpg.Pool, user: str, unit: str, keys: UnitKeys) -> list[str]:
    viewer = await load_viewer(pool, user)
    assert viewer is not None
    ctx = Context(pool=pool, settings=SETTINGS, policy=PolicyEngine(), viewer=viewer, unit_keys=keys)
    result = await schema.execute(QUERY, variable_values={"u": unit}, context_value=ctx)
    assert result.errors is None, result.errors
    return sorted(e["node"]["epicNumber"] for e in result.data["voters"]["edges"])


async def test_a_moved_mandal_leaves_the_old_districts_lists_at_once(
    database_url: str, conn: asyncpg.Connection, mini_dataset: Path
) -> None:
    await import_folder(conn, mini_dataset)
    keys = UnitKeys()
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool:
        convenor = "u-000002"  # DISTRICT_CONVENOR of UP-AWD-LKO
        it_convenor = "u-000004"  # IT_CONVENOR of UP-KSI-VNS
        booth, mandal = "UP-AWD-LKO-M01-B0001", "UP-AWD-LKO-M01"
        before = await epics(pool, convenor, booth, keys)
        assert before and await epics(pool, convenor, mandal, keys)
        assert await epics(pool, it_convenor, booth, keys) == []
        assert keys.get(booth) is not None and keys.get(mandal) is not None  # remembered

        moved = mini_dataset.parent / "moved"
        moved.mkdir()
        (moved / "units.csv").write_text(
            "code,parent_code,level,name\nUP-AWD-LKO-M01,UP-KSI-VNS,MANDAL,Kakori\n", encoding="utf-8"
        )
        await import_folder(conn, moved)

        assert await epics(pool, convenor, booth, keys) == []
        assert await epics(pool, convenor, mandal, keys) == []
        assert await epics(pool, it_convenor, booth, keys) == before
        assert await epics(pool, convenor, "NO-SUCH-UNIT", keys) == []
        assert keys.get("NO-SUCH-UNIT") is None


def test_the_memory_is_bounded() -> None:
    from models import Level

    keys = UnitKeys(maxsize=2)
    for i in range(5):
        keys.put(f"U{i}", (i, Level.BOOTH))
    assert keys.get("U4") == (4, Level.BOOTH)
    assert len(keys._keys) <= 2
