"""transfer.direct: voters.csv copied straight into an empty voters table. It must leave what
the careful path (staging, then INSERT) leaves, decline every file it cannot vouch for, after
which the careful path imports or refuses that file as always, and nothing of the attempt
remains."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.errors import CsvImportError
from tests.test_transfer_rollups import assert_rollups_exact
from tests.test_transfer_rules import V
from transfer import direct, importer
from transfer.importer import import_folder

# Unit codes, not ids: the units' sequence goes on between the two imports of a test.
VOTERS = """select v.epic_number, b.code, m.code, d.code, r.code, v.serial_number, v.name, v.name_hi,
    v.relative_name, v.age, v.gender, v.house_number, v.phone, v.caste_category, v.caste, v.economic_status,
    v.contact_consent, v.erased
    from voters v join units b on b.id = v.booth_id join units m on m.id = v.mandal_id
    join units d on d.id = v.district_id join units r on r.id = v.region_id
    order by v.epic_number"""
BENEFICIARIES = """select v.epic_number, b.scheme_code, b.since from beneficiaries b join voters v on v.id = b.voter_id
    order by 1, 2"""
ROLLUPS = (
    "select u.code, dim, key, n from unit_rollups r join units u on u.id = r.unit_id where n <> 0 order by 1, 2, 3"
)


class Attempts:
    """Wraps direct.copy_fresh_voters in the importer: what each attempt ended with."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.outcomes: list[str] = []
        self.forced = False
        real = direct.copy_fresh_voters

        async def attempt(*args: Any, **kwargs: Any) -> tuple[int, set[int]]:
            if self.forced:
                self.outcomes.append("forced")
                raise direct.Declined("forced by the test")
            try:
                out = await real(*args, **kwargs)
            except Exception as exc:
                self.outcomes.append(type(exc).__name__)
                raise
            self.outcomes.append("copied")
            return out

        monkeypatch.setattr(importer, "copy_fresh_voters", attempt)


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    return Attempts(monkeypatch)


async def contents(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in
            (("voters", VOTERS), ("beneficiaries", BENEFICIARIES), ("rollups", ROLLUPS))}  # fmt: skip


async def both_paths(
    conn: asyncpg.Connection, folder: Path, attempts: Attempts
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[tuple[Any, ...]]]]:
    """Import `folder` into the empty database twice, rolled back in between: as it comes, then
    with the direct path declined. Returns what each left."""
    out = []
    for forced in (False, True):
        attempts.forced = forced
        tr = conn.transaction()
        await tr.start()
        try:
            report = await import_folder(conn, folder)
            assert report.files["voters.csv"].inserted == await conn.fetchval("select count(*) from voters")
            await assert_rollups_exact(conn)
            out.append(await contents(conn))
        finally:
            await tr.rollback()
    return out[0], out[1]


def rewrite_voters(folder: Path, edit: Callable[[list[list[str]]], Any], eol: str | None = None) -> None:
    """Rewrite voters.csv (no quoted cells in it) record by record: edit(rows) changes `rows`,
    the header first; the cells are written as they are. Lines end as they did, or with `eol`."""
    path = folder / V
    text = path.read_bytes().decode("utf-8")
    eol = eol or ("\r\n" if "\r\n" in text else "\n")
    rows = [line.split(",") for line in text.splitlines()]
    edit(rows)
    path.write_text("".join(",".join(r) + eol for r in rows), encoding="utf-8")


@pytest.fixture
def tiny_copy(tiny_dataset: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_dataset, folder)
    return folder


async def test_a_first_load_goes_direct_and_leaves_what_the_careful_path_leaves(
    conn: asyncpg.Connection, tiny_dataset: Path, attempts: Attempts
) -> None:
    taken, careful = await both_paths(conn, tiny_dataset, attempts)
    assert attempts.outcomes == ["copied", "forced"]
    assert taken == careful
    assert len(taken["voters"]) > 100 and taken["beneficiaries"]  # not vacuous


async def test_empty_consent_missing_columns_and_lf_lines_go_direct(
    conn: asyncpg.Connection, tiny_copy: Path, attempts: Attempts
) -> None:
    def edit(rows: list[list[str]]) -> None:
        header = rows[0]
        drop = [header.index(c) for c in ("name_hi", "phone", "caste")]
        consent = header.index("contact_consent")
        for n, row in enumerate(rows):
            if n % 3 == 1:
                row[consent] = ""  # an empty consent is UNKNOWN
            for i in sorted(drop, reverse=True):
                del row[i]

    rewrite_voters(tiny_copy, edit, eol="\n")
    taken, careful = await both_paths(conn, tiny_copy, attempts)
    assert attempts.outcomes == ["copied", "forced"]
    assert taken == careful
    consents = {r[16] for r in taken["voters"]}
    assert "UNKNOWN" in consents and None not in consents
    assert {r[7] for r in taken["voters"]} == {r[12] for r in taken["voters"]} == {None}  # name_hi, phone


async def test_a_quoted_cell_is_declined_and_imported_the_careful_way(
    conn: asyncpg.Connection, tiny_copy: Path, attempts: Attempts
) -> None:
    def edit(rows: list[list[str]]) -> None:
        rows[39][rows[0].index("name")] = '"Devi, ""Sita"""'

    rewrite_voters(tiny_copy, edit)
    taken, careful = await both_paths(conn, tiny_copy, attempts)
    assert attempts.outcomes == ["Declined", "forced"]
    assert taken == careful
    assert 'Devi, "Sita"' in {r[6] for r in taken["voters"]}


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (25, "booth_code", "UP-NOWHERE-B9", "no BOOTH unit"),
        (30, "age", "17", "between 18 and 120"),
        (35, "epic_number", "COPY_OF_3", "same epic_number as line 3"),
    ],
    ids=["unknown booth", "bad cell", "duplicate EPIC"],
)
async def test_a_bad_record_is_refused_by_the_careful_path_and_leaves_nothing(
    conn: asyncpg.Connection,
    tiny_copy: Path,
    attempts: Attempts,
    db_state,
    row: int,
    column: str,
    value: str,
    reason: str,
) -> None:
    def edit(rows: list[list[str]]) -> None:
        i = rows[0].index(column)
        rows[row - 1][i] = rows[2][i] if value == "COPY_OF_3" else value

    rewrite_voters(tiny_copy, edit)
    before = await db_state(conn)
    with pytest.raises(CsvImportError) as info:
        await import_folder(conn, tiny_copy)
    assert (info.value.file, info.value.line, info.value.column) == (V, row, column)
    assert reason in info.value.reason
    assert attempts.outcomes[0] != "copied" and len(attempts.outcomes) == 1
    assert await db_state(conn) == before
