"""The large-load shortcuts of transfer.bulk, taken here on small files (BULK_ROWS lowered):
keys and indexes dropped and built again after a first load, row triggers and foreign-key
checks skipped. The result must be the same database, and a bad file must still be refused
with its line and leave nothing behind."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from core.errors import CsvImportError
from tests.test_transfer_direct import Attempts, contents
from tests.test_transfer_import import TABLES, read
from tests.test_transfer_rollups import assert_rollups_exact
from tests.test_transfer_rules import B, V, both, copy_line
from transfer import importer
from transfer.importer import import_folder

SCHEMA = """
select 'index' as kind, tablename as owner, indexname as name, indexdef as definition from pg_indexes
where schemaname = 'public'
union all
select 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint
where connamespace = 'public'::regnamespace
order by 1, 2, 3
"""


@pytest.fixture
def bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "BULK_ROWS", 1)


async def test_a_first_bulk_load_leaves_the_same_schema_and_data(
    conn: asyncpg.Connection, tiny_dataset: Path, bulk: None
) -> None:
    assert await conn.fetchval("select rolsuper from pg_roles where rolname = current_user")  # the fast path
    schema = [tuple(r) for r in await conn.fetch(SCHEMA)]
    report = await import_folder(conn, tiny_dataset)
    assert [tuple(r) for r in await conn.fetch(SCHEMA)] == schema
    for name, table in TABLES.items():
        rows = len(read(tiny_dataset, name))
        assert await conn.fetchval(f"select count(*) from {table}") == rows, name
        assert report.files[name].inserted == rows, name
    assert await conn.fetchval("select count(*) from pg_constraint where not convalidated") == 0
    await assert_rollups_exact(conn)
    # The rebuilt keys work: the second import is all upserts that change nothing.
    again = await import_folder(conn, tiny_dataset)
    assert all(counts.inserted == counts.updated == 0 for counts in again.files.values())
    await assert_rollups_exact(conn)


@pytest.mark.parametrize(
    ("edit", "file", "line", "reason"),
    [
        (copy_line(V, 3), V, 11, "same epic_number as line 3"),
        (copy_line(B, 5), B, 7, "as line 5"),
    ],
    ids=["duplicate voter", "duplicate beneficiary"],
)
async def test_a_duplicate_key_found_by_a_rebuilt_key_names_its_line(
    conn: asyncpg.Connection, mini_dataset: Path, db_state, bulk: None, edit, file: str, line: int, reason: str
) -> None:
    edit(mini_dataset)
    schema = [tuple(r) for r in await conn.fetch(SCHEMA)]
    before = await db_state(conn)
    with pytest.raises(CsvImportError) as info:
        await import_folder(conn, mini_dataset)
    assert (info.value.file, info.value.line, info.value.column) == (file, line, "epic_number")
    assert reason in info.value.reason
    assert await db_state(conn) == before
    assert [tuple(r) for r in await conn.fetch(SCHEMA)] == schema


def set_plain_cell(file: str, n: int, column: str, value: str) -> Callable[[Path], None]:
    """One cell of physical line n of a file without quotes, keeping the file's line ends."""

    def edit(folder: Path) -> None:
        path = folder / file
        rows = path.read_bytes().splitlines(keepends=True)
        header = rows[0].rstrip(b"\r\n").split(b",")
        body = rows[n - 1].rstrip(b"\r\n")
        cells = body.split(b",")
        cells[header.index(column.encode())] = value.encode()
        rows[n - 1] = b",".join(cells) + rows[n - 1][len(body) :]
        path.write_bytes(b"".join(rows))

    return edit


