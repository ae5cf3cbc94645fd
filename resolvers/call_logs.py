"""Call logs a viewer may read (`call_log_condition`): of voters under their outreach.manage
cover, and their own calls of voters still under their outreach.call cover. `Voter.calls` reads
the logs of a page of voters in one statement; `node(id)` one log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from core.errors import BadUserInput
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, validate_first
from resolvers.page import Page
from resolvers.scope import SqlParams, scope_condition

_BIGINT_MAX = 2**63 - 1


@dataclass(slots=True)
class CallLogRow:
    id: int
    voter_id: int
    outcome: str
    problems: str | None
    benefit_received: bool | None
    desired_benefit: str | None
    satisfaction: int | None
    notes: str | None
    called_at: dt.datetime
    caller_id: str


CALL_LOG_COLUMNS = tuple(f.name for f in fields(CallLogRow))
CALL_LOG_SELECT = ", ".join(f"cl.{c}" for c in CALL_LOG_COLUMNS)


def call_log_condition(ctx: ReadContext, params: SqlParams, log_alias: str = "cl", voter_alias: str = "v") -> str:
    """Call logs a viewer may read: of voters under the viewer's outreach.manage cover, and the
    viewer's own calls of voters still under their outreach.call cover (a revoked caller loses
    their past logs at once, as they lose their list)."""
    manage = scope_condition(ctx.cover("outreach.manage"), params, voter_alias, pages=True)
    reach = scope_condition(ctx.cover("outreach.call"), params, voter_alias, pages=True)
    own = "false" if reach == "false" else f"({log_alias}.caller_id = {params.add(ctx.viewer.user_id)} and {reach})"
    if manage == "false":
        return own
    return f"({manage} or {own})"


async def calls_for_voters(
    ctx: ReadContext, voter_ids: Sequence[int], first: int | None, after: str | None
) -> dict[int, Page[CallLogRow] | BadUserInput]:
    """Each voter's call logs readable by the viewer, newest first, for all voters in one
    statement. A cursor belongs to one voter's list: under another voter it is BAD_USER_INPUT."""
    n = validate_first(first, 20)
    result: dict[int, Page[CallLogRow] | BadUserInput] = {}
    codecs: dict[int, CursorCodec] = {}
    starts: dict[int, int] = {}
    for vid in voter_ids:
        codecs[vid] = CursorCodec(ctx.settings, "voter:calls", binding(ctx.viewer.user_id, vid))
        try:
            start = codecs[vid].decode(after, (int,))
        except BadUserInput as exc:
            result[vid] = exc
            continue
        starts[vid] = start[0] if start else _BIGINT_MAX
        result[vid] = Page()
    if not starts:
        return result
    params = SqlParams(list(starts), list(starts.values()))
    visible = call_log_condition(ctx, params)
    limit = params.add(n + 1)
    rows = await ctx.pool.fetch(
        f"""select * from (
                select {CALL_LOG_SELECT}, s.start,
                       count(*) over (partition by cl.voter_id) as total,
                       row_number() over (partition by cl.voter_id order by cl.id desc) as newest,
                       count(*) filter (where cl.id < s.start) over (
                           partition by cl.voter_id order by cl.id desc rows between unbounded preceding and current row
                       ) as rn
                from unnest($1::bigint[], $2::bigint[]) s(voter_id, start)
                join call_logs cl on cl.voter_id = s.voter_id
                join voters v on v.id = cl.voter_id
                where {visible}
            ) t where (id < start and rn <= {limit}) or newest = 1 order by voter_id, id desc""",
        *params.values,
    )
    for row in rows:
        page = result[row["voter_id"]]
        assert isinstance(page, Page)
        page.total = row["total"]
        if row["id"] >= row["start"]:
            continue  # a row before the cursor, fetched only to carry the total
        if row["rn"] > n:
            page.has_next = True
            continue
        page.items.append(call_log_of(row))
        page.cursors.append(codecs[row["voter_id"]].encode([row["id"]]))
    return result


def call_log_of(row: Mapping[str, Any], prefix: str = "") -> CallLogRow:
    """A call log from its row (its columns named `prefix` + field name)."""
    return CallLogRow(**{c: row[prefix + c] for c in CALL_LOG_COLUMNS})


async def call_log_by_id(ctx: ReadContext, log_id: int) -> CallLogRow | None:
    """One call log when the viewer may read it and sees its voter (node(id))."""
    params = SqlParams(log_id)
    visible = call_log_condition(ctx, params)
    row = await ctx.pool.fetchrow(
        f"select {CALL_LOG_SELECT} from call_logs cl join voters v on v.id = cl.voter_id "
        f"where cl.id = $1 and {visible}",
        *params.values,
    )
    return call_log_of(row) if row else None
