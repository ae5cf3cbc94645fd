"""Load a folder of CSV files (csv-format.md) into the database: all or nothing.

    report = await import_folder(conn, Path("data/"), user_id="u-000001")

Everything happens in one transaction of its own (a savepoint when the caller is already in
one): stage every file (streamed COPY through a strict RFC 4180 scanner), check every cell of
every file set-wise and the references to schemes and users (transfer.references), run the
caller's `before_write`, then per file in dependency order resolve references, check the scope,
and upsert (a stored EPIC outside the scope is refused last: transfer.scope); recount the
rollups of what changed (`boothgraph.bulk` on, one refresh_rollups at the end) and write one
`data.import` audit entry (and a `role.grant` per assignment granted). The first bad record raises
`core.errors.CsvImportError(file, line, column, reason)`, or `NotFound` for a unit outside
`allowed`, and nothing is written. Imports are serialised by an advisory lock.

Into an empty voters table, with no scope to check (the CLI's first load), voters.csv is not
staged: `transfer.direct` copies it straight into voters, in a savepoint. When that declines
(a record it cannot vouch for, an unknown booth, a duplicate key, any error) the savepoint is
rolled back and the import runs again the careful way, which names the bad record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeAlias

import asyncpg

from core.errors import BadUserInput, BoothgraphError, CsvImportError
from resolvers.release import EarlyRelease, finish_first_release, release, start_first_release
from transfer import spec
from transfer.bulk import BULK_ROWS, estimated_rows, is_superuser, local_settings, without_row_triggers
from transfer.checks import check_cells, check_unique
from transfer.csvscan import CsvFormatError
from transfer.direct import Declined, copy_fresh_voters
from transfer.hierarchy import UnitChanges, check_tree, touched_after, write_units
from transfer.progress import Progress
from transfer.records import Written, upsert_plain, write_assignments, write_beneficiaries, write_voters
from transfer.references import check_references
from transfer.report import FileCounts, ImportReport
from transfer.scope import Allowed, Scope
from transfer.staging import Staged, stage

log = logging.getLogger(__name__)
BeforeWrite: TypeAlias = Callable[[asyncpg.Connection], Awaitable[None]]
VOTERS = spec.BY_NAME["voters.csv"]
IMPORT_LOCK = 74212  # pg_advisory_xact_lock key; 74211 is the migrations' lock

__all__ = ["Allowed", "ImportReport", "FileCounts", "import_folder"]


def _files(folder: Path) -> list[spec.FileSpec]:
    if not folder.is_dir():
        raise BadUserInput(f"{folder}: not a folder")
    for path in sorted(folder.glob("*.csv")):
        if path.name not in spec.BY_NAME:
            names = ", ".join(s.name for s in spec.FILES)
            raise CsvImportError(path.name, 1, None, f"unknown file; an import folder holds {names}")
    present = [s for s in spec.FILES if (folder / s.name).is_file()]
    if not present:
        raise BadUserInput(f"{folder}: no CSV file of the import format (units.csv, voters.csv, ...)")
    return present


async def import_folder(
    conn: asyncpg.Connection,
    folder: Path,
    *,
    user_id: str = "system",
    progress: bool = False,
    allowed: Allowed | None = None,
    before_write: BeforeWrite | None = None,
    audit_units: Sequence[tuple[int, str]] = (),
) -> ImportReport:
    """Import the CSV files of `folder`. `allowed` (a set of unit ids covering their subtrees,
    or a callable taking a `UnitPlace`) limits the units the files may touch; see transfer.scope.
    `before_write(conn)`: the caller's own checks, run in the import's transaction once every
    file's own rules have passed and before anything is compared with stored rows.
    `audit_units` (id, code): where the data.import entry goes when the files touch no unit
    (users.csv or schemes.csv alone): the importer's scope; none given, the state."""
    started = time.perf_counter()
    folder = Path(folder)
    present = _files(folder)
    bar = Progress(progress)
    scope = Scope(allowed)
    try:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", IMPORT_LOCK)
            async with local_settings(conn, {"boothgraph.bulk": "on", "work_mem": "256MB"}):
                report = None
                if VOTERS in present and not scope.active and not await _has_rows(conn, "voters"):
                    try:
                        async with conn.transaction():  # a savepoint: the attempt goes as a whole
                            report = await _load(
                                conn, folder, present, scope, bar, user_id, before_write, audit_units, direct=True
                            )
                    except (Declined, CsvFormatError, BoothgraphError, asyncpg.PostgresError) as exc:
                        log.info("import: voters.csv takes the careful path (%s)", exc)
                        scope = Scope(allowed)
                if report is None:
                    report = await _load(
                        conn, folder, present, scope, bar, user_id, before_write, audit_units, direct=False
                    )
    finally:
        bar.close()
    report.phases = bar.phases
    report.seconds = time.perf_counter() - started
    return report


