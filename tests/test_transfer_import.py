"""Importing whole folders: the foreign generator's files, idempotency, Devanagari, erasure,
columns left out, rows in any order, the caller's own transaction, the audit entry."""

from __future__ import annotations

import csv
from pathlib import Path

import asyncpg
import pytest

from core.errors import BadUserInput, CsvImportError
from transfer.importer import import_folder

TABLES = {
    "units.csv": "units",
    "voters.csv": "voters",
    "schemes.csv": "schemes",
    "beneficiaries.csv": "beneficiaries",
    "users.csv": "users",
    "assignments.csv": "assignments",
}


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


async def test_round_trip_of_the_generator(conn: asyncpg.Connection, tiny_dataset: Path, db_state) -> None:
    report = await import_folder(conn, tiny_dataset, user_id="u-000001")
    for name, table in TABLES.items():
        rows = len(read(tiny_dataset, name))
        assert await conn.fetchval(f"select count(*) from {table}") == rows, name
        assert (report.files[name].rows, report.files[name].inserted) == (rows, rows), name

    # Every cell as written: units with their tree, voters field by field.
    units = {r["code"]: r for r in read(tiny_dataset, "units.csv")}
    stored = {
        r["code"]: r
        for r in await conn.fetch(
            "select u.*, p.code as parent_code from units u left join units p on p.id = u.parent_id"
        )
    }
    for code, u in units.items():
        s = stored[code]
        assert (s["parent_code"] or "", s["level"], s["name"], s["name_hi"] or "") == (
            u["parent_code"], u["level"], u["name"], u["name_hi"],
        )  # fmt: skip
        codes = [code]
        while units[codes[0]]["parent_code"]:
            codes.insert(0, units[codes[0]]["parent_code"])
        assert s["path"] == "/".join(codes)
        assert s["depth"] == len(codes) - 1
        assert [s[c] for c in ("state_id", "region_id", "district_id", "mandal_id", "booth_id")][: len(codes)] == [
            stored[c]["id"] for c in codes
        ]
    voters = await conn.fetch("""select v.*, b.code as booth_code from voters v join units b on b.id = v.booth_id""")
    by_epic = {r["epic_number"]: r for r in voters}
    for row in read(tiny_dataset, "voters.csv"):
        v = by_epic[row["epic_number"]]
        for column, value in row.items():
            got = v[column]
            assert ("" if got is None else str(got)) == value, (row["epic_number"], column)
        booth = stored[row["booth_code"]]
        assert (v["mandal_id"], v["district_id"], v["region_id"]) == (
            booth["mandal_id"], booth["district_id"], booth["region_id"],
        )  # fmt: skip

    # The audit entries, in the same transaction: a role.grant per assignment granted (like
    # grantRole), then the data.import with the counts.
    grants = await conn.fetch(
        """select a.user_id, a.action, a.unit_id, a.unit_code, a.records, a.detail, x.id as assignment
           from audit_log a join assignments x on x.id = (a.detail::json ->> 'assignment')::bigint
           where a.action = 'role.grant' order by a.id"""
    )
    held = await conn.fetch(
        "select x.id, x.user_id, x.role, u.id as unit_id, u.code from assignments x join units u on u.id = x.unit_id "
        "order by x.id"
    )
    assert [(g["user_id"], g["unit_id"], g["unit_code"], g["records"], g["assignment"]) for g in grants] == [
        ("u-000001", h["unit_id"], h["code"], 1, h["id"]) for h in held
    ]
    assert grants[0]["detail"] == (
        f'{{"already_held":false,"assignment":{held[0]["id"]},"role":"{held[0]["role"]}",'
        f'"user":"{held[0]["user_id"]}","via":"assignments.csv"}}'
    )
    audit = await conn.fetch("select * from audit_log where action <> 'role.grant'")
    assert len(audit) == 1
    assert (audit[0]["action"], audit[0]["user_id"], audit[0]["records"]) == (
        "data.import", "u-000001", report.records,
    )  # fmt: skip
    assert audit[0]["unit_code"] == "UP" and "voters=" in audit[0]["detail"]


async def test_import_twice_is_the_same_state(conn: asyncpg.Connection, tiny_dataset: Path, db_state) -> None:
    await import_folder(conn, tiny_dataset)
    first = await db_state(conn)
    report = await import_folder(conn, tiny_dataset)
    second = await db_state(conn)
    first.pop("audit_log"), second.pop("audit_log")
    assert second == first
    assert all(c.inserted == 0 and c.updated == 0 for c in report.files.values())
    assert report.touched_booth_ids == []
    # Two data.import entries; role.grant only for the first import's assignments (the second grants nothing).
    assert await conn.fetchval("select count(*) from audit_log where action = 'data.import'") == 2
    assert await conn.fetchval("select count(*) from audit_log where action = 'role.grant'") == await conn.fetchval(
        "select count(*) from assignments"
    )


