"""Importing elections and phases from CSV (transfer/elections_csv.py, `boothgraph elections
import`): the happy path, idempotence, replacement of an election's phases, and refusals naming
file, line and column with nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.errors import CsvImportError
from tests.dataset import load_folder
from transfer.elections_csv import import_elections

ELECTIONS = """code,name,name_hi,model_code_from,counting_on
LS-2029,Lok Sabha 2029,लोकसभा 2029,2029-03-16,2029-06-04
BYE-LKO,"Lucknow by-election, 2030",,2030-01-10,2030-02-20
"""
PHASES = """election_code,unit_code,poll_date
LS-2029,UP-AWD-LKO,2029-05-20
LS-2029,UP-AWD-AYD,2029-05-25
LS-2029,UP-KSI,2029-06-01
BYE-LKO,UP-AWD-LKO-M01-B0001,2030-02-15
"""


def folder(tmp_path: Path, elections: str | None = ELECTIONS, phases: str | None = PHASES) -> Path:
    for name, text in (("elections.csv", elections), ("election_phases.csv", phases)):
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


async def _state(conn) -> list[tuple]:
    rows = await conn.fetch(
        """select e.code, e.name, e.name_hi, e.model_code_from, e.counting_on, u.code as unit, p.poll_date
           from elections e left join election_phases p on p.election_id = e.id left join units u on u.id = p.unit_id
           order by e.code, u.code"""
    )
    return [tuple(r.values()) for r in rows]


async def test_import_and_reimport(conn, tiny_dataset, tmp_path: Path) -> None:
    await load_folder(conn, tiny_dataset)
    report = await import_elections(conn, folder(tmp_path))
    assert report.lines() == ["elections.csv: 2 elections", "election_phases.csv: 4 phases"]
    d = dt.date
    want = [
        ("BYE-LKO", "Lucknow by-election, 2030", None, d(2030, 1, 10), d(2030, 2, 20), "UP-AWD-LKO-M01-B0001",
         d(2030, 2, 15)),
        ("LS-2029", "Lok Sabha 2029", "लोकसभा 2029", d(2029, 3, 16), d(2029, 6, 4), "UP-AWD-AYD", d(2029, 5, 25)),
        ("LS-2029", "Lok Sabha 2029", "लोकसभा 2029", d(2029, 3, 16), d(2029, 6, 4), "UP-AWD-LKO", d(2029, 5, 20)),
        ("LS-2029", "Lok Sabha 2029", "लोकसभा 2029", d(2029, 3, 16), d(2029, 6, 4), "UP-KSI", d(2029, 6, 1)),
    ]  # fmt: skip
    assert await _state(conn) == want
    assert await conn.fetchval("select count(*) from audit_log where action = 'election.import'") == 4
    await import_elections(conn, folder(tmp_path))  # idempotent
    assert await _state(conn) == want
    # Phases of a named election are replaced; the other election keeps its own.
    (tmp_path / "elections.csv").unlink()
    await import_elections(conn, folder(tmp_path, None, "election_code,unit_code,poll_date\nLS-2029,UP,2029-05-01\n"))
    assert [(r[0], r[5]) for r in await _state(conn)] == [("BYE-LKO", "UP-AWD-LKO-M01-B0001"), ("LS-2029", "UP")]


@pytest.mark.parametrize(
    ("elections", "phases", "where"),
    [
        (ELECTIONS.replace("2029-06-04", "2029-13-04"), PHASES, "elections.csv:2: column counting_on"),
        (ELECTIONS + "LS-2029,Again,,2029-01-01,2029-02-01\n", PHASES, "elections.csv:4: column code"),
        (ELECTIONS.replace("name_hi", "nickname"), PHASES, "elections.csv:1: column nickname"),
        (
            ELECTIONS.replace("2029-03-16,2029-06-04", "2029-06-16,2029-06-04"),
            PHASES,
            "elections.csv:2: column counting_on",
        ),
        (ELECTIONS, PHASES + "LS-2029,UP-AWD-LKO-M01,2029-05-20\n", "election_phases.csv:6: column unit_code"),
        (ELECTIONS, PHASES + "LS-2029,UP-AWD-LKO,2029-05-21\n", "election_phases.csv:6: column unit_code"),
        (ELECTIONS, PHASES.replace("2029-05-25", "2029-07-25"), "election_phases.csv:3: column poll_date"),
        (ELECTIONS, PHASES + "NOPE,UP-AWD-LKO,2029-05-20\n", "election_phases.csv:6: column election_code"),
        (ELECTIONS, PHASES + "BYE-LKO,UP-NOPE,2030-02-15\n", "election_phases.csv:6: column unit_code"),
    ],
)
async def test_refusals_name_the_place_and_write_nothing(
    conn, tiny_dataset, tmp_path, elections, phases, where
) -> None:
    await load_folder(conn, tiny_dataset)
    with pytest.raises(CsvImportError) as err:
        await import_elections(conn, folder(tmp_path, elections, phases))
    assert err.value.message.startswith(where), err.value.message
    assert await conn.fetchval("select count(*) from elections") == 0
    assert await conn.fetchval("select count(*) from audit_log where action = 'election.import'") == 0
