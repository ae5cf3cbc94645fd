"""Transaction-local settings, and the two shortcuts of a large load.

- `local_settings`: SET LOCAL values for the import, put back afterwards, so that a caller's
  own transaction goes on with its settings (`boothgraph.bulk` above all) as they were.
- `rebuilt_indexes`: a load into a (nearly) empty table drops the table's plain secondary
  indexes and builds them again at the end: one sort per index instead of a million random
  insertions. Holds an ACCESS EXCLUSIVE lock on the table until commit, so it is used only
  when the file is larger than what the table holds (a first load, the CLI's case). Into an
  empty table (`constraints=True`) the primary key and unique constraints go too, with the
  foreign keys that point at them (their tables are empty then, so putting them back checks
  nothing): a random-order unique index (EPIC numbers) was most of a first load's time.
  A duplicate key then shows when the constraint is put back, as a UniqueViolationError.
- `hash_joins`: a file about as large as the table it is compared with is joined by hashing.
  A staging table has no statistics, so the planner took a nested loop of a million EPIC index
  probes (3.5 s per million voters here, 2.3 s hashed).
- `without_row_triggers`: for a superuser, `session_replication_role = replica` around the big
  INSERTs and COPYs skips the per-row foreign-key checks (~4.6 s per million voters here) and
  the rollup trigger that bulk mode makes a no-op anyway; around the recount, the foreign-key
  check of each rollup row. The import has already resolved every
  reference in the same transaction, and locks the referenced units FOR KEY SHARE itself,
  which is what the skipped checks would have done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

BULK_ROWS = 50_000  # a file at least this long takes the shortcuts


async def set_local(conn: asyncpg.Connection, values: dict[str, str]) -> dict[str, str]:
    """SET LOCAL each of `values`; returns the previous values."""
    before: dict[str, str] = {}
    for name, value in values.items():
        before[name] = await conn.fetchval("select coalesce(current_setting($1, true), '')", name)
        await conn.execute("select set_config($1, $2, true)", name, value)
    return before


@asynccontextmanager
async def local_settings(
    conn: asyncpg.Connection, values: dict[str, str], *, enabled: bool = True
) -> AsyncIterator[None]:
    """SET LOCAL `values` for the block (nothing when not `enabled`), then put them back."""
    if not enabled:
        yield
        return
    before = await set_local(conn, values)
    yield
    await set_local(conn, before)


async def estimated_rows(conn: asyncpg.Connection, table: str) -> int:
    """`table`'s row count as the planner knows it (ANALYZE, index builds), counted when it has
    none: a full count of 15 crore voters would take minutes."""
    n = await conn.fetchval("select reltuples::bigint from pg_class where oid = $1::regclass", table)
    if n is None or n <= 0:
        n = await conn.fetchval(f"select count(*) from {table}")
    return int(n)


def hash_joins(conn: asyncpg.Connection, enabled: bool) -> AbstractAsyncContextManager[None]:
    return local_settings(conn, {"enable_nestloop": "off"}, enabled=enabled)


async def is_superuser(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("select rolsuper from pg_roles where rolname = current_user"))


def without_row_triggers(conn: asyncpg.Connection, enabled: bool) -> AbstractAsyncContextManager[None]:
    return local_settings(conn, {"session_replication_role": "replica"}, enabled=enabled)


async def _secondary_indexes(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    rows = await conn.fetch(
        """select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           from pg_index i
           where i.indrelid = $1::regclass and not exists (select from pg_constraint k where k.conindid = i.indexrelid)
           order by 1""",
        table,
    )
    return [(r[0], r[1]) for r in rows]


async def owns(conn: asyncpg.Connection, table: str) -> bool:
    """May drop and build again the table's indexes: its owner, with CREATE on its schema (which
    PostgreSQL 15 no longer grants on public to everyone)."""
    return bool(
        await conn.fetchval(
            """select pg_has_role(current_user, relowner, 'USAGE') and has_schema_privilege(relnamespace, 'CREATE')
               from pg_class where oid = $1::regclass""",
            table,
        )
    )


async def _key_constraints(conn: asyncpg.Connection, table: str) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the table's primary key and unique constraints, then of the
    foreign keys of other tables that reference the table."""
    rows = await conn.fetch(
        """select conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
           from pg_constraint
           where (conrelid = $1::regclass and contype in ('p', 'u'))
              or (confrelid = $1::regclass and contype = 'f' and conrelid <> $1::regclass)
           order by contype = 'f', conname""",
        table,
    )
    return [(r[0], r[1], r[2]) for r in rows]


@asynccontextmanager
async def rebuilt_indexes(
    conn: asyncpg.Connection, table: str, enabled: bool, *, constraints: bool = False
) -> AsyncIterator[None]:
    if not enabled or not await owns(conn, table):
        yield
        return
    keys = await _key_constraints(conn, table) if constraints else []
    for owner in {owner for owner, _, _ in keys}:
        if not await owns(conn, owner):
            keys = []
            break
    for owner, name, _ in reversed(keys):  # foreign keys first
        await conn.execute(f'alter table {owner} drop constraint "{name}"')
    indexes = await _secondary_indexes(conn, table)
    for name, _ in indexes:
        await conn.execute(f"drop index {name}")
    yield
    async with local_settings(conn, {"maintenance_work_mem": "512MB"}):
        for owner, name, definition in keys:  # keys before the foreign keys that need them
            await conn.execute(f'alter table {owner} add constraint "{name}" {definition}')
        for _, definition in indexes:
            await conn.execute(definition)