async def test_devanagari_round_trip(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    await import_folder(conn, mini_dataset)
    assert await conn.fetchval("select name_hi from units where code = 'UP-AWD-LKO-M01-B0001'") == (
        "प्राथमिक विद्यालय काकोरी, कक्ष 1"
    )
    names = dict(await conn.fetch("select epic_number, name_hi from voters"))
    for row in read(mini_dataset, "voters.csv"):
        assert names[row["epic_number"]] == (row["name_hi"] or None)
    assert names["ABC0000005"] == "असलम ख़ान"  # a nukta survives as written (no normalisation)


async def test_erasure_survives_reimport(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    await import_folder(conn, mini_dataset)
    await conn.execute(
        """update voters set erased = true, phone = null, caste_category = null, caste = null,
           economic_status = null, contact_consent = 'DENIED' where epic_number = 'ABC0000001'"""
    )
    voters = mini_dataset / "voters.csv"
    voters.write_text(voters.read_text(encoding="utf-8").replace("Ram Yadav,राम", "Ram K Yadav,राम"), encoding="utf-8")
    report = await import_folder(conn, mini_dataset)
    row = await conn.fetchrow("select * from voters where epic_number = 'ABC0000001'")
    assert row["name"] == "Ram K Yadav"  # the roll fields follow the file
    assert (row["phone"], row["caste_category"], row["caste"], row["economic_status"]) == (None,) * 4
    assert (row["contact_consent"], row["erased"]) == ("DENIED", True)
    assert report.files["voters.csv"].updated == 1
    report = await import_folder(conn, mini_dataset)
    assert report.files["voters.csv"].updated == 0


async def test_columns_left_out_keep_their_values(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    await import_folder(conn, mini_dataset)
    before = await conn.fetch("select * from voters order by id")
    short = mini_dataset.parent / "short"
    short.mkdir()
    rows = read(mini_dataset, "voters.csv")
    with (short / "voters.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["gender", "age", "name", "serial_number", "booth_code", "epic_number"])  # any order
        for r in rows:
            out.writerow([r["gender"], r["age"], r["name"], r["serial_number"], r["booth_code"], r["epic_number"]])
        out.writerow(["FEMALE", "30", "New Voter", "9", "UP-KSI-VNS-M01-B0001", "NEW0000001"])
    report = await import_folder(conn, short)
    assert (report.files["voters.csv"].inserted, report.files["voters.csv"].updated) == (1, 0)
    assert await conn.fetch("select * from voters where epic_number <> 'NEW0000001' order by id") == before
    new = await conn.fetchrow("select * from voters where epic_number = 'NEW0000001'")
    assert (new["phone"], new["contact_consent"], new["name_hi"]) == (None, "UNKNOWN", None)


async def test_children_before_parents(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    units = mini_dataset / "units.csv"
    head, *rows = units.read_text(encoding="utf-8").splitlines(keepends=True)
    units.write_text(head + "".join(reversed(rows)), encoding="utf-8")
    await import_folder(conn, mini_dataset)
    assert await conn.fetchval("select path from units where code = 'UP-KSI-VNS-M01-B0001'") == (
        "UP/UP-KSI/UP-KSI-VNS/UP-KSI-VNS-M01/UP-KSI-VNS-M01-B0001"
    )


async def test_inside_the_callers_transaction(conn: asyncpg.Connection, mini_dataset: Path, db_state) -> None:
    before = await db_state(conn)
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute("select set_config('boothgraph.bulk', 'off', true)")
    await import_folder(conn, mini_dataset)
    assert await conn.fetchval("select count(*) from voters") == 9
    # The import's settings do not leak into the rest of the caller's transaction.
    assert await conn.fetchval("select current_setting('boothgraph.bulk')") == "off"
    assert await conn.fetchval("select current_setting('work_mem')") == "4MB"
    # A refused import inside it leaves the earlier work of the transaction alone.
    bad = mini_dataset.parent / "bad"
    bad.mkdir()
    (bad / "users.csv").write_text("id,name\nu-1,\n", encoding="utf-8")
    with pytest.raises(CsvImportError):
        await import_folder(conn, bad)
    assert await conn.fetchval("select count(*) from voters") == 9
    await transaction.rollback()
    assert await db_state(conn) == before


async def test_moving_a_voter_between_booths(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    await import_folder(conn, mini_dataset)
    voters = mini_dataset / "voters.csv"
    text = voters.read_text(encoding="utf-8")
    voters.write_text(text.replace("ABC0000001,UP-AWD-LKO-M01-B0001", "ABC0000001,UP-KSI-VNS-M01-B0001"), "utf-8")
    report = await import_folder(conn, mini_dataset)
    ids = dict(await conn.fetch("select code, id from units"))
    assert set(report.touched_booth_ids) == {ids["UP-AWD-LKO-M01-B0001"], ids["UP-KSI-VNS-M01-B0001"]}
    row = await conn.fetchrow("select * from voters where epic_number = 'ABC0000001'")
    assert (row["booth_id"], row["district_id"], row["region_id"]) == (
        ids["UP-KSI-VNS-M01-B0001"], ids["UP-KSI-VNS"], ids["UP-KSI"],
    )  # fmt: skip
    counts = dict(
        await conn.fetch("select u.code, r.n from unit_rollups r join units u on u.id = r.unit_id where dim = 'voters'")
    )
    assert (counts["UP-AWD-LKO"], counts["UP-KSI-VNS"], counts["UP"]) == (5, 4, 9)


async def test_folder_errors(conn: asyncpg.Connection, tmp_path: Path) -> None:
    with pytest.raises(BadUserInput):
        await import_folder(conn, tmp_path / "missing")
    with pytest.raises(BadUserInput):
        await import_folder(conn, tmp_path)  # no CSV file at all


async def test_byte_order_mark_and_crlf(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    for path in mini_dataset.iterdir():
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    report = await import_folder(conn, mini_dataset)
    assert report.files["voters.csv"].inserted == 9
