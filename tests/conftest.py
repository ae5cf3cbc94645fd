"""Fixtures over a real PostgreSQL: the machine's server when one answers, else the embedded one.

Order of choice: TEST_DATABASE_URL, DATABASE_URL, a server at 127.0.0.1:5432 (user postgres),
and otherwise the embedded pgserver under .boothgraph-test/ (BOOTHGRAPH_TEST_EMBEDDED=1 forces it).
Each session migrates one template database; `database` clones it per test so tests never
see each other's rows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core import migrate
from core.database import asyncpg_dsn, embedded_url

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GEN_DATASET = SHARED / "tools" / "gen_dataset.py"


def _server_url() -> str:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        if os.environ.get(name):
            return asyncpg_dsn(os.environ[name])
    if os.environ.get("BOOTHGRAPH_TEST_EMBEDDED") != "1":
        try:
            with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
                return "postgresql://postgres@127.0.0.1:5432/postgres"
        except OSError:
            pass
    return embedded_url(ROOT / ".boothgraph-test")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class DatabaseFactory:
    """Creates throw-away databases on one server, cloned from a migrated template."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.template = f"bg_tpl_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def setup(self) -> None:
        await self._admin(f'create database "{self.template}"')
        migrate.upgrade(with_database(self.server_url, self.template))

    async def create(self, template: str | None = None) -> str:
        name = f"bg_t_{uuid.uuid4().hex[:10]}"
        await self._admin(f'create database "{name}" template "{template or self.template}"')
        self.created.append(name)
        return with_database(self.server_url, name)

    async def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        await self._admin(f'drop database if exists "{name}" with (force)')

    async def teardown(self) -> None:
        from tests.serverkit import APP_ROLE, OWNER_ROLE

        for name in [*self.created, self.template]:
            try:
                await self._admin(f'drop database if exists "{name}" with (force)')
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        for role in (APP_ROLE, OWNER_ROLE):  # the test servers' roles (serverkit.as_app_role)
            try:
                await self._admin(f'drop role if exists "{role}"')
            except Exception:  # noqa: BLE001 - best effort cleanup (a database still using it)
                pass


@pytest.fixture(scope="session")
async def db_factory() -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(_server_url())
    await factory.setup()
    yield factory
    await factory.teardown()


@pytest.fixture
async def database_url(db_factory: DatabaseFactory) -> AsyncIterator[str]:
    """A freshly migrated, empty database of its own for one test."""
    url = await db_factory.create()
    yield url
    await db_factory.drop(url)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gen_dataset.py `tiny` folder: the foreign producer of contract CSV files."""
    out = tmp_path_factory.mktemp("bg-tiny")
    subprocess.run(
        [sys.executable, str(GEN_DATASET), "--preset", "tiny", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


# ------------------------------------------------ read API: the tiny data set, loaded once ---
@pytest.fixture(scope="session")
async def read_template(db_factory: DatabaseFactory, tiny_dataset: Path) -> str:
    """Name of a database holding the tiny data set, used only as a template (no connections)."""
    from tests.dataset import load_folder

    url = await db_factory.create()
    connection = await asyncpg.connect(url)
    try:
        await load_folder(connection, tiny_dataset)
    finally:
        await connection.close()
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="session")
async def read_pool(db_factory: DatabaseFactory, read_template: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool over a session-wide clone of the tiny data set, for tests that only read."""
    url = await db_factory.create(template=read_template)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()


@pytest.fixture
async def read_db_url(db_factory: DatabaseFactory, read_template: str) -> AsyncIterator[str]:
    """A clone of the tiny data set of its own, for a test that writes."""
    url = await db_factory.create(template=read_template)
    yield url
    await db_factory.drop(url)


@pytest.fixture(scope="session")
async def read_truth(tiny_dataset: Path, read_pool: asyncpg.Pool):  # -> tests.read_truth.Truth
    """The oracle of the read API tests: the tiny CSV files and the default matrix."""
    from tests.read_truth import Truth

    return await Truth.load(tiny_dataset, read_pool)


