"""Households (docs/pages.md): the house number normalisation, checked on its own and on the
generated data set; the households of a booth and of a page; a voter's household members; one
voter per household on a call list; voters.csv's `page` column."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.dataset import read_csv
from tests.read_support import data
from tests.writes_support import (
    BOOTH_PRESIDENT_LKO_M01_B1,
    DISTRICT_CONVENOR_LKO,
    LKO,
    LKO_M01_B1,
    MANDAL_PRESIDENT_LKO_M01,
    World,
    make_world,
)

CASES = [
    ("12", "12"),
    ("12 ", "12"),
    (" 12", "12"),
    ("012", "12"),
    ("12-A", "12A"),
    ("12 a", "12A"),
    ("12A", "12A"),
    ("12.a", "12A"),
    ("3/12", "3/12"),
    ("3 / 12", "3/12"),
    ("03/012", "3/12"),
    ("100", "100"),
    ("0", "0"),
    ("00", "0"),
    ("A-0", "A0"),
    ("H.No. 7", "HNO7"),
    ("", None),
    (" ", None),
    ("-", None),
    (None, None),
]


async def test_house_key_normalises_as_documented(conn: asyncpg.Connection) -> None:
    got = [(raw, await conn.fetchval("select house_key($1)", raw)) for raw, _ in CASES]
    assert got == CASES
    # Different houses stay apart: the suffix letter and the part before a slash count.
    keys = [await conn.fetchval("select house_key($1)", raw) for raw in ("12", "12A", "12B", "1/12", "2/12", "120")]
    assert len(set(keys)) == 6


async def test_households_of_the_generated_data_are_its_households(read_pool: asyncpg.Pool, tiny_dataset: Path) -> None:
    """gen_dataset.py writes each household as consecutive serials at one house number ("37",
    "37A", "4/37", or none): grouped by house_key they are exactly those runs, and variants of the
    same numbers ("37 ", "37-a", "037") group the same."""
    rows = read_csv(tiny_dataset, "voters.csv")
    runs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r["house_number"]:
            runs[(r["booth_code"], r["house_number"])].append(r["epic_number"])
    for (booth, _house), epics in runs.items():  # each one run of consecutive serials
        serials = sorted(
            int(r["serial_number"]) for r in rows if r["booth_code"] == booth and r["epic_number"] in epics
        )
        assert serials == list(range(serials[0], serials[0] + len(serials)))
    stored = await read_pool.fetch(
        "select b.code, v.household, v.epic_number from voters v join units b on b.id = v.booth_id"
    )
    grouped: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in stored:
        if r["household"] is not None:
            grouped[(r["code"], r["household"])].add(r["epic_number"])
    assert sorted(map(sorted, grouped.values())) == sorted(map(sorted, runs.values()))
    assert await read_pool.fetchval("select count(*) from voters where household is null") == sum(
        1 for r in rows if not r["house_number"]
    )
    variants = await read_pool.fetch(
        """select house_key(v.house_number) as k, house_key(v.house_number || ' ') as a,
                  house_key(regexp_replace(v.house_number, '^([0-9]+)([A-Z])$', '0\\1-\\2')) as b,
                  house_key(lower(v.house_number)) as c
           from voters v where v.house_number is not null"""
    )
    assert all(r["k"] == r["a"] == r["b"] == r["c"] for r in variants)


HOUSEHOLDS = """query($unit: String!, $page: Int, $first: Int, $after: String) {
  households(unit: $unit, page: $page, first: $first, after: $after) {
    edges { cursor node { key houseNumber size firstSerial pages } } pageInfo { hasNextPage endCursor } } }"""


async def test_a_booths_households_with_sizes_in_roll_order(read_pool: asyncpg.Pool) -> None:
    want = await read_pool.fetch(
        """select v.household as key, count(*)::int as size, min(v.serial_number) as first_serial,
                  array_agg(distinct v.page order by v.page) as pages
           from voters v join units b on b.id = v.booth_id where b.code = $1 and v.household is not null
           group by v.household order by 3""",
        LKO_M01_B1,
    )
    got: list[dict] = []
    after = None
    while True:  # pages of 7: the cursor continues exactly where the last page stopped
        result = await data(
            read_pool, BOOTH_PRESIDENT_LKO_M01_B1, HOUSEHOLDS, {"unit": LKO_M01_B1, "first": 7, "after": after}
        )
        got += [e["node"] for e in result["households"]["edges"]]
        if not result["households"]["pageInfo"]["hasNextPage"]:
            break
        after = result["households"]["pageInfo"]["endCursor"]
    assert [(n["key"], n["size"], n["firstSerial"], n["pages"]) for n in got] == [
        (r["key"], r["size"], r["first_serial"], r["pages"]) for r in want
    ]
    assert any(len(n["pages"]) == 2 for n in got)  # a household across a page break is one household
    # A page's households: those with a voter on it, sized by the voters on it.
    page = [
        e["node"]
        for e in (await data(read_pool, BOOTH_PRESIDENT_LKO_M01_B1, HOUSEHOLDS, {"unit": LKO_M01_B1, "page": 2}))[
            "households"
        ]["edges"]
    ]
    on_page = await read_pool.fetchval(
        """select count(*) from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.page = 2 and v.household is not null""",
        LKO_M01_B1,
    )
    assert sum(n["size"] for n in page) == on_page and all(n["pages"] == [2] for n in page)
    # Not visible, or not a booth.
    empty = await data(read_pool, BOOTH_PRESIDENT_LKO_M01_B1, HOUSEHOLDS, {"unit": "UP-AWD-LKO-M01-B0002"})
    assert empty["households"]["edges"] == []
    from tests.read_support import codes, run

    result = await run(read_pool, MANDAL_PRESIDENT_LKO_M01, HOUSEHOLDS, {"unit": "UP-AWD-LKO-M01"})
    assert codes(result) == ["BAD_USER_INPUT"]


MEMBERS = """query($epic: String!) { householdMembers(epicNumber: $epic) {
  totalCount edges { node { epicNumber serialNumber houseNumber household } } } }"""


async def test_a_voters_household_members(read_pool: asyncpg.Pool) -> None:
    biggest = await read_pool.fetchrow(
        """select v.booth_id, v.household, count(*) as n, min(v.epic_number) as epic
           from voters v join units b on b.id = v.booth_id where b.code = $1 and v.household is not null
           group by 1, 2 order by 3 desc, 2 limit 1""",
        LKO_M01_B1,
    )
    want = [
        r[0]
        for r in await read_pool.fetch(
            "select epic_number from voters where booth_id = $1 and household = $2 order by serial_number",
            biggest["booth_id"],
            biggest["household"],
        )
    ]
    assert len(want) >= 3
    got = (await data(read_pool, BOOTH_PRESIDENT_LKO_M01_B1, MEMBERS, {"epic": biggest["epic"]}))["householdMembers"]
    assert [e["node"]["epicNumber"] for e in got["edges"]] == want and got["totalCount"] == len(want)
    # Out of scope: nothing, as for an absent voter.
    other = await data(read_pool, "u-000018", MEMBERS, {"epic": biggest["epic"]})
    assert other["householdMembers"] == {"totalCount": 0, "edges": []}
    # Without a house number: alone.
    alone = await read_pool.fetchval(
        "select epic_number from voters where booth_id = $1 and household is null limit 1", biggest["booth_id"]
    )
    if alone is not None:
        got = (await data(read_pool, BOOTH_PRESIDENT_LKO_M01_B1, MEMBERS, {"epic": alone}))["householdMembers"]
        assert [e["node"]["epicNumber"] for e in got["edges"]] == [alone]


# ------------------------------------------------------------- call lists, imports ---
@pytest.fixture
async def world(database_url: str, conn: asyncpg.Connection, tiny_dataset: Path) -> AsyncIterator[World]:
    async with make_world(database_url, conn, tiny_dataset) as w:
        yield w


ASSIGN = """mutation($input: AssignCallsInput!) { assignCalls(input: $input) }"""


async def test_one_voter_per_household_on_a_call_list(world: World) -> None:
    import datetime as dt

    from schema import schema

    async def run_as(user: str, query: str, variables: dict) -> dict:
        result = await schema.execute(query, variable_values=variables, context_value=await world.ctx(user))
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    today = dt.date.today().isoformat()
    schemes = [r[0] for r in await world.conn.fetch("select code from schemes")]
    made = await run_as(
        DISTRICT_CONVENOR_LKO,
        "mutation($i: CampaignInput!) { createCampaign(input: $i) { id } }",
        {"i": {"name": "Door to door", "unit": LKO, "schemes": schemes, "opensOn": today, "closesOn": today}},
    )
    campaign = made["createCampaign"]["id"]
    first = {"campaignId": campaign, "callerId": "u-000013", "limit": 40, "onePerHousehold": True}
    n1 = (await run_as(DISTRICT_CONVENOR_LKO, ASSIGN, {"input": first}))["assignCalls"]
    n2 = (await run_as(DISTRICT_CONVENOR_LKO, ASSIGN, {"input": {**first, "limit": 5000}}))["assignCalls"]
    assert n1 == 40 and n2 > 0
    listed = await world.conn.fetch(
        """select v.booth_id, v.household, v.serial_number from call_assignments ca join voters v on v.id = ca.voter_id
           where ca.campaign_id = $1""",
        int(__import__("base64").b64decode(campaign).decode().split(":")[1]),
    )
    keyed = [(r["booth_id"], r["household"]) for r in listed if r["household"] is not None]
    assert len(keyed) == len(set(keyed))  # never two of one household, over both calls
    # Every eligible household got its first eligible voter in roll order.
    eligible = await world.conn.fetch(
        """select distinct on (v.booth_id, coalesce(v.household, '#' || v.id)) v.booth_id, v.serial_number
           from voters v where v.district_id = (select id from units where code = $1) and v.phone is not null
             and v.contact_consent <> 'DENIED'
             and exists (select 1 from beneficiaries bn where bn.voter_id = v.id)
           order by v.booth_id, coalesce(v.household, '#' || v.id), v.serial_number""",
        LKO,
    )
    assert len(listed) == n1 + n2 == len(eligible)
    assert sorted((r["booth_id"], r["serial_number"]) for r in listed) == sorted(
        (r["booth_id"], r["serial_number"]) for r in eligible
    )


async def test_voters_csv_page_column(world: World, tiny_dataset: Path, tmp_path: Path) -> None:
    """A `page` column is the roll's page; empty cells and files without it: pages of 30 serials;
    a later file without the column keeps the stored roll pages."""
    from transfer.importer import import_folder

    folder = tmp_path / "paged"
    folder.mkdir()
    rows = read_csv(tiny_dataset, "voters.csv")[:60]
    with (folder / "voters.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0].keys(), "page"])
        writer.writeheader()
        for i, r in enumerate(rows):
            writer.writerow({**r, "page": "" if i % 2 else str(7 + i % 3)})
    await import_folder(world.conn, folder)
    stored = {
        r["epic_number"]: (r["roll_page"], r["page"], r["serial_number"])
        for r in await world.conn.fetch("select epic_number, roll_page, page, serial_number from voters")
    }
    for i, r in enumerate(rows):
        roll, page, serial = stored[r["epic_number"]]
        assert (roll, page) == ((None, (serial - 1) // 30 + 1) if i % 2 else (7 + i % 3, 7 + i % 3))
    shutil.copy(tiny_dataset / "voters.csv", folder / "voters.csv")  # no page column
    await import_folder(world.conn, folder)
    again = {r[0]: r[1] for r in await world.conn.fetch("select epic_number, page from voters")}
    assert all(again[e] == stored[e][1] for e in stored)


async def test_a_first_load_takes_the_page_column_too(
    conn: asyncpg.Connection, tiny_dataset: Path, tmp_path: Path
) -> None:
    """The first load into an empty table (the direct COPY path) stores the roll pages as well."""
    from transfer.importer import import_folder

    shutil.copy(tiny_dataset / "units.csv", tmp_path / "units.csv")
    rows = read_csv(tiny_dataset, "voters.csv")
    with (tmp_path / "voters.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0].keys(), "page"])
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "page": str(100 + int(r["serial_number"]) // 25)})
    await import_folder(conn, tmp_path)
    wrong = await conn.fetchval("select count(*) from voters where page <> 100 + serial_number / 25")
    assert wrong == 0 and await conn.fetchval("select count(*) from voters") == len(rows)


async def test_assignments_csv_page_column(world: World, tmp_path: Path) -> None:
    """assignments.csv may name a roll page: a PAGE_INCHARGE needs one, only a booth has pages,
    the same user may hold several pages of one booth, and each grant is audited with its page."""
    from core.errors import CsvImportError
    from transfer.importer import import_folder

    await world.conn.execute("insert into users (id, name) values ('u-pg-csv', 'Page CSV')")

    def write(rows: list[str]) -> None:
        (tmp_path / "assignments.csv").write_text("user_id,role,unit_code,page\n" + "".join(r + "\n" for r in rows))

    write([f"u-pg-csv,PAGE_INCHARGE,{LKO_M01_B1},2", f"u-pg-csv,PAGE_INCHARGE,{LKO_M01_B1},3"])
    await import_folder(world.conn, tmp_path)
    held = await world.conn.fetch("select page from assignments where user_id = 'u-pg-csv' order by page")
    assert [r[0] for r in held] == [2, 3]
    details = await world.conn.fetch(
        "select detail from audit_log where action = 'role.grant' and detail like '%u-pg-csv%' order by id"
    )
    assert ['"page":2,' in d[0] for d in details] == [True, False] and '"page":3,' in details[1][0]
    await import_folder(world.conn, tmp_path)  # idempotent
    assert await world.conn.fetchval("select count(*) from assignments where user_id = 'u-pg-csv'") == 2
    for rows, column in (
        ([f"u-pg-csv,PAGE_INCHARGE,{LKO_M01_B1},"], "unit_code"),  # no page: the level is PAGE
        ([f"u-pg-csv,CALLER,{LKO_M01_B1},4"], "unit_code"),  # a CALLER is not held at a page
        ([f"u-pg-csv,PAGE_INCHARGE,{MANDAL_PRESIDENT_LKO_M01 and 'UP-AWD-LKO-M01'},4"], "page"),
        ([f"u-pg-csv,PAGE_INCHARGE,{LKO_M01_B1},5", f"u-pg-csv,PAGE_INCHARGE,{LKO_M01_B1},5"], "user_id"),
    ):
        write(rows)
        with pytest.raises(CsvImportError) as refused:
            await import_folder(world.conn, tmp_path)
        assert refused.value.extensions.get("column") == column, (rows, refused.value.message)
    assert await world.conn.fetchval("select count(*) from assignments where user_id = 'u-pg-csv'") == 2