async def _has_rows(conn: asyncpg.Connection, table: str) -> bool:
    return bool(await conn.fetchval(f"select exists (select from {table})"))


async def _load(
    conn: asyncpg.Connection,
    folder: Path,
    present: list[spec.FileSpec],
    scope: Scope,
    bar: Progress,
    user_id: str,
    before_write: BeforeWrite | None,
    audit_units: Sequence[tuple[int, str]],
    *,
    direct: bool,
) -> ImportReport:
    """Stage and check every file, write them, recount, audit. `direct`: voters.csv is not
    staged but copied straight into the (empty) voters table when its turn comes."""
    report = ImportReport()
    staged: dict[str, Staged] = {}
    for s in present:
        if direct and s is VOTERS:
            continue
        bar.step(f"reading {s.name}")
        staged[s.name] = await stage(conn, folder, s, bar)
    # A file going into an empty table leaves duplicate keys to the table's own
    # unique index (records._inserting), saving a pass over the file.
    fresh = {
        name
        for name, table in (("voters.csv", "voters"), ("beneficiaries.csv", "beneficiaries"))
        if name in staged and not await _has_rows(conn, table)
    }
    for st in staged.values():
        bar.step(f"checking {st.file}")
        await check_cells(conn, st)
        if st.file not in fresh:
            await check_unique(conn, st)
    await check_references(conn, staged)
    if before_write is not None:
        await before_write(conn)
    superuser = await is_superuser(conn)
    early: list[EarlyRelease] = []

    async def voters_written() -> None:
        # A first release's search needs only the voters: it runs in a thread beside the
        # beneficiaries and the recount, which are PostgreSQL's work (resolvers.release).
        started = await start_first_release(conn)
        if started is not None:
            early.append(started)

    booths, extra = await _write(
        conn, folder, staged, scope, report, bar, fresh, direct, superuser, user_id, voters_written
    )
    if scope.deferred is not None:
        raise scope.deferred
    if "voters.csv" in staged or direct:
        # Consent DENIED by the file takes those voters off every call list, as a survey write
        # does (resolvers.outreach.leave_call_lists); the recount below fixes the outreach counts.
        booths |= await leave_call_lists_of_denied(conn)
    bar.step("recounting statistics")
    if booths or extra:
        # Every unit id the recount writes comes from units, which only imports change (one at a
        # time): a superuser skips the foreign-key check of each rollup row (~1 s per million voters).
        async with without_row_triggers(conn, superuser):
            await conn.execute("select refresh_rollups($1::int[], $2::int[])", sorted(booths), sorted(extra))
        bar.step("releasing statistics")
        # The released layer takes every booth the import touched (all of them the first time).
        if early:
            await finish_first_release(conn, early[0])
        else:
            first = not await conn.fetchval("select exists (select from stats_release)")
            await release(conn, booth_ids=None if first else sorted(booths))
    report.touched_booth_ids = sorted(booths)
    report.touched_unit_ids = sorted(scope.touched | extra)
    bar.step("audit")
    await _audit(conn, user_id, report, audit_units)
    for st in staged.values():
        await conn.execute(f"drop table if exists {st.table}")
    return report