# ------------------------------------------ transfer: a small hand-made folder and DB state ---
MINI_DATASET = {
    "units.csv": """code,parent_code,level,name,name_hi
UP,,STATE,Uttar Pradesh,उत्तर प्रदेश
UP-AWD,UP,REGION,Awadh,अवध
UP-KSI,UP,REGION,Kashi,काशी
UP-AWD-LKO,UP-AWD,DISTRICT,Lucknow,लखनऊ
UP-KSI-VNS,UP-KSI,DISTRICT,Varanasi,वाराणसी
UP-AWD-LKO-M01,UP-AWD-LKO,MANDAL,Kakori,काकोरी
UP-KSI-VNS-M01,UP-KSI-VNS,MANDAL,Pindra,पिंडरा
UP-AWD-LKO-M01-B0001,UP-AWD-LKO-M01,BOOTH,"Primary School Kakori, Room 1","प्राथमिक विद्यालय काकोरी, कक्ष 1"
UP-AWD-LKO-M01-B0002,UP-AWD-LKO-M01,BOOTH,"Primary School Kakori, Room 2","प्राथमिक विद्यालय काकोरी, कक्ष 2"
UP-KSI-VNS-M01-B0001,UP-KSI-VNS-M01,BOOTH,Panchayat Bhawan Pindra,पंचायत भवन पिंडरा
""",
    "voters.csv": ",".join(
        ("epic_number", "booth_code", "serial_number", "name", "name_hi", "relative_name", "age", "gender")
        + ("house_number", "phone", "caste_category", "caste", "economic_status", "contact_consent")
    )
    + """
ABC0000001,UP-AWD-LKO-M01-B0001,1,Ram Yadav,राम यादव,Shyam Yadav,45,MALE,12,5123456780,OBC,OBC-03,BPL,GRANTED
ABC0000002,UP-AWD-LKO-M01-B0001,2,Sita Devi,सीता देवी,Ram Yadav,41,FEMALE,12,,OBC,OBC-03,BPL,UNKNOWN
ABC0000003,UP-AWD-LKO-M01-B0001,3,Mohan Verma,मोहन वर्मा,Sohan,67,MALE,14A,5000000003,SC,SC-01,LOW_INCOME,DENIED
ABC0000004,UP-AWD-LKO-M01-B0002,1,Gita Kumari,गीता कुमारी,Mohan Verma,19,FEMALE,3/14,5000000004,,,,
ABC0000005,UP-AWD-LKO-M01-B0002,2,Aslam Khan,असलम ख़ान,Akram,33,MALE,,5000000005,GEN,GEN-02,MIDDLE_INCOME,UNKNOWN
ABC0000006,UP-AWD-LKO-M01-B0002,3,Chandni,चाँदनी,,29,THIRD_GENDER,7,,,,,UNKNOWN
XYZ0000001,UP-KSI-VNS-M01-B0001,1,Vinod Mishra,विनोद मिश्रा,Anil,58,MALE,1,5000000011,GEN,GEN-01,HIGH_INCOME,GRANTED
XYZ0000002,UP-KSI-VNS-M01-B0001,2,Kavita Mishra,कविता मिश्रा,Vinod,52,FEMALE,1,5000000012,GEN,GEN-01,HIGH_INCOME,
XYZ0000003,UP-KSI-VNS-M01-B0001,3,Ramesh Pal,रमेश पाल,Suresh Pal,120,MALE,2,,ST,ST-01,BPL,UNKNOWN
""",
    "schemes.csv": """code,name,name_hi
PMUY,Pradhan Mantri Ujjwala Yojana,प्रधानमंत्री उज्ज्वला योजना
PM-KISAN,Pradhan Mantri Kisan Samman Nidhi,प्रधानमंत्री किसान सम्मान निधि
NSAP,National Social Assistance Programme,
""",
    "beneficiaries.csv": """epic_number,scheme_code,since
ABC0000002,PMUY,2017-03-01
ABC0000001,PM-KISAN,2020-02-29
ABC0000003,NSAP,
XYZ0000003,PM-KISAN,2019-12-31
XYZ0000003,NSAP,2021-07-15
""",
    "users.csv": """id,name,phone
u-000001,Awadhesh Tripathi,5111111111
u-000002,Kuldeep Bajpai,5222222222
u-000003,Sunita Devi,
u-000004,Imran Ansari,5444444444
u-000005,Nobody Assigned,
""",
    "assignments.csv": """user_id,role,unit_code
u-000001,STATE_PRESIDENT,UP
u-000002,DISTRICT_CONVENOR,UP-AWD-LKO
u-000003,BOOTH_PRESIDENT,UP-AWD-LKO-M01-B0001
u-000003,CALLER,UP-AWD-LKO-M01-B0001
u-000004,IT_CONVENOR,UP-KSI-VNS
""",
}


@pytest.fixture
def mini_dataset(tmp_path: Path) -> Path:
    """A hand-made, valid import folder (10 units, 9 voters, Devanagari, a quoted comma)."""
    folder = tmp_path / "mini"
    folder.mkdir()
    for name, text in MINI_DATASET.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return folder


async def _db_state(conn: asyncpg.Connection) -> dict[str, tuple[int, str]]:
    tables = await conn.fetch(
        "select tablename from pg_tables where schemaname = 'public' and tablename <> 'alembic_version'"
    )
    state: dict[str, tuple[int, str]] = {}
    for (name,) in tables:
        row = await conn.fetchrow(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {name} t"
        )
        state[name] = (row[0], row[1])
    return state


@pytest.fixture
def db_state():  # -> async (conn) -> {table: (rows, md5 of rows)}
    """Takes the state of every public table: (row count, md5 of all rows); equal states compare
    equal, so `assert await db_state(conn) == before` shows that nothing was written."""
    return _db_state


# ------------------------------------------------- writes: the tiny data set plus a test world ---
@pytest.fixture
async def world(database_url: str, conn: asyncpg.Connection, tiny_dataset: Path):  # -> tests.writes_support.World
    """The tiny data set loaded into this test's database, with the users the write tests act as."""
    from tests.writes_support import make_world

    async with make_world(database_url, conn, tiny_dataset) as w:
        yield w


# ----------------------------- scaling: a real primary and streaming standby (tests/pgpair.py) ---
def _pair_or_skip(*, synchronous: bool = False):  # -> tests.pgpair.PgPair
    from tests.pgpair import make_pair, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no primary/standby pair: {reason}")
    return make_pair(synchronous=synchronous)


@pytest.fixture(scope="session")
async def shared_pg_pair():  # -> tests.pgpair.PgPair
    """One primary + standby for the tests that leave both running (each uses its own database)."""
    pair = _pair_or_skip()
    try:
        await pair.wait_streaming()
        yield pair
    finally:
        pair.close()


@pytest.fixture
async def pg_pair():  # -> tests.pgpair.PgPair
    """A primary + standby of this test's own, which it may stop, promote or break."""
    pair = _pair_or_skip()
    try:
        await pair.wait_streaming()
        yield pair
    finally:
        pair.close()


@pytest.fixture
async def sync_pg_pair():  # -> tests.pgpair.PgPair
    """As pg_pair, with synchronous replication: a commit returns once the standby has flushed it."""
    pair = _pair_or_skip(synchronous=True)
    try:
        await pair.wait_streaming()
        yield pair
    finally:
        pair.close()
