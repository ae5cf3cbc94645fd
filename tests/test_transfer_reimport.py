"""Beneficiaries beside voters.csv in the same import (records.write_beneficiaries with
`uploaded_voters`; a re-import that changes nothing is test_transfer_import's
test_import_twice_is_the_same_state): a new row recounts only its booth; a first load of
beneficiaries beside stored voters recounts every booth they name; an EPIC stored outside the
scope is refused last, at its voters.csv line, with the same words as one stored nowhere."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import asyncpg
import pytest

from core.errors import NotFound
from tests.test_transfer_rollups import assert_rollups_exact
from transfer.importer import import_folder

V, B = "voters.csv", "beneficiaries.csv"


def read(folder: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write(folder: Path, name: str, header: list[str], rows: list[dict[str, str]]) -> None:
    folder.mkdir(exist_ok=True)
    with (folder / name).open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def without(dataset: Path, folder: Path, name: str) -> Path:
    """A copy of `dataset` without the file `name`."""
    shutil.copytree(dataset, folder)
    (folder / name).unlink()
    return folder


async def booths_of(conn: asyncpg.Connection, epics: list[str]) -> list[int]:
    rows = await conn.fetch("select distinct booth_id from voters where epic_number = any($1) order by 1", epics)
    return [r[0] for r in rows]


async def test_a_new_beneficiary_of_an_uploaded_voter_recounts_its_booth_only(
    conn: asyncpg.Connection, tiny_dataset: Path, tmp_path: Path
) -> None:
    await import_folder(conn, tiny_dataset)
    header, rows = read(tiny_dataset, B)
    held = {(r["epic_number"], r["scheme_code"]) for r in rows}
    schemes = [r[0] for r in await conn.fetch("select code from schemes order by code")]
    _, voters = read(tiny_dataset, V)
    new = next(
        {"epic_number": v["epic_number"], "scheme_code": s, "since": ""}
        for v in voters
        for s in schemes
        if (v["epic_number"], s) not in held
    )
    folder = tmp_path / "one-more"
    shutil.copytree(tiny_dataset, folder)
    write(folder, B, header, [*rows, new])

    report = await import_folder(conn, folder)
    assert (report.files[B].inserted, report.files[B].updated) == (1, 0)
    assert (report.files[V].inserted, report.files[V].updated) == (0, 0)
    assert report.touched_booth_ids == await booths_of(conn, [new["epic_number"]])
    await assert_rollups_exact(conn)


@pytest.mark.parametrize("with_voters", [True, False])
async def test_a_first_load_of_beneficiaries_beside_stored_voters_recounts_every_booth_they_name(
    conn: asyncpg.Connection, tiny_dataset: Path, tmp_path: Path, with_voters: bool
) -> None:
    """With voters.csv again (nothing changes in it) or without it."""
    await import_folder(conn, without(tiny_dataset, tmp_path / "no-beneficiaries", B))
    assert await conn.fetchval("select count(*) from beneficiaries") == 0
    folder = tiny_dataset
    if not with_voters:
        folder = tmp_path / "beneficiaries-only"
        folder.mkdir()
        shutil.copy(tiny_dataset / B, folder / B)
    report = await import_folder(conn, folder)
    _, rows = read(tiny_dataset, B)
    assert report.files[B].inserted == len(rows)
    if with_voters:
        assert (report.files[V].inserted, report.files[V].updated) == (0, 0)
    assert report.touched_booth_ids == await booths_of(conn, [r["epic_number"] for r in rows])
    await assert_rollups_exact(conn)


@pytest.mark.parametrize("beneficiaries_stored", [True, False])
async def test_an_epic_stored_elsewhere_is_refused_last_at_its_voters_line(
    conn: asyncpg.Connection, tiny_dataset: Path, tmp_path: Path, db_state, beneficiaries_stored: bool
) -> None:
    """voters.csv moves a voter stored in another district into a booth of the scope, and
    beneficiaries.csv names it: refused at its voters.csv line as "no voter", as an EPIC stored
    nowhere would be there, and after the other checks, so a later refusal in beneficiaries.csv
    wins. Whether the beneficiaries table is empty (its fresh path) or not, the same."""
    loaded = tiny_dataset if beneficiaries_stored else without(tiny_dataset, tmp_path / "no-beneficiaries", B)
    await import_folder(conn, loaded)
    lko = await conn.fetchval("select id from units where code = 'UP-AWD-LKO'")
    before = await db_state(conn)
    v_header, voters = read(tiny_dataset, V)
    mine = [v for v in voters if v["booth_code"].startswith("UP-AWD-LKO-")][:3]
    elsewhere = next(v for v in voters if v["booth_code"].startswith("UP-AWD-AYD-"))
    moved = {**elsewhere, "booth_code": mine[0]["booth_code"]}
    scheme = await conn.fetchval("select min(code) from schemes")
    b_header = ["epic_number", "scheme_code", "since"]
    named = [{"epic_number": v["epic_number"], "scheme_code": scheme, "since": ""} for v in [*mine, moved]]

    folder = tmp_path / "elsewhere"
    write(folder, V, v_header, [*mine[:2], moved, mine[2]])
    write(folder, B, b_header, named)
    with pytest.raises(NotFound) as info:
        await import_folder(conn, folder, allowed={lko})
    assert info.value.message == f"voters.csv:4: column epic_number: no voter '{elsewhere['epic_number']}'"
    assert await db_state(conn) == before

    # A later refusal in beneficiaries.csv (an EPIC stored nowhere) comes first.
    write(folder, B, b_header, [*named, {"epic_number": "ZZZ9999999", "scheme_code": scheme, "since": ""}])
    with pytest.raises(NotFound) as info:
        await import_folder(conn, folder, allowed={lko})
    assert info.value.message == "beneficiaries.csv:6: column epic_number: no voter 'ZZZ9999999'"
    assert await db_state(conn) == before

    # Without the moved voter, the same files import, and recount exactly.
    write(folder, V, v_header, mine)
    write(folder, B, b_header, named[:3])
    held = await conn.fetchval(
        """select count(*) from beneficiaries b join voters v on v.id = b.voter_id
           where v.epic_number = any($1) and b.scheme_code = $2""",
        [v["epic_number"] for v in mine],
        scheme,
    )
    report = await import_folder(conn, folder, allowed={lko})
    assert (report.files[B].inserted, report.files[V].inserted, report.files[V].updated) == (3 - held, 0, 0)
    await assert_rollups_exact(conn)
