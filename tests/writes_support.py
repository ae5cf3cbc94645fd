"""Shared fixtures of the tests/test_writes_*.py modules: a migrated database loaded with the
`tiny` data set, a pool over it, the default policy, and viewers read from the database."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from core.settings import Settings
from core.viewer import Viewer, load_viewer
from policies import PolicyEngine
from schema.context import Context
from tests.dataset import load_folder

TODAY = dt.date.today()


@dataclass
class World:
    url: str
    conn: asyncpg.Connection
    pool: asyncpg.Pool
    policy: PolicyEngine
    settings: Settings
    audit_base: int = 0  # audit entries up to this id were written while loading the data set

    async def viewer(self, user_id: str) -> Viewer:
        viewer = await load_viewer(self.conn, user_id)
        assert viewer is not None, user_id
        return viewer

    async def ctx(self, user_id: str) -> Context:
        return Context(pool=self.pool, settings=self.settings, policy=self.policy, viewer=await self.viewer(user_id))

    async def audit_count(self, action: str | None = None) -> int:
        """Entries written since the data set was loaded (of one action when given)."""
        return int(
            await self.conn.fetchval(
                "select count(*) from audit_log where id > $1 and ($2::text is null or action = $2)",
                self.audit_base,
                action,
            )
        )

    async def voter(self, epic: str) -> asyncpg.Record:
        row = await self.conn.fetchrow("select * from voters where epic_number = $1", epic)
        assert row is not None
        return row

    async def epic_in(self, booth_code: str, *, where: str = "true") -> str:
        epic = await self.conn.fetchval(
            f"""select v.epic_number from voters v join units b on b.id = v.booth_id
                where b.code = $1 and {where} order by v.serial_number limit 1""",
            booth_code,
        )
        assert epic is not None, (booth_code, where)
        return str(epic)

    async def rollups_match_recount(self) -> list[tuple]:
        """Differences between unit_rollups as the triggers left them and a fresh recount
        (rows with n = 0 are the same as no row). Leaves the database unchanged."""
        tx = self.conn.transaction()
        await tx.start()
        try:
            before = await self.conn.fetch("select unit_id, dim, key, n from unit_rollups where n <> 0")
            await self.conn.execute("select refresh_rollups(null)")
            after = await self.conn.fetch("select unit_id, dim, key, n from unit_rollups where n <> 0")
        finally:
            await tx.rollback()
        a = {(r["unit_id"], r["dim"], r["key"]): r["n"] for r in before}
        b = {(r["unit_id"], r["dim"], r["key"]): r["n"] for r in after}
        return sorted((k, a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k))


@contextlib.asynccontextmanager
async def make_world(database_url: str, conn: asyncpg.Connection, tiny_dataset: Path) -> AsyncIterator[World]:
    """The `world` of a test module's fixture:

    @pytest.fixture
    async def world(database_url, conn, tiny_dataset):
        async with make_world(database_url, conn, tiny_dataset) as w:
            yield w
    """
    await load_folder(conn, tiny_dataset)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=12)
    assert pool is not None
    try:
        yield World(
            url=database_url,
            conn=conn,
            pool=pool,
            policy=PolicyEngine(),
            settings=Settings(jwt_secret="test-secret-for-writes-0123456789", database_url=database_url),
            audit_base=int(await conn.fetchval("select coalesce(max(id), 0) from audit_log")),
        )
    finally:
        await pool.close()


# Users of the tiny data set (gen_dataset.py, preset tiny), by role.
STATE_PRESIDENT = "u-000001"
STATE_GENSEC = "u-000002"
STATE_IT = "u-000003"
REGIONAL_PRESIDENT_AWD = "u-000004"
REGIONAL_INCHARGE_AWD = "u-000005"
DISTRICT_PRESIDENT_LKO = "u-000006"
DISTRICT_INCHARGE_LKO_AYD = "u-000007"
DISTRICT_CONVENOR_LKO = "u-000008"
DISTRICT_CO_CONVENOR_LKO = "u-000009"
IT_CONVENOR_LKO = "u-000010"
SOCIAL_MEDIA_LKO = "u-000011"
CALLER_LKO = "u-000013"
MANDAL_PRESIDENT_LKO_M01 = "u-000014"  # also CALLER at LKO-M01
CALLER_LKO_M01 = "u-000015"
BOOTH_PRESIDENT_LKO_M01_B1 = "u-000016"  # also CALLER at the booth
CALLER_LKO_M01_B1 = "u-000017"
BOOTH_PRESIDENT_LKO_M01_B2 = "u-000018"
MANDAL_PRESIDENT_LKO_M02 = "u-000019"
DISTRICT_PRESIDENT_AYD = "u-000023"
DISTRICT_CONVENOR_AYD = "u-000024"
CALLER_AYD = "u-000029"
DISTRICT_CONVENOR_VNS = "u-000043"

LKO = "UP-AWD-LKO"
LKO_M01 = "UP-AWD-LKO-M01"
LKO_M01_B1 = "UP-AWD-LKO-M01-B0001"
LKO_M01_B2 = "UP-AWD-LKO-M01-B0002"
LKO_M02 = "UP-AWD-LKO-M02"
LKO_M02_B1 = "UP-AWD-LKO-M02-B0001"
AYD = "UP-AWD-AYD"
AYD_M01_B1 = "UP-AWD-AYD-M01-B0001"
VNS = "UP-KSI-VNS"
