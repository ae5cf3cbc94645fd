"""A refused import leaves a trace (service.md): `data.import_refused`, written in a
transaction of its own since the import's own rolled back, so that probing shows in the log.

One entry per unit of the importer's scope (their data.import cover, else the units they are
assigned to; the STATE for the command line, which acts for the administrator), so that every
auditor over the importer sees it, and never a unit outside that scope. `detail` names the
file, line, column and the refusal's code, never the refused value (which may be a phone or
a sensitive cell)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from core.errors import BoothgraphError


def refusal_detail(error: BoothgraphError, files: Sequence[str]) -> str:
    ext = error.extensions
    values = {
        "code": error.code,
        "file": ext.get("file"),
        "line": ext.get("line"),
        "column": ext.get("column"),
        "files": sorted(files),
    }
    return json.dumps(values, separators=(",", ":"), sort_keys=True, default=str)


async def record_refused_import(
    conn: asyncpg.Connection,
    *,
    user_id: str,
    units: Sequence[tuple[int, str]],
    error: BoothgraphError,
    files: Sequence[str],
) -> None:
    """Append the entries and commit them; `units` empty: one entry without a unit."""
    rows: list[tuple[int | None, str | None]] = list(units) or [(None, None)]
    detail = refusal_detail(error, files)
    async with conn.transaction():
        await conn.executemany(
            """insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
               values ($1, 'data.import_refused', $2, $3, 0, $4)""",
            [(user_id, unit_id, code, detail) for unit_id, code in rows],
        )


async def state_unit(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    """The STATE unit, when the database has one: the command line's scope."""
    row = await conn.fetchrow("select id, code from units where level = 'STATE' order by id limit 1")
    return [] if row is None else [(row["id"], row["code"])]
