"""unit_rollups after imports equal a fresh GROUP BY over voters and beneficiaries, for every
unit: after a first import, after a re-parenting that moves a subtree, and against the row
triggers (the path single writes take)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transfer.importer import import_folder

# Every (unit, dim, key) -> n recomputed from the base tables: each voter counts for its booth,
# mandal, district, region and the state.
ORACLE = """
with v as (
    select v.*, age_band(v.age) as band, unnest(array[b.state_id, v.region_id, v.district_id, v.mandal_id, v.booth_id])
           as unit_id
    from voters v join units b on b.id = v.booth_id
), dims as (
    select unit_id, 'voters' as dim, '' as key from v
    union all select unit_id, 'with_phone', '' from v where phone is not null
    union all select unit_id, 'contactable', '' from v where phone is not null and contact_consent <> 'DENIED'
    union all select unit_id, 'surveyed', '' from v where caste_category is not null or economic_status is not null
    union all select unit_id, 'gender', gender from v
    union all select unit_id, 'age_band', band from v
    union all select unit_id, 'consent', contact_consent from v
    union all select unit_id, 'caste_category', caste_category from v where caste_category is not null
    union all select unit_id, 'caste', caste from v where caste is not null
    union all select unit_id, 'economic_status', economic_status from v where economic_status is not null
    union all select v.unit_id, 'scheme', b.scheme_code from v join beneficiaries b on b.voter_id = v.id
)
select unit_id, dim, key, count(*) as n from dims group by 1, 2, 3
"""


async def assert_rollups_exact(conn: asyncpg.Connection) -> None:
    expected = {(r["unit_id"], r["dim"], r["key"]): r["n"] for r in await conn.fetch(ORACLE)}
    # The row triggers leave a count that fell to 0 in place; refresh_rollups drops it. Same meaning.
    rows = await conn.fetch("select * from unit_rollups where n <> 0")
    stored = {(r["unit_id"], r["dim"], r["key"]): r["n"] for r in rows}
    assert stored == expected
    assert expected  # not vacuous


async def test_rollups_after_import(conn: asyncpg.Connection, tiny_dataset: Path) -> None:
    await import_folder(conn, tiny_dataset)
    await assert_rollups_exact(conn)
    ids = {r["level"]: r["n"] for r in await conn.fetch("select level, count(*) as n from units group by level")}
    covered = await conn.fetchval("select count(distinct unit_id) from unit_rollups where dim = 'voters'")
    assert covered == sum(ids.values())  # every unit has its counts


async def test_reparenting_a_mandal_moves_its_booths_voters_and_counts(
    conn: asyncpg.Connection, mini_dataset: Path
) -> None:
    await import_folder(conn, mini_dataset)
    ids = dict(await conn.fetch("select code, id from units"))
    moved = mini_dataset.parent / "moved"
    moved.mkdir()
    (moved / "units.csv").write_text(
        "code,parent_code,level,name\nUP-AWD-LKO-M01,UP-KSI-VNS,MANDAL,Kakori\n", encoding="utf-8"
    )
    report = await import_folder(conn, moved)
    assert report.moved_unit_ids == [ids["UP-AWD-LKO-M01"]]
    assert report.files["units.csv"].updated == 1

    booths = await conn.fetch("select * from units where parent_id = $1 order by code", ids["UP-AWD-LKO-M01"])
    assert [b["path"] for b in booths] == [
        "UP/UP-KSI/UP-KSI-VNS/UP-AWD-LKO-M01/UP-AWD-LKO-M01-B0001",
        "UP/UP-KSI/UP-KSI-VNS/UP-AWD-LKO-M01/UP-AWD-LKO-M01-B0002",
    ]
    assert {(b["district_id"], b["region_id"], b["mandal_id"]) for b in booths} == {
        (ids["UP-KSI-VNS"], ids["UP-KSI"], ids["UP-AWD-LKO-M01"])
    }
    mandal = await conn.fetchrow("select * from units where code = 'UP-AWD-LKO-M01'")
    assert (mandal["path"], mandal["district_id"], mandal["region_id"]) == (
        "UP/UP-KSI/UP-KSI-VNS/UP-AWD-LKO-M01", ids["UP-KSI-VNS"], ids["UP-KSI"],
    )  # fmt: skip
    voters = await conn.fetch(
        "select distinct district_id, region_id from voters where mandal_id = $1", ids["UP-AWD-LKO-M01"]
    )
    assert [tuple(v) for v in voters] == [(ids["UP-KSI-VNS"], ids["UP-KSI"])]
    assert await conn.fetchval("select count(*) from voters where district_id = $1", ids["UP-AWD-LKO"]) == 0

    await assert_rollups_exact(conn)
    counts = dict(await conn.fetch("select unit_id, n from unit_rollups where dim = 'voters'"))
    assert ids["UP-AWD-LKO"] not in counts and ids["UP-AWD"] not in counts
    assert (counts[ids["UP-KSI-VNS"]], counts[ids["UP-KSI"]], counts[ids["UP"]]) == (9, 9, 9)

    # Moving it back restores everything, rollups included.
    (moved / "units.csv").write_text(
        "code,parent_code,level,name\nUP-AWD-LKO-M01,UP-AWD-LKO,MANDAL,Kakori\n", encoding="utf-8"
    )
    await import_folder(conn, moved)
    await assert_rollups_exact(conn)
    assert await conn.fetchval("select count(*) from voters where district_id = $1", ids["UP-AWD-LKO"]) == 6


async def test_reparenting_a_district_and_a_booth_at_once(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    await import_folder(conn, mini_dataset)
    moved = mini_dataset.parent / "moved"
    moved.mkdir()
    (moved / "units.csv").write_text(
        "code,parent_code,level,name\n"
        "UP-AWD-LKO-M01-B0002,UP-KSI-VNS-M01,BOOTH,Room 2\n"
        "UP-AWD-LKO,UP-KSI,DISTRICT,Lucknow\n",
        encoding="utf-8",
    )
    await import_folder(conn, moved)
    paths = dict(await conn.fetch("select code, path from units"))
    assert paths["UP-AWD-LKO-M01-B0001"] == "UP/UP-KSI/UP-AWD-LKO/UP-AWD-LKO-M01/UP-AWD-LKO-M01-B0001"
    assert paths["UP-AWD-LKO-M01-B0002"] == "UP/UP-KSI/UP-KSI-VNS/UP-KSI-VNS-M01/UP-AWD-LKO-M01-B0002"
    stale = await conn.fetchval(
        """select count(*) from voters v join units b on b.id = v.booth_id
           where (v.mandal_id, v.district_id, v.region_id) is distinct from (b.mandal_id, b.district_id, b.region_id)"""
    )
    assert stale == 0
    await assert_rollups_exact(conn)


async def test_refresh_agrees_with_the_row_triggers(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    """Single writes (triggers, bulk off) and the import's refresh_rollups give the same counts."""
    await import_folder(conn, mini_dataset)
    await conn.execute(
        """update voters set phone = '5999999999', caste = 'SC-09', contact_consent = 'DENIED'
           where epic_number = 'ABC0000004'"""
    )
    booth = await conn.fetchval("select id from units where code = 'UP-AWD-LKO-M01-B0002'")
    await conn.execute(
        """insert into voters (epic_number, booth_id, mandal_id, district_id, region_id, serial_number, name, age,
                               gender, caste_category)
           select 'TRG0000001', id, mandal_id, district_id, region_id, 9, 'Trigger Test', 88, 'FEMALE', 'ST'
           from units where id = $1""",
        booth,
    )
    await conn.execute(
        "insert into beneficiaries (voter_id, scheme_code) "
        "select id, 'NSAP' from voters where epic_number = 'TRG0000001'"
    )
    await conn.execute("delete from beneficiaries where scheme_code = 'PMUY'")
    nonzero = "select * from unit_rollups where n <> 0 order by unit_id, dim, key"
    by_triggers = await conn.fetch(nonzero)
    await assert_rollups_exact(conn)
    await conn.execute("select refresh_rollups(null)")
    assert await conn.fetch(nonzero) == by_triggers


