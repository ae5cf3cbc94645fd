"""Every import rule of csv-format.md, each with a failing file: the error names file, physical
line and column, and the database is exactly as before (nothing written, no audit entry)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from core.errors import CsvImportError, NotFound
from transfer.importer import import_folder

Edit = Callable[[Path], None]


def lines(folder: Path, file: str) -> list[bytes]:
    return (folder / file).read_bytes().splitlines(keepends=True)


def set_line(file: str, n: int, text: str | bytes) -> Edit:
    """Physical line n (1 = header) becomes `text`."""

    def edit(folder: Path) -> None:
        rows = lines(folder, file)
        raw = text.encode() if isinstance(text, str) else text
        rows[n - 1] = raw + (b"\n" if not raw.endswith(b"\n") else b"")
        (folder / file).write_bytes(b"".join(rows))

    return edit


def set_cell(file: str, n: int, column: str, value: str) -> Edit:
    """One cell of the (single-line) record on physical line n, written with csv quoting."""

    def edit(folder: Path) -> None:
        rows = lines(folder, file)
        header = next(csv.reader([rows[0].decode()]))
        record = next(csv.reader([rows[n - 1].decode()]))
        record[header.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(record)
        rows[n - 1] = out.getvalue().encode()
        (folder / file).write_bytes(b"".join(rows))

    return edit


def add_line(file: str, text: str) -> Edit:
    def edit(folder: Path) -> None:
        with (folder / file).open("ab") as f:
            f.write(text.encode() + b"\n")

    return edit


def copy_line(file: str, n: int) -> Edit:
    def edit(folder: Path) -> None:
        with (folder / file).open("ab") as f:
            f.write(lines(folder, file)[n - 1])

    return edit


def both(*edits: Edit) -> Edit:
    def edit(folder: Path) -> None:
        for e in edits:
            e(folder)

    return edit


V, U, B, A = "voters.csv", "units.csv", "beneficiaries.csv", "assignments.csv"
VOTER_HEADER = (
    "epic_number,booth_code,serial_number,name,name_hi,relative_name,age,gender,house_number,phone,"
    "caste_category,caste,economic_status,contact_consent"
)

CASES: list[tuple[str, Edit, str, int, str | None, str]] = [
    # cells
    ("gender", set_cell(V, 4, "gender", "M"), V, 4, "gender", "must be one of MALE, FEMALE, THIRD_GENDER"),
    ("epic format", set_cell(V, 3, "epic_number", "AB10000002"), V, 3, "epic_number", "EPIC"),
    ("epic lowercase", set_cell(V, 3, "epic_number", "abc0000002"), V, 3, "epic_number", "EPIC"),
    ("phone 9 digits", set_cell(V, 5, "phone", "512345678"), V, 5, "phone", "10 digits"),
    ("age 17", set_cell(V, 6, "age", "17"), V, 6, "age", "between 18 and 120"),
    ("age 121", set_cell(V, 6, "age", "121"), V, 6, "age", "between 18 and 120"),
    ("age not a number", set_cell(V, 6, "age", "forty"), V, 6, "age", "not a whole number"),
    ("age decimal", set_cell(V, 6, "age", "40.5"), V, 6, "age", "not a whole number"),
    ("serial 0", set_cell(V, 7, "serial_number", "0"), V, 7, "serial_number", "1 or more"),
    ("serial huge", set_cell(V, 7, "serial_number", "99999999999"), V, 7, "serial_number", "1 or more"),
    ("name empty", set_cell(V, 8, "name", ""), V, 8, "name", "required"),
    (
        "name quoted empty",
        set_line(V, 8, b'XYZ0000001,UP-KSI-VNS-M01-B0001,1,"",,,58,MALE,,,,,,'),
        V,
        8,
        "name",
        "required",
    ),
    ("caste_category", set_cell(V, 2, "caste_category", "OBC "), V, 2, "caste_category", "one of GEN"),
    ("consent", set_cell(V, 2, "contact_consent", "YES"), V, 2, "contact_consent", "one of GRANTED"),
    ("economic_status", set_cell(V, 2, "economic_status", "POOR"), V, 2, "economic_status", "one of BPL"),
    ("first bad row wins", both(set_cell(V, 9, "age", "5"), set_cell(V, 4, "phone", "1")), V, 4, "phone", "10"),
    ("date invalid", set_cell(B, 2, "since", "2021-02-29"), B, 2, "since", "not a valid date"),
    ("date format", set_cell(B, 2, "since", "2021/02/01"), B, 2, "since", "YYYY-MM-DD"),
    ("level", set_cell(U, 3, "level", "ZONE"), U, 3, "level", "one of STATE"),
    ("unit code slash", set_cell(U, 3, "code", "UP/AWD"), U, 3, "code", "'/'"),
    ("role", set_cell(A, 3, "role", "KING"), A, 3, "role", "must be one of STATE_PRESIDENT"),
    # references
    ("unknown booth", set_cell(V, 5, "booth_code", "UP-AWD-LKO-M01-B0099"), V, 5, "booth_code", "no BOOTH unit"),
    ("booth is a mandal", set_cell(V, 5, "booth_code", "UP-AWD-LKO-M01"), V, 5, "booth_code", "no BOOTH unit"),
    ("unknown voter", set_cell(B, 4, "epic_number", "ABC9999999"), B, 4, "epic_number", "no voter 'ABC9999999'"),
    ("unknown scheme", set_cell(B, 4, "scheme_code", "PMAY"), B, 4, "scheme_code", "no scheme 'PMAY'"),
    ("unknown user", set_cell(A, 5, "user_id", "u-999999"), A, 5, "user_id", "no user 'u-999999'"),
    ("unknown unit", set_cell(A, 5, "unit_code", "UP-XXX"), A, 5, "unit_code", "no unit 'UP-XXX'"),
    (
        "role at a wrong level",
        set_cell(A, 3, "unit_code", "UP-AWD-LKO-M01"),
        A,
        3,
        "unit_code",
        "DISTRICT_CONVENOR is assigned at a DISTRICT",
    ),
    ("IT convenor at a region", set_cell(A, 6, "unit_code", "UP-KSI"), A, 6, "unit_code", "DISTRICT or STATE"),
    ("caller at the state", add_line(A, "u-000005,CALLER,UP"), A, 7, "unit_code", "BOOTH or DISTRICT or MANDAL"),
    # the tree
    ("unknown parent", set_cell(U, 5, "parent_code", "UP-XX"), U, 5, "parent_code", "no unit 'UP-XX'"),
    ("level skip", set_cell(U, 7, "parent_code", "UP-AWD"), U, 7, "level", "a MANDAL's parent must be a DISTRICT"),
    ("two states", add_line(U, "MP,,STATE,Madhya Pradesh,"), U, 12, "level", "a second STATE"),
    ("state with parent", set_cell(U, 2, "parent_code", "UP-AWD"), U, 2, "parent_code", "a STATE has no parent"),
    ("orphan", set_cell(U, 4, "parent_code", ""), U, 4, "parent_code", "only the STATE has no parent"),
    (
        "cycle",
        both(add_line(U, "UP-X1,UP-X2,REGION,X1,"), add_line(U, "UP-X2,UP-X1,REGION,X2,")),
        U,
        12,
        "parent_code",
        "cycle: UP-X1 -> UP-X2 -> UP-X1",
    ),
    # the same key twice: the second occurrence
    ("duplicate voter", copy_line(V, 3), V, 11, "epic_number", "same epic_number as line 3"),
    ("duplicate beneficiary", copy_line(B, 5), B, 7, "epic_number", "as line 5"),
    ("duplicate unit", copy_line(U, 7), U, 12, "code", "as line 7"),
    ("duplicate scheme", copy_line("schemes.csv", 2), "schemes.csv", 5, "code", "as line 2"),
    ("duplicate user", copy_line("users.csv", 6), "users.csv", 7, "id", "as line 6"),
    ("duplicate assignment", copy_line(A, 2), A, 7, "user_id", "as line 2"),
    # the header
    (
        "unknown column",
        set_line(V, 1, VOTER_HEADER.replace("house_number", "nickname")),
        V,
        1,
        "nickname",
        "unknown column",
    ),
    ("missing column", set_line(V, 1, VOTER_HEADER.replace(",age,", ",")), V, 1, "age", "required column"),
    ("column twice", set_line(V, 1, VOTER_HEADER.replace("caste,", "name,")), V, 1, "name", "named twice"),
    ("empty file", lambda f: (f / B).write_bytes(b""), B, 1, None, "the file is empty"),
    ("empty header", set_line(B, 1, b""), B, 1, None, "a column without a name"),
    # RFC 4180 and bytes
    (
        "extra field",
        set_line(V, 4, lines_of_mini := "ABC0000003,UP-AWD-LKO-M01-B0001,3,M,,,67,MALE,,,,,,,x"),
        V,
        4,
        None,
        "15 fields, the header has 14",
    ),
    (
        "missing field",
        set_line(V, 4, "ABC0000003,UP-AWD-LKO-M01-B0001,3,M,,,67,MALE,,,,,"),
        V,
        4,
        "contact_consent",
        "13 fields",
    ),
    (
        "unterminated quote",
        set_line(V, 5, 'ABC0000004,UP-AWD-LKO-M01-B0002,1,"Gita,,,19,FEMALE,,,,,,'),
        V,
        5,
        "name",
        "never closed",
    ),
    (
        "quote in unquoted field",
        set_line(V, 2, 'ABC0000001,UP-AWD-LKO-M01-B0001,1,Ram "Yadav",,,45,MALE,,,,,,'),
        V,
        2,
        "name",
        "double quote inside an unquoted field",
    ),
    (
        "text after quote",
        set_line(V, 2, 'ABC0000001,UP-AWD-LKO-M01-B0001,1,"Ram"Yadav,,,45,MALE,,,,,,'),
        V,
        2,
        "name",
        "text after the closing quote",
    ),
    (
        "invalid UTF-8",
        set_line(V, 7, b"ABC0000006,UP-AWD-LKO-M01-B0002,3,Chand\xe0\xa4ni,,,29,THIRD_GENDER,,,,,,"),
        V,
        7,
        "name",
        "not valid UTF-8",
    ),
    (
        "NUL byte",
        set_line(V, 7, b"ABC0000006,UP-AWD-LKO-M01-B0002,3,Chand\x00ni,,,29,THIRD_GENDER,,,,,,"),
        V,
        7,
        "name",
        "NUL",
    ),
    ("empty line", set_line(V, 6, ""), V, 6, None, "an empty line"),
    (
        "CR LF in an LF file",
        set_line(V, 3, b"ABC0000002,UP-AWD-LKO-M01-B0001,2,Sita,,,41,FEMALE,,,,,,\r\n"),
        V,
        3,
        None,
        "ends with CR LF",
    ),
    ("unknown file", lambda f: (f / "voter.csv").write_text("a\n"), "voter.csv", 1, None, "unknown file"),
]


@pytest.mark.parametrize(
    ("edit", "file", "line", "column", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_rule(
    conn: asyncpg.Connection,
    mini_dataset: Path,
    db_state,
    edit: Edit,
    file: str,
    line: int,
    column: str | None,
    reason: str,
) -> None:
    edit(mini_dataset)
    before = await db_state(conn)
    with pytest.raises(CsvImportError) as info:
        await import_folder(conn, mini_dataset)
    error = info.value
    assert (error.file, error.line, error.column) == (file, line, column), error.message
    assert reason in error.reason, error.message
    assert error.message.startswith(f"{file}:{line}: " + (f"column {column}: " if column else ""))
    assert error.extensions["code"] == "BAD_USER_INPUT"
    assert await db_state(conn) == before
    assert await conn.fetchval("select count(*) from audit_log") == 0
    assert await conn.fetchval("select current_setting('boothgraph.bulk', true)") in (None, "")


async def test_quoted_line_breaks_shift_physical_lines(conn: asyncpg.Connection, mini_dataset: Path, db_state) -> None:
    """Records 2 and 3 hold line breaks inside quotes; the bad gender of the record after them
    is on physical line 8 (header 1, record 1 on 2, record 2 on 3-5, record 3 on 6-7)."""
    rows = lines(mini_dataset, V)
    rows[2] = b'ABC0000002,UP-AWD-LKO-M01-B0001,2,Sita Devi,,"Ram\nYadav",41,FEMALE,"12\n",,,,,\n'
    rows[3] = b'ABC0000003,UP-AWD-LKO-M01-B0001,3,"Mohan\nVerma",,,67,MALE,,,,,,\n'
    rows[4] = rows[4].replace(b"FEMALE", b"F")
    (mini_dataset / V).write_bytes(b"".join(rows))
    before = await db_state(conn)
    with pytest.raises(CsvImportError) as info:
        await import_folder(conn, mini_dataset)
    assert (info.value.file, info.value.line, info.value.column) == (V, 8, "gender")
    assert await db_state(conn) == before

    rows[4] = rows[4].replace(b",F,", b",FEMALE,")
    rows.append(rows[3])  # the two-line record again: a duplicate key at physical line 14
    (mini_dataset / V).write_bytes(b"".join(rows))
    with pytest.raises(CsvImportError) as info:
        await import_folder(conn, mini_dataset)
    assert (info.value.line, info.value.column) == (14, "epic_number")
    assert "as line 6" in info.value.reason


async def test_rules_against_the_database(conn: asyncpg.Connection, mini_dataset: Path, db_state) -> None:
    """Rules that need what is already stored: a unit's level, the one STATE, a voter's booth."""
    await import_folder(conn, mini_dataset)
    before = await db_state(conn)
    cases: list[tuple[Edit, str, int, str | None, str]] = [
        (set_cell(U, 7, "level", "DISTRICT"), U, 7, "level", "is a MANDAL already"),
        (set_line(U, 2, "MP,,STATE,Madhya Pradesh,"), U, 2, "code", "already has the STATE 'UP'"),
    ]
    for edit, file, line, column, reason in cases:
        folder = mini_dataset.parent / f"case{line}"
        folder.mkdir()
        (folder / U).write_bytes((mini_dataset / U).read_bytes())
        edit(folder)
        with pytest.raises(CsvImportError) as info:
            await import_folder(conn, folder)
        assert (info.value.file, info.value.line, info.value.column) == (file, line, column)
        assert reason in info.value.reason, info.value.message
        assert await db_state(conn) == before


async def test_scope_refuses_units_outside_as_not_found(conn: asyncpg.Connection, mini_dataset: Path, db_state) -> None:
    await import_folder(conn, mini_dataset)
    lko = await conn.fetchval("select id from units where code = 'UP-AWD-LKO'")
    vns_booth = await conn.fetchval("select id from units where code = 'UP-KSI-VNS-M01-B0001'")
    before = await db_state(conn)
    only_voters = mini_dataset.parent / "voters-only"
    only_voters.mkdir()
    (only_voters / V).write_bytes((mini_dataset / V).read_bytes())

    # A set of unit ids (each with its subtree): Lucknow only; line 8 is the first Varanasi voter.
    with pytest.raises(NotFound) as info:
        await import_folder(conn, only_voters, allowed={lko})
    assert (info.value.extensions["file"], info.value.extensions["line"]) == (V, 8)
    assert info.value.message == "voters.csv:8: column booth_code: no BOOTH unit 'UP-KSI-VNS-M01-B0001'"
    assert await db_state(conn) == before

    # An absent booth reads the same under a scope.
    set_cell(V, 8, "booth_code", "UP-KSI-VNS-M01-B0009")(only_voters)
    with pytest.raises(NotFound) as info:
        await import_folder(conn, only_voters, allowed={lko})
    assert info.value.message == "voters.csv:8: column booth_code: no BOOTH unit 'UP-KSI-VNS-M01-B0009'"

    # A callable judging each touched unit by its place; moving a voter out of a refused booth.
    seen: list[str] = []

    def allowed(place) -> bool:
        seen.append(place.code)
        return place.id != vns_booth

    moved = mini_dataset.parent / "moved"
    moved.mkdir()
    (moved / V).write_bytes((mini_dataset / V).read_bytes())
    set_cell(V, 9, "booth_code", "UP-AWD-LKO-M01-B0001")(moved)
    set_cell(V, 8, "booth_code", "UP-AWD-LKO-M01-B0001")(moved)
    set_cell(V, 10, "booth_code", "UP-AWD-LKO-M01-B0001")(moved)
    with pytest.raises(NotFound) as info:
        await import_folder(conn, moved, allowed=allowed)
    assert info.value.message == "voters.csv:8: column epic_number: no voter 'XYZ0000001'"
    assert "UP-KSI-VNS-M01-B0001" in seen
    assert await db_state(conn) == before

    # Inside the scope: imported, and the report names what was touched.
    report = await import_folder(conn, mini_dataset, allowed=lambda place: True)
    assert set(report.touched_unit_ids) >= {lko, vns_booth}
