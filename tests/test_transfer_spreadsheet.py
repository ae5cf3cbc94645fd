"""Spreadsheet safety (csv-format.md, OWASP CSV injection): an export writes a cell starting with
=, +, -, @, tab or carriage return with one leading `'`; an import removes exactly that quote, on
the careful (staged) path and the direct COPY path alike, so an export imports back unchanged."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.writes_support import DISTRICT_CONVENOR_LKO, LKO
from transfer.importer import import_folder
from transfer.spreadsheet import FORMULA_START, escape_cell, unescape_cell

# Synthetic values a spreadsheet would run (or mangle) if written as they are.
DANGEROUS = ["=SUM(A1)", "+915555555555", "-x", "@x", "\tx", "\rx", '=1+2,"q"']
VOTERS_SQL = """select v.epic_number, v.name, v.relative_name, v.house_number from voters v
    join units d on d.id = v.district_id where d.code = $1 order by v.epic_number"""


@given(st.text())
def test_escape_then_unescape_is_identity(value: str) -> None:
    escaped = escape_cell(value)
    assert isinstance(escaped, str) and not escaped.startswith(FORMULA_START)
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return  # the one value the rule cannot carry: "'=x" stored imports back as "=x"
    assert unescape_cell(escaped) == value


def test_escape_rule_on_examples() -> None:
    assert [escape_cell(v) for v in ["=x", "+1", "-1", "@a", "\tt", "\rr", "a=b", "'x", "", 7, None]] == [
        "'=x", "'+1", "'-1", "'@a", "'\tt", "'\rr", "a=b", "'x", "", 7, None,
    ]  # fmt: skip
    assert [unescape_cell(v) for v in ["'=x", "'-1", "'x", "''=x", "=x", "'"]] == ["=x", "-1", "'x", "''=x", "=x", "'"]


async def _set_dangerous(conn: asyncpg.Connection) -> list[tuple[str, ...]]:
    epics = await conn.fetch(
        """select v.epic_number from voters v join units d on d.id = v.district_id where d.code = $1
           order by v.epic_number limit $2""",
        LKO,
        len(DANGEROUS),
    )
    for (epic,), value in zip(epics, DANGEROUS, strict=True):
        await conn.execute(
            "update voters set name = $2, relative_name = $3, house_number = $4 where epic_number = $1",
            epic,
            value,
            "-" + value,
            "@" + value,
        )
    return [tuple(r) for r in await conn.fetch(VOTERS_SQL, LKO)]


async def test_export_escapes_and_reimports_unchanged(database_url: str, tiny_dataset: Path, tmp_path: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        expected = await _set_dangerous(conn)
        async with client_for(database_url, seeded=False) as client:
            r = await client.get("/export/voters.csv", params={"unit": LKO}, headers=bearer(DISTRICT_CONVENOR_LKO))
            assert r.status_code == 200
            exported = r.content
            cells = [cell for row in csv.reader(io.StringIO(r.text)) for cell in row]
            assert not [c for c in cells if c.startswith(FORMULA_START)]
            assert sorted(set(c for c in cells if c.startswith("'")) & {"'" + v for v in DANGEROUS}) == sorted(
                "'" + v for v in DANGEROUS
            )

            # Over HTTP (the careful path): overwrite the names, import the export, all back.
            await conn.execute(
                "update voters v set name = 'plain', relative_name = null, house_number = null from units d "
                "where d.id = v.district_id and d.code = $1",
                LKO,
            )
            r = await client.post(
                "/import",
                files={"voters.csv": ("voters.csv", exported, "text/csv")},
                headers=bearer(DISTRICT_CONVENOR_LKO),
            )
            assert r.status_code == 200, r.text
            assert [tuple(x) for x in await conn.fetch(VOTERS_SQL, LKO)] == expected
    finally:
        await conn.close()

    # Into an empty database from the command line (the direct COPY path is tried first).
    folder = tmp_path / "again"
    folder.mkdir()
    shutil.copy(tiny_dataset / "units.csv", folder / "units.csv")
    (folder / "voters.csv").write_bytes(exported)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("set session_replication_role = replica")  # audit_log refuses deletes
        await conn.execute("truncate beneficiaries, call_logs, call_assignments, voters cascade")
        await conn.execute("set session_replication_role = default")
        await import_folder(conn, folder)
        assert [tuple(x) for x in await conn.fetch(VOTERS_SQL, LKO)] == expected
    finally:
        await conn.close()


async def test_direct_copy_path_unescapes(conn: asyncpg.Connection, mini_dataset: Path) -> None:
    """Unquoted escaped cells, which the direct COPY path's cell patterns vouch for."""
    voters = mini_dataset / "voters.csv"
    text = voters.read_text(encoding="utf-8")
    text = text.replace("Ram Yadav,राम यादव,Shyam Yadav", "'=SUM(A1),राम यादव,'-x")
    text = text.replace("Sita Devi,सीता देवी,Ram Yadav,41,FEMALE,12", "'@x,सीता देवी,''=y,41,FEMALE,'+12")
    voters.write_text(text, encoding="utf-8")
    await import_folder(conn, mini_dataset)
    rows = await conn.fetch(
        "select epic_number, name, relative_name, house_number from voters where epic_number <= 'ABC0000002' order by 1"
    )
    assert [tuple(r) for r in rows] == [
        ("ABC0000001", "=SUM(A1)", "-x", "12"),
        ("ABC0000002", "@x", "''=y", "+12"),
    ]