async def _write(
    conn: asyncpg.Connection,
    folder: Path,
    staged: dict[str, Staged],
    scope: Scope,
    report: ImportReport,
    bar: Progress,
    fresh: set[str],
    direct: bool,
    superuser: bool,
    user_id: str,
    voters_written: Callable[[], Awaitable[None]],
) -> tuple[set[int], set[int]]:
    """Upsert file by file; returns (booths to recount, extra units to recount above).
    `superuser`: large writes may skip the row triggers (bulk.without_row_triggers).
    `voters_written`: called once voters.csv is written, before the beneficiaries."""
    booths: set[int] = set()
    extra: set[int] = set()
    # The voters table was empty: every voter a beneficiary can name is this file's, whose
    # booths are already in `booths`.
    voters_fresh = direct or "voters.csv" in fresh

    def count(st: Staged, written: Written | UnitChanges) -> None:
        report.files[st.file] = FileCounts(st.rows, written.inserted, written.updated)

    if st := staged.get("units.csv"):
        bar.step("writing units")
        await check_tree(conn, st, scope)
        changes = await write_units(conn, st)
        await touched_after(conn, st, scope)
        count(st, changes)
        report.moved_unit_ids = changes.moved
        extra.update(changes.moved, changes.old_parents)
    if st := staged.get("schemes.csv"):
        bar.step("writing schemes, users")
        count(st, await upsert_plain(conn, st, "schemes", "code", ("name", "name_hi")))
    if st := staged.get("users.csv"):
        count(st, await upsert_plain(conn, st, "users", "id", ("name", "phone")))
    if direct:
        bar.step("writing voters")
        rows, touched = await copy_fresh_voters(conn, folder, VOTERS, bar, fast=superuser)
        report.files[VOTERS.name] = FileCounts(rows, rows, 0)
        booths |= touched
        if rows >= BULK_ROWS:
            await conn.execute("analyze voters")
    elif st := staged.get("voters.csv"):
        bar.step("writing voters")
        bulk = st.rows >= BULK_ROWS
        fast = bulk and superuser
        stored = await estimated_rows(conn, "voters")
        written = await write_voters(
            conn,
            st,
            scope,
            fresh=st.file in fresh,
            fast=fast,
            rebuild=bulk and stored * 2 < st.rows,
            hashed=bulk and st.rows * 4 >= stored,
        )
        count(st, written)
        booths |= written.booths
        if written.inserted + written.updated >= BULK_ROWS:
            await conn.execute("analyze voters")
    if direct or "voters.csv" in staged:
        await voters_written()
    if st := staged.get("beneficiaries.csv"):
        bar.step("writing beneficiaries")
        bulk = st.rows >= BULK_ROWS
        fast = bulk and superuser
        uploaded = staged["voters.csv"].table if "voters.csv" in staged else None
        written = await write_beneficiaries(
            conn,
            st,
            scope,
            fresh=st.file in fresh,
            fast=fast,
            rebuild=bulk,
            booths_known=voters_fresh,
            uploaded_voters=uploaded,
        )
        count(st, written)
        booths |= written.booths
    if st := staged.get("assignments.csv"):
        bar.step("writing assignments")
        count(st, await write_assignments(conn, st, scope, user_id=user_id))
    return booths, extra


async def leave_call_lists_of_denied(conn: asyncpg.Connection) -> set[int]:
    """Every call-list entry of a voter whose consent is DENIED goes, with the calls logged on
    it; returns the booths of those voters. One statement over the (small) call_assignments."""
    rows = await conn.fetch(
        """with gone as (
               select ca.id, v.booth_id from call_assignments ca join voters v on v.id = ca.voter_id
               where v.contact_consent = 'DENIED'),
           logs as (delete from call_logs where assignment_id in (select id from gone)),
           entries as (delete from call_assignments where id in (select id from gone))
           select distinct booth_id from gone"""
    )
    return {r[0] for r in rows}


async def _audit(
    conn: asyncpg.Connection, user_id: str, report: ImportReport, audit_units: Sequence[tuple[int, str]]
) -> None:
    """One data.import entry, at the deepest unit above everything the import touched; when the
    files touched no unit, one under each of `audit_units` (the importer's scope), else the state,
    so that an import is never audited under no unit (service.md)."""
    units: list[tuple[int | None, str | None]] = []
    if report.touched_unit_ids:
        top = await conn.fetchrow(
            """select u.id, u.code from units u join (
                   select coalesce(
                       case when count(booth_id) = count(*) and count(distinct booth_id) = 1 then min(booth_id) end,
                       case when count(mandal_id) = count(*) and count(distinct mandal_id) = 1 then min(mandal_id) end,
                       case when count(district_id) = count(*) and count(distinct district_id) = 1
                            then min(district_id) end,
                       case when count(region_id) = count(*) and count(distinct region_id) = 1 then min(region_id) end,
                       min(state_id)) as id
                   from units where id = any($1::int[])) top on top.id = u.id""",
            report.touched_unit_ids,
        )
        units = [(top["id"], top["code"])] if top else []
    elif audit_units:
        units = [(unit_id, code) for unit_id, code in audit_units]
    if not units:
        state = await conn.fetchrow("select id, code from units where depth = 0 order by id limit 1")
        units = [(state["id"], state["code"])] if state else []
    await conn.executemany(
        """insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
           values ($1, 'data.import', $2, $3, $4, $5)""",
        [(user_id, unit_id, code, report.records, report.detail()) for unit_id, code in units or [(None, None)]],
    )
