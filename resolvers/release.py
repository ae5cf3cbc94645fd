"""Release the sensitive breakdowns: the layer viewers without voter.read_sensitive read.

A release copies the live counts (unit_rollups) of the booths that are due into released_cells,
sums every unit above from the released booths, and decides the suppression pattern over the
whole tree (resolvers/disclosure.py). Booths that are not due keep their released counts, so one
survey write or erasure never shows in the released layer on its own (docs/disclosure-control.md).

Runs at the end of every import (its booths), from `boothgraph stats release`, and periodically
in the server (booths where at least MIN_CELL_SIZE voters changed). One at a time: an advisory
lock, so several workers or nodes never release at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from core.settings import get_settings
from resolvers.disclosure import Cell, Pattern, protect

RELEASE_LOCK = 74213  # pg_advisory_xact_lock key; 74211 migrations, 74212 imports
SENSITIVE_DIMS = ("caste_category", "caste", "economic_status")


@dataclass(slots=True)
class ReleaseReport:
    booths: int = 0  # booths whose counts were taken from the live rollups
    cells: int = 0
    suppressed: int = 0
    degenerate: list[tuple[str, str, str]] = field(default_factory=list)  # (unit code, dim, key)
    seconds: float = 0.0


async def release(
    conn: asyncpg.Connection, *, booth_ids: Sequence[int] | None = None, min_cell: int | None = None
) -> ReleaseReport:
    """Release `booth_ids` (None: every booth) and recompute the pattern over the whole tree, in
    the caller's transaction (or one of its own); waits for a release running elsewhere."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", RELEASE_LOCK)
        await conn.execute("set local statement_timeout = 0")  # a whole-tree release outlasts a request's limit
        return await _release(conn, booth_ids, min_cell if min_cell is not None else get_settings().min_cell_size)


async def release_due(conn: asyncpg.Connection, *, min_cell: int) -> ReleaseReport | None:
    """The periodic release: every booth when nothing was released yet (or with another
    MIN_CELL_SIZE), else the booths where at least `min_cell` voters' sensitive fields changed.
    None when another release holds the lock or nothing is due."""
    async with conn.transaction():
        if not await conn.fetchval("select pg_try_advisory_xact_lock($1)", RELEASE_LOCK):
            return None
        await conn.execute("set local statement_timeout = 0")
        last = await conn.fetchval("select min_cell from stats_release")
        if last is None or last != min_cell:
            if last is None and not await conn.fetchval("select exists (select from unit_rollups)"):
                return None
            return await _release(conn, None, min_cell)
        due = await conn.fetchval(
            "select coalesce(array_agg(booth_id order by booth_id), '{}') from "
            "(select booth_id from release_changes group by booth_id having count(*) >= $1) d",
            min_cell,
        )
        if not due:
            return None
        return await _release(conn, due, min_cell)


async def _release(conn: asyncpg.Connection, booth_ids: Sequence[int] | None, min_cell: int) -> ReleaseReport:
    started = time.perf_counter()
    if booth_ids is None:
        booth_ids = await conn.fetchval("select coalesce(array_agg(id), '{}') from units where level = 'BOOTH'")
    await conn.execute("delete from release_changes where booth_id = any($1::int[])", booth_ids)
    tree = await _unit_tree(conn)
    # The booths' cells as they are released now: the live counts of the booths due, the last
    # release's of every other booth. Every released cell is written again below, so the due
    # booths' counts need not pass through released_cells first.
    cells = await _booth_cells(
        conn,
        tree,
        "select c.unit_id, c.dim, c.key, c.n from released_cells c join units u on u.id = c.unit_id "
        "where u.level = 'BOOTH' and c.unit_id not in (select unnest($1::int[])) "
        "union all "
        "select unit_id, dim, key, n from unit_rollups "
        "where unit_id = any($1::int[]) and dim = any($2::text[]) and n > 0",
        booth_ids,
        list(SENSITIVE_DIMS),
    )
    # Seconds of pure Python at scale: in a thread, so a serving worker's loop keeps turning.
    patterns = await asyncio.to_thread(_decide, tree, cells, min_cell)
    return await _store(conn, tree, patterns, len(booth_ids), min_cell, started)


