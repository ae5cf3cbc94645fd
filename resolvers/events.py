"""What the event hub (events/hub.py) reads once per NOTIFY, before it decides per subscriber:
a logged call with its campaign and its voter's place and contact fields, the `data.import`
entries of one import, and a booth's ancestors. Plain rows; the scope and redaction decisions
are events/filters.py's, with the policy's covers and resolvers/redaction.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from resolvers.call_logs import CALL_LOG_SELECT, CallLogRow, call_log_of
from resolvers.scope import SqlParams
from resolvers.visibility import open_campaign


@dataclass(frozen=True, slots=True)
class CallEventRow:
    call: CallLogRow
    campaign_id: int
    booth_code: str
    # On its call list's caller's open list (visibility.own_entries without the cover, which the
    # filter checks): the caller reads the phone in clear (redaction's on_call_list).
    list_caller_id: str
    on_list: bool
    # The voter's row as resolvers/redaction.py reads it: ancestors, page and the redacted fields.
    voter: dict[str, Any]


CALL_EVENT_SQL = """
select {columns}, ca.campaign_id, b.code as booth_code, ca.caller_id as list_caller_id,
       (ca.assigned_by <> ca.caller_id and {is_open} and v.contact_consent <> 'DENIED') as on_list,
       v.region_id, v.district_id, v.mandal_id, v.booth_id, v.page,
       v.phone, v.caste_category, v.caste, v.economic_status
from call_logs cl
join call_assignments ca on ca.id = cl.assignment_id
join campaigns c on c.id = ca.campaign_id
join voters v on v.id = cl.voter_id
join units b on b.id = v.booth_id
where cl.id = $1
"""

VOTER_KEYS = ("region_id", "district_id", "mandal_id", "booth_id", "page", "phone", "caste_category", "caste")


async def call_event(conn: asyncpg.Pool | asyncpg.Connection, call_id: int, today: dt.date) -> CallEventRow | None:
    """`today`: the local date by the server's clock (campaigns open and close by it)."""
    params = SqlParams(call_id)
    sql = CALL_EVENT_SQL.format(columns=CALL_LOG_SELECT, is_open=open_campaign(params, today))
    row = await conn.fetchrow(sql, *params.values)
    if row is None:
        return None
    voter = {k: row[k] for k in (*VOTER_KEYS, "economic_status")}
    return CallEventRow(
        call=call_log_of(row),
        campaign_id=row["campaign_id"],
        booth_code=row["booth_code"],
        list_caller_id=row["list_caller_id"],
        on_list=row["on_list"],
        voter=voter,
    )


@dataclass(frozen=True, slots=True)
class ImportEntry:
    id: int
    at: dt.datetime
    user_id: str
    unit_code: str | None
    records: int
    # (state, region, district, mandal, booth) ids of the entry's unit; None for no unit.
    ancestors: tuple[int | None, ...] | None


IMPORT_ENTRIES_SQL = """
select a.id, a.at, a.user_id, a.unit_code, a.records,
       u.id as unit_id, u.state_id, u.region_id, u.district_id, u.mandal_id, u.booth_id
from audit_log a
join audit_log first on first.id = $1
left join units u on u.id = a.unit_id
where a.action = 'data.import' and a.user_id = first.user_id and a.at = first.at
order by a.id
"""


async def import_entries(conn: asyncpg.Pool | asyncpg.Connection, entry_id: int) -> list[ImportEntry]:
    """The `data.import` entries written with entry `entry_id`: one import's, since an import
    writes them in one transaction (same user, same `now()`)."""
    rows = await conn.fetch(IMPORT_ENTRIES_SQL, entry_id)
    return [
        ImportEntry(
            id=r["id"],
            at=r["at"],
            user_id=r["user_id"],
            unit_code=r["unit_code"],
            records=r["records"],
            ancestors=None
            if r["unit_id"] is None
            else (r["state_id"], r["region_id"], r["district_id"], r["mandal_id"], r["booth_id"]),
        )
        for r in rows
    ]


async def booth_ancestors(conn: asyncpg.Pool | asyncpg.Connection, booth_id: int) -> tuple[int, ...]:
    """The ids of the booth and every unit above it (units never move: callers may remember it)."""
    row = await conn.fetchrow(
        "select state_id, region_id, district_id, mandal_id, id from units where id = $1", booth_id
    )
    return () if row is None else tuple(i for i in row if i is not None)
