"""Streamed CSV export of a unit's voters, in the voters.csv format of csv-format.md, with
exactly the fields the viewer may read (resolvers.redaction decides: phone masked without
voter.read_contact, caste_category / caste / economic_status empty without
voter.read_sensitive).

Two steps, so that a refusal is an HTTP error and not a broken stream:
1. `prepare_export` (one transaction): the unit must be visible (else NOT_FOUND) and under the
   viewer's data.export cover (else FORBIDDEN); the rows are counted and the export is
   audited (`data.export`, records = that count) and committed *before* the first byte goes
   out, so an export is on record even when the client stops reading halfway.
2. `stream_export`: an async generator of CSV bytes read through a server-side cursor in
   batches inside a read-only REPEATABLE READ transaction: memory stays flat whatever the
   unit's size.

Cells that a spreadsheet would run as a formula are written with a leading `'`
(spreadsheet.py); the importer removes it again.

Rows: the voters under the unit that the viewer may read (voter.read cover, through
resolvers.scope), in roll order (booth, serial number).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from core.viewer import UnitPlace, Viewer
from policies import Cover, PolicyEngine
from resolvers import audit
from resolvers.input_checks import check_text
from resolvers.places import find_unit
from resolvers.redaction import VoterVisibility, redact_voter
from resolvers.scope import SqlParams, scope_condition
from resolvers.visibility import require_visible
from transfer.spreadsheet import escape_cell

VOTERS_CSV_COLUMNS = (
    "epic_number",
    "booth_code",
    "serial_number",
    "name",
    "name_hi",
    "relative_name",
    "age",
    "gender",
    "house_number",
    "phone",
    "caste_category",
    "caste",
    "economic_status",
    "contact_consent",
)

DEFAULT_BATCH = 1_000

ROW_SQL = """
select v.epic_number, b.code as booth_code, v.serial_number, v.name, v.name_hi, v.relative_name, v.age,
       v.gender, v.house_number, v.phone, v.caste_category, v.caste, v.economic_status, v.contact_consent,
       v.region_id, v.district_id, v.mandal_id, v.booth_id, v.page
from voters v join units b on b.id = v.booth_id
"""


@dataclass(frozen=True, slots=True)
class ExportPlan:
    unit: UnitPlace
    rows: Cover  # voter.read cover inside the unit: the rows exported
    visibility: VoterVisibility
    records: int
    audit_id: int

    def where(self, params: SqlParams) -> str:
        return scope_condition(self.rows, params, "v", pages=True)


async def prepare_export(conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, unit_code: str) -> ExportPlan:
    """Checks, counts and audits an export of `unit_code` (NOT_FOUND / FORBIDDEN / BAD_USER_INPUT)."""
    check_text(unit_code, "unit", limit=200, required=True)
    place = require_visible(
        viewer,
        policy,
        await find_unit(conn, unit_code),
        "data.export",
        absent="No such unit",
        refused="You may not export this unit's data",
    )
    rows = policy.cover(viewer, "voter.read").within(place)
    visibility = VoterVisibility(
        contact=policy.cover(viewer, "voter.read_contact"),
        sensitive=policy.cover(viewer, "voter.read_sensitive"),
    )
    async with conn.transaction():
        # The row triggers keep unit_rollups exact, so the count costs one index lookup per unit.
        count = await _rolled_up(conn, rows, "voters", "true")
        # What goes out in clear, from the same covers the redaction applies row by row: the
        # phones of voters under both the exported rows and voter.read_contact, the sensitive
        # fields of those under voter.read_sensitive (not whether the whole unit is covered).
        phones = await _phones(conn, rows.intersection(visibility.contact))
        surveyed = await _sensitive(conn, rows.intersection(visibility.sensitive))
        audit_id = await audit.record(
            conn,
            user_id=viewer.user_id,
            action="data.export",
            unit_id=place.id,
            unit_code=place.code,
            records=count,
            detail=audit.detail_json(
                file="voters.csv",
                phone_in_clear=phones > 0,
                phones_in_clear=phones,
                sensitive_in_clear=surveyed > 0,
                sensitive_records_in_clear=surveyed,
            ),
        )
    return ExportPlan(unit=place, rows=rows, visibility=visibility, records=count, audit_id=audit_id)


async def _phones(conn: asyncpg.Connection, cover: Cover) -> int:
    """Voters with a phone under the cover (the rollups are exact: one index lookup per unit)."""
    return await _rolled_up(conn, cover, "with_phone", "v.phone is not null")


async def _rolled_up(conn: asyncpg.Connection, cover: Cover, dim: str, condition: str) -> int:
    """Voters under the cover counted in `dim` of unit_rollups (one index lookup per unit); a roll
    page has no rollups, so a cover holding one counts its voters (`condition`) live."""
    if cover.empty:
        return 0
    if any(u.page is not None for u in cover.units):
        params = SqlParams()
        sql = f"select count(*) from voters v where {scope_condition(cover, params, 'v', pages=True)} and {condition}"
        return int(await conn.fetchval(sql, *params.values))
    return int(
        await conn.fetchval(
            "select coalesce(sum(n), 0) from unit_rollups where unit_id = any($1::int[]) and dim = $2 and key = ''",
            [u.id for u in cover.units],
            dim,
        )
    )


async def _sensitive(conn: asyncpg.Connection, cover: Cover) -> int:
    """Voters under the cover with any sensitive field recorded (what redaction shows in clear)."""
    if cover.empty:
        return 0
    params = SqlParams()
    return int(
        await conn.fetchval(
            f"""select count(*) from voters v where {scope_condition(cover, params, "v", pages=True)}
                and (v.caste_category is not null or v.caste is not null or v.economic_status is not null)""",
            *params.values,
        )
    )


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


async def stream_export(
    conn_source: asyncpg.Pool | asyncpg.Connection, plan: ExportPlan, *, batch_size: int = DEFAULT_BATCH
) -> AsyncIterator[bytes]:
    """CSV bytes: the header, then one chunk per batch of rows. Holds one connection (taken
    from the pool when given one) for the duration of the stream."""
    yield _csv_line(list(VOTERS_CSV_COLUMNS)).encode()
    if plan.rows.empty:
        return
    params = SqlParams()
    sql = f"{ROW_SQL} where {plan.where(params)} order by v.booth_id, v.serial_number, v.id"
    if isinstance(conn_source, asyncpg.Pool):
        async with conn_source.acquire() as conn:
            async for chunk in _stream_rows(conn, sql, params, plan, batch_size):
                yield chunk
    else:
        async for chunk in _stream_rows(conn_source, sql, params, plan, batch_size):
            yield chunk


async def _stream_rows(
    conn: asyncpg.Connection, sql: str, params: SqlParams, plan: ExportPlan, batch_size: int
) -> AsyncIterator[bytes]:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(sql, *params.values)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        while True:
            batch = await cursor.fetch(batch_size)
            if not batch:
                break
            for row in batch:
                shown = redact_voter(row, plan.visibility)
                writer.writerow(
                    escape_cell(value)
                    for value in (
                        row["epic_number"],
                        row["booth_code"],
                        row["serial_number"],
                        row["name"],
                        row["name_hi"],
                        row["relative_name"],
                        row["age"],
                        row["gender"],
                        row["house_number"],
                        shown.phone,
                        shown.caste_category,
                        shown.caste,
                        shown.economic_status,
                        row["contact_consent"],
                    )
                )
            chunk = buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate(0)
            del batch
            yield chunk