@dataclass(slots=True)
class _UnitTree:
    code_of: dict[int, str]
    id_of: dict[str, int]
    parent: dict[str, str | None]


async def _unit_tree(conn: asyncpg.Connection) -> _UnitTree:
    units = await conn.fetch(
        "select u.id, u.code, p.code as parent from units u left join units p on p.id = u.parent_id"
    )
    return _UnitTree(
        {r["id"]: r["code"] for r in units},
        {r["code"]: r["id"] for r in units},
        {r["code"]: r["parent"] for r in units},
    )


# Rows read and filed at a time. The search needs only the cells, and at full size (~9M booth
# cells at 1.6 lakh booths) the records of all of them at once would be ~2 GB on top.
CHUNK_ROWS = 50_000


@dataclass(slots=True)
class _BoothCells:
    """The booths' cells of the two tables, filed chunk by chunk. Every cell shares its key's one
    (dim, key) tuple and its booth's one code: each record brings strings of its own, ~170 bytes
    a cell more if kept."""

    code_of: dict[int, str]
    caste: dict[Cell, int] = field(default_factory=dict)
    economic: dict[Cell, int] = field(default_factory=dict)
    keys: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def add(self, rows: Sequence[asyncpg.Record]) -> None:
        """File rows of (unit_id, dim, key, n)."""
        code_of, keys = self.code_of, self.keys
        for r in rows:
            dim = r["dim"]
            pair = (dim, r["key"])
            table = self.economic if dim == "economic_status" else self.caste
            table[(code_of[r["unit_id"]], keys.setdefault(pair, pair))] = r["n"]


async def _booth_cells(conn: asyncpg.Connection, tree: _UnitTree, sql: str, *args: object) -> _BoothCells:
    """The cells `sql` gives, read through a cursor CHUNK_ROWS at a time (the caller is in a
    transaction) and filed in a thread, so neither the records nor the filing hold up anything."""
    cells = _BoothCells(tree.code_of)
    cursor = await conn.cursor(sql, *args)
    while chunk := await cursor.fetch(CHUNK_ROWS):
        await asyncio.to_thread(cells.add, chunk)
    return cells


def _decide(tree: _UnitTree, cells: _BoothCells, min_cell: int) -> list[Pattern]:
    """The patterns of the two tables from the booths' cells. Pure."""
    caste, economic = cells.caste, cells.economic
    return [
        protect(unit_parent=tree.parent, key_parent=caste_key_tree(caste), booth_counts=caste, min_cell=min_cell),
        protect(
            unit_parent=tree.parent,
            key_parent={k: None for _, k in economic},
            booth_counts=economic,
            min_cell=min_cell,
        ),
    ]


async def _store(
    conn: asyncpg.Connection, tree: _UnitTree, patterns: list[Pattern], booths: int, min_cell: int, started: float
) -> ReleaseReport:
    """Every released cell written again, and the release noted in stats_release."""
    report = ReleaseReport(booths=booths)
    id_of = tree.id_of
    records = [
        (id_of[unit], dim, key, n, (unit, (dim, key)) in p.suppressed)
        for p in patterns
        for (unit, (dim, key)), n in p.counts.items()
    ]
    # In key order, so that one unit's cells share a page or two: a dashboard reads them by unit
    # (resolvers/stats.py), and in pattern order they were spread over ~35 pages per unit.
    records.sort()
    await conn.execute("delete from released_cells")
    await conn.copy_records_to_table(
        "released_cells", records=records, columns=["unit_id", "dim", "key", "n", "suppressed"]
    )
    report.cells = len(records)
    report.suppressed = sum(len(p.suppressed) for p in patterns)
    report.degenerate = sorted((u, d, k) for p in patterns for (u, (d, k)) in p.degenerate)
    await conn.execute(
        "insert into stats_release (id, released_at, min_cell, booths, cells, suppressed, degenerate) "
        "values (true, now(), $1, $2, $3, $4, $5) on conflict (id) do update set "
        "released_at = excluded.released_at, min_cell = excluded.min_cell, booths = excluded.booths, "
        "cells = excluded.cells, suppressed = excluded.suppressed, degenerate = excluded.degenerate",
        min_cell,
        report.booths,
        report.cells,
        report.suppressed,
        len(report.degenerate),
    )
    report.seconds = time.perf_counter() - started
    return report