@pytest.mark.parametrize("dataset", ["mini_dataset", "tiny_dataset"])  # the careful path, then the direct one
@pytest.mark.parametrize(
    ("edit", "line", "column", "reason"),
    [
        (set_plain_cell(B, 4, "epic_number", "ABC9999999"), 4, "epic_number", "no voter 'ABC9999999'"),
        (set_plain_cell(B, 4, "scheme_code", "NO-SUCH"), 4, "scheme_code", "no scheme 'NO-SUCH'"),
        (both(copy_line(B, 2), set_plain_cell(B, 3, "epic_number", "ABC9999999")), 3, "epic_number", "no voter"),
    ],
    ids=["unknown voter", "unknown scheme", "unknown voter before a duplicate"],
)
async def test_a_first_load_of_beneficiaries_refuses_an_unresolved_reference_at_its_line(
    conn: asyncpg.Connection,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    db_state,
    bulk: None,
    dataset: str,
    edit,
    line: int,
    column: str,
    reason: str,
) -> None:
    """Beneficiaries into an empty table beside a first load of voters: the INSERT resolves the
    references itself, and a record it could not resolve is still refused by name."""
    folder = tmp_path / dataset
    shutil.copytree(request.getfixturevalue(dataset), folder)
    edit(folder)
    schema = [tuple(r) for r in await conn.fetch(SCHEMA)]
    before = await db_state(conn)
    with pytest.raises(CsvImportError) as info:
        await import_folder(conn, folder)
    assert (info.value.file, info.value.line, info.value.column) == (B, line, column)
    assert reason in info.value.reason
    assert await db_state(conn) == before
    assert [tuple(r) for r in await conn.fetch(SCHEMA)] == schema


async def test_a_bulk_load_beside_existing_rows_keeps_them(
    conn: asyncpg.Connection, mini_dataset: Path, tiny_dataset: Path, tmp_path: Path, bulk: None
) -> None:
    """The second file goes into tables that hold rows: no key is dropped then."""
    await import_folder(conn, mini_dataset)
    schema = [tuple(r) for r in await conn.fetch(SCHEMA)]
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_dataset, folder)
    await import_folder(conn, folder)
    assert [tuple(r) for r in await conn.fetch(SCHEMA)] == schema
    mini_voters = len(read(mini_dataset, V))
    assert await conn.fetchval("select count(*) from voters") == mini_voters + len(read(tiny_dataset, V))
    await assert_rollups_exact(conn)


async def make_owner(conn: asyncpg.Connection, *, create: bool) -> str:
    """A role that owns every table (and so its sequences) and function of the test database,
    not a superuser: what a production deployment connects as. `create`: with CREATE on the
    schema, as the role that ran the migrations has."""
    role = f"bg_owner_{uuid.uuid4().hex[:12]}"
    await conn.execute(f"create role {role} nosuperuser")
    if create:
        await conn.execute(f"grant create on schema public to {role}")
    objects = await conn.fetch(
        """select 'table', format('%I', relname) from pg_class
           where relnamespace = 'public'::regnamespace and relkind = 'r'
           union all
           select 'function', p.oid::regprocedure::text from pg_proc p
           where p.pronamespace = 'public'::regnamespace"""
    )
    for kind, name in objects:
        await conn.execute(f"alter {kind} {name} owner to {role}")
    return role


@pytest.mark.parametrize("create", [True, False], ids=["with CREATE on the schema", "without"])
@pytest.mark.parametrize("careful", [False, True], ids=["direct COPY", "careful path"])
async def test_the_tables_owner_without_superuser_imports_the_same(
    conn: asyncpg.Connection,
    bulk: None,
    tiny_dataset: Path,
    careful: bool,
    create: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No skipped foreign-key checks then (bulk.without_row_triggers). Keys and indexes are
    built after the rows only with CREATE on the schema; without it they stay in place."""
    attempts = Attempts(monkeypatch)
    attempts.forced = careful
    owner = await make_owner(conn, create=create)
    try:
        results = []
        for role in (None, owner):
            tr = conn.transaction()
            await tr.start()
            try:
                if role:
                    await conn.execute(f"set local role {role}")
                    assert not await conn.fetchval("select rolsuper from pg_roles where rolname = current_user")
                schema = [tuple(r) for r in await conn.fetch(SCHEMA)]
                await import_folder(conn, tiny_dataset)
                assert [tuple(r) for r in await conn.fetch(SCHEMA)] == schema
                assert await conn.fetchval("select count(*) from pg_constraint where not convalidated") == 0
                await assert_rollups_exact(conn)
                results.append(await contents(conn))
            finally:
                await tr.rollback()
        assert results[0] == results[1]
        assert results[0]["voters"]
        assert attempts.outcomes == ["forced" if careful else "copied"] * 2
    finally:
        await conn.execute(f"reassign owned by {owner} to current_user; drop owned by {owner}; drop role {owner}")
