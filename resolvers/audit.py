"""The append-only audit log: `record` writes one entry (always inside the caller's transaction,
so an entry exists exactly when the change it records does); `audit_log` reads the entries a
viewer may see (audit.read cover, through resolvers.scope)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.api_keys import current_key
from policies import Cover
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, validate_first
from resolvers.input_checks import check_text
from resolvers.page import Page
from resolvers.places import find_unit
from resolvers.scope import SqlParams, scope_condition
from resolvers.visibility import visible_cover

# service.md's audit actions, and those added since.
ACTIONS = frozenset(
    {
        "voter.read_contact",
        "voter.read_sensitive",
        "voter.write",
        "voter.erase",
        "beneficiary.enroll",
        "data.import",
        "data.import_refused",
        "data.export",
        "role.grant",
        "role.revoke",
        "outreach.campaign",
        "outreach.assign",
        "outreach.call",
        # issue 16 (resolvers/elections.py, turnout.py, model_code.py)
        "election.create",
        "election.update",
        "election.import",
        "turnout.mark",
        "turnout.undo",
        "model_code.refused",
        # Sign-in (issue 18 §1, resolvers/identity.py): beyond service.md's list.
        "auth.invite",
        "auth.sign_in",
        "auth.sign_in_refused",
        "auth.refresh",
        "auth.refresh_reused",
        "auth.sign_out",
        "auth.revoke",
        "auth.key_create",
        "auth.key_rotate",
        "auth.key_revoke",
    }
)

INSERT_SQL = """
insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
values ($1, $2, $3, $4, $5, $6)
returning id
"""


def with_key(detail: str | None) -> str | None:
    """`detail` with the request's API key prefix added (core/api_keys.py), when there is one."""
    key = current_key.get()
    if key is None:
        return detail
    values = json.loads(detail) if detail else {}
    if not isinstance(values, dict):
        values = {"detail": values}
    return detail_json(**{**values, "apiKey": key})


def detail_json(**values: Any) -> str:
    """A compact, stable `detail` for machine readers (never phone numbers or sensitive values)."""
    return json.dumps(values, separators=(",", ":"), sort_keys=True, default=str)


async def record(
    conn: asyncpg.Connection,
    *,
    user_id: str,
    action: str,
    unit_id: int | None,
    unit_code: str | None,
    records: int,
    detail: str | None = None,
) -> int:
    """Append one entry; returns its id. Call it inside the transaction of the change. A request
    made with an API key adds the key's prefix to `detail` (`apiKey`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    detail = with_key(detail)
    return int(await conn.fetchval(INSERT_SQL, user_id, action, unit_id, unit_code, int(records), detail))


async def record_many(
    conn: asyncpg.Connection,
    *,
    user_id: str,
    actions: list[str],
    unit_codes: list[str],
    records: list[int],
) -> None:
    """Append one entry per (action, unit code, records) of `user_id`, each unit found by its code,
    in one statement (`record_for_users`). Call it inside a transaction."""
    detail = with_key(None)
    rows = [(user_id, a, code, n, detail) for a, code, n in zip(actions, unit_codes, records, strict=True)]
    await record_for_users(conn, rows)


async def record_for_users(conn: asyncpg.Connection, rows: list[tuple[str, str, str, int, str | None]]) -> None:
    """Append one entry per (user id, action, unit code, records, detail), each unit found by its
    code, in one statement (a request's reads; events delivered to many subscribers at once,
    events/read_audit.py). Call it inside a transaction."""
    unknown = {action for _, action, _, _, _ in rows} - ACTIONS
    if unknown:
        raise ValueError(f"unknown audit actions {sorted(unknown)!r}")
    await conn.execute(
        """insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
           select e.user_id, e.action, u.id, e.code, e.records, e.detail
           from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) with ordinality
                as e(user_id, action, code, records, detail, n)
           left join units u on u.code = e.code order by e.n""",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
    )


# ------------------------------------------------------------------------------ reading ---
AUDIT_COLUMNS = "a.id, a.at, a.user_id, a.action, a.unit_code, a.records, a.detail"


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: dt.datetime
    user_id: str
    action: str
    unit_code: str | None
    records: int
    detail: str | None


def _row(r: asyncpg.Record) -> AuditRow:
    return AuditRow(
        id=r["id"],
        at=r["at"],
        user_id=r["user_id"],
        action=r["action"],
        unit_code=r["unit_code"],
        records=r["records"],
        detail=r["detail"],
    )


async def audit_log(
    ctx: ReadContext,
    *,
    unit: str | None = None,
    action: str | None = None,
    first: int | None = 50,
    after: str | None = None,
) -> Page[AuditRow]:
    """Entries whose unit lies in the viewer's audit.read cover, newest first. Entries without a
    unit (e.g. a command-line import) only for a STATE-level cover: the left join leaves their
    unit columns null, which only the STATE arm (`true`) lets through. With `unit`: the entries
    of units under it (none when it is absent or outside the cover)."""
    limit = validate_first(first, 50)
    check_text(action, "action", limit=100)
    codec = CursorCodec(ctx.settings, "audit", binding(ctx.viewer.user_id, unit, action))
    start = codec.decode(after, (int,))
    page: Page[AuditRow] = Page()
    cover = ctx.cover("audit.read")
    if unit is not None:
        place = await find_unit(ctx.pool, check_text(unit, "unit", limit=200) or "")
        visible = place is not None and visible_cover(ctx.viewer).covers(place)  # an ancestor is not
        cover = cover.within(place) if place is not None and visible else Cover(())
    if cover.empty:
        return page
    params = SqlParams()
    where = [scope_condition(cover, params, "u")]
    if unit is not None:
        where.append("a.unit_id is not null")
    if action is not None:
        where.append(f"a.action = {params.add(action)}")
    base = " and ".join(where)
    page.total = int(
        await ctx.pool.fetchval(
            f"select count(*) from audit_log a left join units u on u.id = a.unit_id where {base}", *params.values
        )
    )
    if start is not None:
        base += f" and a.id < {params.add(start[0])}"
    rows = await ctx.pool.fetch(
        f"""select {AUDIT_COLUMNS} from audit_log a left join units u on u.id = a.unit_id
            where {base} order by a.id desc limit {params.add(limit + 1)}""",
        *params.values,
    )
    page.has_next = len(rows) > limit
    for r in rows[:limit]:
        page.items.append(_row(r))
        page.cursors.append(codec.encode([r["id"]]))
    return page


async def audit_entry_by_id(ctx: ReadContext, entry_id: int) -> AuditRow | None:
    """For node(id): the entry when it lies in the viewer's audit.read cover, else None."""
    params = SqlParams(entry_id)
    cond = scope_condition(ctx.cover("audit.read"), params, "u")
    if cond == "false":
        return None
    row = await ctx.pool.fetchrow(
        f"select {AUDIT_COLUMNS} from audit_log a left join units u on u.id = a.unit_id where a.id = $1 and {cond}",
        *params.values,
    )
    return None if row is None else _row(row)