# A state, one region, one district, two mandals, three booths (two in the first mandal).
TREE = """
insert into units (id, code, parent_id, level, depth, name, path, state_id, region_id, district_id, mandal_id,
                   booth_id) values
    (1, 'UP', null, 'STATE', 0, 'UP', 'UP', 1, null, null, null, null),
    (2, 'UP-R', 1, 'REGION', 1, 'R', 'UP/UP-R', 1, 2, null, null, null),
    (3, 'UP-R-D', 2, 'DISTRICT', 2, 'D', 'UP/UP-R/UP-R-D', 1, 2, 3, null, null),
    (4, 'UP-R-D-M1', 3, 'MANDAL', 3, 'M1', 'UP/UP-R/UP-R-D/UP-R-D-M1', 1, 2, 3, 4, null),
    (5, 'UP-R-D-M2', 3, 'MANDAL', 3, 'M2', 'UP/UP-R/UP-R-D/UP-R-D-M2', 1, 2, 3, 5, null),
    (6, 'UP-R-D-M1-B1', 4, 'BOOTH', 4, 'B1', 'UP/UP-R/UP-R-D/UP-R-D-M1/UP-R-D-M1-B1', 1, 2, 3, 4, 6),
    (7, 'UP-R-D-M1-B2', 4, 'BOOTH', 4, 'B2', 'UP/UP-R/UP-R-D/UP-R-D-M1/UP-R-D-M1-B2', 1, 2, 3, 4, 7),
    (8, 'UP-R-D-M2-B1', 5, 'BOOTH', 4, 'B3', 'UP/UP-R/UP-R-D/UP-R-D-M2/UP-R-D-M2-B1', 1, 2, 3, 5, 8);
insert into schemes (code, name) values ('PMAY', 'Awas'), ('NSAP', 'Pension');
"""
# (booth, age, gender, phone, consent, caste_category, caste, economic_status, schemes): every
# nullable column NULL in some voters, so some booths have a dimension with no key at all.
VOTER = st.tuples(
    st.sampled_from([6, 7, 8]),
    st.integers(18, 120),
    st.sampled_from(["MALE", "FEMALE", "THIRD_GENDER"]),
    st.none() | st.just("9876543210"),
    st.sampled_from(["GRANTED", "DENIED", "UNKNOWN"]),
    st.none() | st.sampled_from(["GEN", "OBC", "SC", "ST"]),
    st.none() | st.sampled_from(["SC-01", "OBC-02"]),
    st.none() | st.sampled_from(["BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME"]),
    st.frozensets(st.sampled_from(["PMAY", "NSAP"])),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(voters=st.lists(VOTER, min_size=1, max_size=30))
async def test_refresh_counts_random_voters_exactly(conn: asyncpg.Connection, voters: list[tuple]) -> None:
    """refresh_rollups over voters written in bulk mode (no triggers) equals the fresh GROUP BY,
    into an empty unit_rollups and again over its own rows."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(TREE)
        await conn.execute("select set_config('boothgraph.bulk', 'on', true)")
        for n, (booth, age, gender, phone, consent, category, caste, economic, schemes) in enumerate(voters):
            voter = await conn.fetchval(
                """insert into voters (epic_number, booth_id, mandal_id, district_id, region_id, serial_number, name,
                                       age, gender, phone, contact_consent, caste_category, caste, economic_status)
                   select $1, id, mandal_id, district_id, region_id, $2, 'V', $3, $4, $5, $6, $7, $8, $9
                   from units where id = $10 returning id""",
                f"PRP{n:07d}",
                n + 1,
                age,
                gender,
                phone,
                consent,
                category,
                caste,
                economic,
                booth,
            )
            for scheme in sorted(schemes):
                await conn.execute("insert into beneficiaries (voter_id, scheme_code) values ($1, $2)", voter, scheme)
        assert await conn.fetchval("select count(*) from unit_rollups") == 0
        await conn.execute("select refresh_rollups(null)")
        await assert_rollups_exact(conn)
        await conn.execute("select refresh_rollups(null)")
        await assert_rollups_exact(conn)
    finally:
        await transaction.rollback()