@dataclass(slots=True)
class EarlyRelease:
    """A first release whose search already runs (`start_first_release`)."""

    tree: _UnitTree
    booths: int
    min_cell: int
    started: float
    search: asyncio.Future[list[Pattern]]


async def start_first_release(conn: asyncpg.Connection) -> EarlyRelease | None:
    """A first import's release, begun as soon as its voters are written: the booth counts of the
    sensitive dims read from voters (what refresh_rollups will write into unit_rollups, and the
    first release would read back from there: nothing later in an import changes those fields),
    and the search started in a thread, while PostgreSQL goes on with the beneficiaries and the
    recount. `finish_first_release` writes it. None when a release was made already (the import
    then releases its booths at the end, as before)."""
    if await conn.fetchval("select exists (select from stats_release)"):
        return None
    started = time.perf_counter()
    min_cell = get_settings().min_cell_size
    booths = await conn.fetchval("select count(*) from units where level = 'BOOTH'")
    tree = await _unit_tree(conn)
    # One scan, a grouping set per dim; in a set only its own column is not NULL by grouping.
    cells = await _booth_cells(
        conn,
        tree,
        """select booth_id as unit_id,
                  case grouping(caste_category, caste, economic_status)
                      when 3 then 'caste_category' when 5 then 'caste' else 'economic_status' end as dim,
                  coalesce(caste_category, caste, economic_status) as key,
                  count(*) as n
           from voters
           group by grouping sets ((booth_id, caste_category), (booth_id, caste), (booth_id, economic_status))
           having coalesce(caste_category, caste, economic_status) is not null""",
    )
    search = asyncio.ensure_future(asyncio.to_thread(_decide, tree, cells, min_cell))
    return EarlyRelease(tree, booths, min_cell, started, search)


async def finish_first_release(conn: asyncpg.Connection, early: EarlyRelease) -> ReleaseReport:
    """Wait for the search of `start_first_release` and store it: what `release(conn)` of every
    booth would have stored at this point (tests/test_transfer_release_early.py)."""
    patterns = await early.search
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", RELEASE_LOCK)
        await conn.execute("set local statement_timeout = 0")
        await conn.execute("delete from release_changes")
        return await _store(conn, early.tree, patterns, early.booths, early.min_cell, early.started)


def caste_key_tree(counts: dict[Cell, int]) -> dict[tuple[str, str], tuple[str, str] | None]:
    """TOTAL -> category -> castes. A caste's category is its code's prefix before '-' (`OBC-03`
    is OBC); a caste whose prefix is no category seen in the data is a group of its own, directly
    under the total (it then has no category cell to hide behind, only other keys)."""
    categories = {key for _, (dim, key) in counts if dim == "caste_category"}
    tree: dict[tuple[str, str], tuple[str, str] | None] = {}
    for _, (dim, key) in counts:
        if dim == "caste_category":
            tree[(dim, key)] = None
        else:
            prefix = key.split("-", 1)[0]
            tree[(dim, key)] = ("caste_category", prefix) if prefix in categories and "-" in key else None
    return tree


__all__ = [
    "EarlyRelease",
    "Pattern",
    "ReleaseReport",
    "caste_key_tree",
    "finish_first_release",
    "release",
    "release_due",
    "start_first_release",
]
