"""Election day (issue 16): turnout marking, live turnout, and the get-out-the-vote list.

Marking. `mark_voted(booth, serials)`: holders of turnout.mark over the booth (policy.csv: the
booth president) or over one of its roll pages (a page in-charge: only that page's voters; other
serials are `unknown` to them) mark voters as having voted, by roll serial, in batches of up to
MAX_SERIALS. Only on the booth's poll date (of any election covering it) and between
POLL_OPENS_AT and POLL_CLOSES_AT (ELECTION_TIMEZONE), by the injected clock; otherwise
POLL_NOT_OPEN. A booth that is absent, not a booth, or not visible is NOT_FOUND; visible without
turnout.mark, FORBIDDEN. Idempotent: a serial marked before stays as it was (counted as
`already`); serials the booth's roll does not hold are returned as `unknown`. The whole batch,
the marks, their rollups (statement triggers, migration 0009) and the audit entry
(`turnout.mark`, the booth, records = voters newly marked) is ONE SQL statement: one round trip
per batch, atomic without an explicit transaction.

Undo. `undo_marks(booth, serials)`: the same permission; removes the marks of those serials made
less than TURNOUT_UNDO_S seconds ago (older ones are returned as `expired`), audited as
`turnout.undo`; also one statement.

Live turnout. `turnout(election, unit)`: for viewers with stats.read there, over the part of the
unit that both their stats.read cover and the election's phases hold (Cover.intersection): voted
and eligible (unit_rollups' voters), voted by hour, and voted by caste category. The totals are
not suppressed; the caste breakdown is live and in clear only with voter.read_sensitive over every
unit it sums, else the release of resolvers/turnout_release.py (protected over the tree, over time
and against the released composition, at a fixed cadence). Marks and rollups commit together, so
turnout is exact once a mark commits.

Get out the vote. `gotv(election, unit)`: voters under the unit, inside the viewer's turnout.mark
AND voter.read covers and a phase of the election, not yet marked, consent not DENIED; scheme
beneficiaries first, then by booth and serial (keyset). Optionally one page of the roll
(serials serial_from..serial_to). Each voter goes through the one redaction rule, so the booth
president (voter.read_contact) gets phones to call, audited as reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from core.clock import Clock
from core.errors import BadUserInput, Forbidden, NotFound, PollNotOpen
from core.settings import Settings
from core.viewer import Viewer
from policies import Cover, PolicyEngine
from resolvers import audit, turnout_release
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, validate_first
from resolvers.elections import ElectionRow, election_by_code
from resolvers.input_checks import check_text
from resolvers.model_code import local_now
from resolvers.page import Page
from resolvers.places import find_unit
from resolvers.redaction import VoterVisibility
from resolvers.roll_pages import place_of
from resolvers.scope import SqlParams, reach_condition, scope_condition, under_condition
from resolvers.stats import KEY_ORDER, BucketData
from resolvers.turnout_release import released_turnout
from resolvers.visibility import visible_cover
from resolvers.voters import NO_SCHEMES, SCHEMES_JOIN, VOTER_COLUMNS, VoterRecord, Want, record_of, redacted_row

MAX_SERIALS = 100
MAX_SERIAL = 10_000_000


@dataclass(slots=True)
class MarkResult:
    booth_code: str
    elections: list[str]
    marked: int
    already: list[int]
    unknown: list[int]


@dataclass(slots=True)
class UndoResult:
    booth_code: str
    undone: int
    expired: list[int]
    not_marked: list[int]


def _check_serials(serials: Sequence[int]) -> list[int]:
    if not isinstance(serials, (list, tuple)) or not 1 <= len(serials) <= MAX_SERIALS:
        raise BadUserInput(f"serials must hold 1 to {MAX_SERIALS} serial numbers", argument="serials")
    for s in serials:
        if not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= MAX_SERIAL:
            raise BadUserInput(f"serials must be between 1 and {MAX_SERIAL}", argument="serials")
    return sorted(set(serials))


def _booth_cte(viewer: Viewer, policy: PolicyEngine, params: SqlParams) -> tuple[str, str]:
    """The booth (alias b) named by $1, with whether the viewer sees it and may mark there, and
    the condition on its voters (alias v) the viewer may mark: a page in-charge reaches their booth
    through their page, and only that page's voters."""
    marking = policy.cover(viewer, "turnout.mark")
    visible = reach_condition(visible_cover(viewer), params, "u")
    allowed = reach_condition(marking, params, "u")
    cte = f"""b as (select u.id, u.code, u.level, u.state_id, u.region_id, u.district_id, u.mandal_id,
                       ({visible}) as visible, ({visible}) and ({allowed}) as allowed
                from units u where u.code = $1)"""
    return cte, scope_condition(marking, params, "v", pages=True)


def _refusal(row: Mapping[str, Any] | None) -> None:
    if row is None or not row["visible"]:
        raise NotFound("No such booth")
    if row["level"] != "BOOTH":
        raise BadUserInput("booth must be the code of a booth", argument="booth")
    if not row["allowed"]:
        raise Forbidden("You may not mark turnout at this booth")


async def mark_voted(
    conn: asyncpg.Connection | asyncpg.Pool,
    viewer: Viewer,
    policy: PolicyEngine,
    clock: Clock,
    settings: Settings,
    *,
    booth: str,
    serials: Sequence[int],
) -> MarkResult:
    check_text(booth, "booth", limit=200, required=True)
    wanted = _check_serials(serials)
    now = clock.now()
    here = local_now(clock, settings)
    params = SqlParams(booth, wanted, here.date(), now, here.hour, viewer.user_id)
    booth_cte, markable = _booth_cte(viewer, policy, params)
    open_now = settings.poll_opens_at <= here.time().replace(tzinfo=None) < settings.poll_closes_at
    hours_ok = params.add(open_now)
    detail = params.add(audit.detail_json(serials=len(wanted)))
    row = await conn.fetchrow(
        f"""with {booth_cte},
        polls as (select p.election_id, e.code from b join election_phases p
                    on p.unit_id in (b.state_id, b.region_id, b.district_id, b.mandal_id, b.id)
                  join elections e on e.id = p.election_id
                  where b.allowed and b.level = 'BOOTH' and p.poll_date = $3),
        found as (select v.id, v.serial_number, v.caste_category from b join voters v on v.booth_id = b.id
                  where b.allowed and b.level = 'BOOTH' and v.serial_number = any($2::int[]) and {markable}),
        ins as (insert into turnout_marks (election_id, voter_id, booth_id, marked_at, local_hour, caste_category,
                                           marked_by)
                select p.election_id, f.id, (select id from b), $4, $5, f.caste_category, $6
                from polls p cross join found f where {hours_ok}
                order by 1, 2
                on conflict (election_id, voter_id) do nothing
                returning voter_id),
        aud as (insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
                select $6, 'turnout.mark', b.id, b.code, (select count(distinct voter_id) from ins), {detail}
                from b where b.allowed and {hours_ok} and exists (select 1 from polls)
                returning id)
        select b.visible, b.allowed, b.level, b.code,
               array(select code from polls order by code) as elections,
               array(select serial_number from found order by serial_number) as found,
               array(select f.serial_number from found f where f.id in (select voter_id from ins)) as marked,
               (select count(*) from aud) as audited
        from b""",
        *params.values,
    )
    _refusal(row)
    assert row is not None
    if not row["elections"]:
        raise PollNotOpen(f"No election polls at {booth} on {here.date().isoformat()}")
    if not open_now:
        raise PollNotOpen(
            f"The poll at {booth} is open from {settings.poll_opens_at:%H:%M} to {settings.poll_closes_at:%H:%M}"
            f" ({settings.election_timezone})"
        )
    found, marked = list(row["found"]), set(row["marked"])
    return MarkResult(
        booth_code=row["code"],
        elections=list(row["elections"]),
        marked=len(marked),
        already=[s for s in found if s not in marked],
        unknown=[s for s in wanted if s not in set(found)],
    )


async def undo_marks(
    conn: asyncpg.Connection | asyncpg.Pool,
    viewer: Viewer,
    policy: PolicyEngine,
    clock: Clock,
    settings: Settings,
    *,
    booth: str,
    serials: Sequence[int],
) -> UndoResult:
    check_text(booth, "booth", limit=200, required=True)
    wanted = _check_serials(serials)
    now = clock.now()
    params = SqlParams(booth, wanted, now - dt.timedelta(seconds=settings.turnout_undo_s), viewer.user_id)
    booth_cte, markable = _booth_cte(viewer, policy, params)
    row = await conn.fetchrow(
        f"""with {booth_cte},
        here as (select p.election_id from b join election_phases p
                   on p.unit_id in (b.state_id, b.region_id, b.district_id, b.mandal_id, b.id)),
        marks as (select m.election_id, m.voter_id, m.marked_at, v.serial_number
                  from b join voters v on v.booth_id = b.id
                  -- by the primary key, (election, voter) pairs: a mark's election covers its booth,
                  -- and no index leads with voter_id (a seq scan of every mark otherwise)
                  join turnout_marks m on m.election_id = any(array(select election_id from here))
                                       and m.voter_id = v.id
                  where b.allowed and b.level = 'BOOTH' and v.serial_number = any($2::int[]) and {markable}),
        del as (delete from turnout_marks t using marks m
                where t.election_id = m.election_id and t.voter_id = m.voter_id and m.marked_at >= $3
                returning t.voter_id),
        aud as (insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
                select $4, 'turnout.undo', b.id, b.code, (select count(distinct voter_id) from del),
                       {params.add(audit.detail_json(serials=len(wanted)))}
                from b where b.allowed and b.level = 'BOOTH'
                returning id)
        select b.visible, b.allowed, b.level, b.code,
               array(select distinct serial_number from marks where marked_at < $3) as expired,
               array(select distinct serial_number from marks) as marked,
               (select count(distinct voter_id) from del) as undone,
               (select count(*) from aud) as audited
        from b""",
        *params.values,
    )
    _refusal(row)
    assert row is not None
    marked = set(row["marked"])
    return UndoResult(
        booth_code=row["code"],
        undone=int(row["undone"]),
        expired=sorted(row["expired"]),
        not_marked=[s for s in wanted if s not in marked],
    )


# ------------------------------------------------------------------- live turnout ---
@dataclass(slots=True)
class TurnoutData:
    election: ElectionRow
    unit_code: str
    voted: int = 0
    eligible: int = 0
    by_hour: list[BucketData] = field(default_factory=list)
    by_caste_category: list[BucketData] = field(default_factory=list)
    suppressed: bool = False
    castes_as_of: dt.datetime | None = None  # by_caste_category is the release of then; None: live


async def turnout(ctx: ReadContext, *, election: str, unit: str) -> TurnoutData | None:
    """None when the election or the unit is not visible, or the viewer has no stats.read there."""
    check_text(election, "election", limit=200, required=True)
    check_text(unit, "unit", limit=200, required=True)
    found = await election_by_code(ctx.pool, election, ctx.viewer)
    if found is None:
        return None
    place = await find_unit(ctx.pool, unit)
    if place is None:
        return None
    if not visible_cover(ctx.viewer).covers(place):
        return None
    stats = ctx.cover("stats.read").within(place)
    if stats.empty:
        return None
    every_phase = await election_by_code(ctx.pool, election)
    assert every_phase is not None
    sources = stats.intersection(Cover(tuple(p.place for p in every_phase.phases)))
    data = TurnoutData(election=found, unit_code=place.code)
    if sources.empty:
        return data
    ids = sorted(u.id for u in sources.units)
    rows = await ctx.pool.fetch(
        """select 'voters' as dim, '' as key, coalesce(sum(n), 0)::bigint as n from unit_rollups
           where unit_id = any($2::int[]) and dim = 'voters' and key = ''
           union all
           select dim, key, sum(n)::bigint from turnout_rollups
           where election_id = $1 and unit_id = any($2::int[]) group by dim, key""",
        found.id,
        ids,
    )
    hours: dict[str, int] = {}
    castes: dict[str, int] = {}
    for r in rows:
        if r["dim"] == "voters":
            data.eligible = int(r["n"])
        elif r["dim"] == "voted":
            data.voted = int(r["n"])
        elif r["dim"] == "hour" and r["n"]:
            hours[r["key"]] = int(r["n"])
        elif r["dim"] == "caste_category" and r["n"]:
            castes[r["key"]] = int(r["n"])
    data.by_hour = [BucketData(k, hours[k]) for k in sorted(hours)]
    sensitive = ctx.cover("voter.read_sensitive")
    shown: Mapping[str, int | None] = castes
    if not all(sensitive.covers(u) for u in sources.units):
        # Not live: the release over the tree and over time (resolvers/turnout_release.py).
        release = await released_turnout(ctx.pool, ctx.settings, found.id, ctx.clock.now(), ids)
        shown = turnout_release.released_sum(release.cells, ids)
        data.castes_as_of = release.cutoff
        data.suppressed = any(n is None for n in shown.values())
    order = KEY_ORDER["caste_category"]
    data.by_caste_category = [BucketData(k, shown[k]) for k in order if k in shown]
    return data


# -------------------------------------------------------------------- get out the vote ---
GOTV_RANK = "(case when exists (select 1 from beneficiaries bn where bn.voter_id = v.id) then 0 else 1 end)"


async def gotv(
    ctx: ReadContext,
    *,
    election: str,
    unit: str,
    serial_from: int | None = None,
    serial_to: int | None = None,
    first: int | None = 50,
    after: str | None = None,
    want: Want = Want(),
    page: int | None = None,
) -> Page[VoterRecord]:
    n = validate_first(first, 50)
    check_text(election, "election", limit=200, required=True)
    check_text(unit, "unit", limit=200, required=True)
    for name, value in (("serialFrom", serial_from), ("serialTo", serial_to)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise BadUserInput(f"{name} must be a positive serial number", argument=name)
    codec = CursorCodec(ctx.settings, "gotv", binding(ctx.viewer.user_id, election, unit, serial_from, serial_to, page))
    start = codec.decode(after, (int, int, int, int))
    result: Page[VoterRecord] = Page()
    found = await election_by_code(ctx.pool, election, ctx.viewer)
    if found is None:
        return result
    place = await place_of(ctx, unit, page)  # a roll page of the booth for its in-charge (docs/pages.md)
    if place is None:
        return result
    reach = ctx.cover("turnout.mark").within(place).intersection(ctx.cover("voter.read"))
    every_phase = await election_by_code(ctx.pool, election)
    assert every_phase is not None
    reach = reach.intersection(Cover(tuple(p.place for p in every_phase.phases)))
    if reach.empty:
        return result
    params = SqlParams(found.id)
    where = [
        scope_condition(reach, params, "v", pages=True),
        under_condition(place, params, "v", pages=True),
        "v.contact_consent <> 'DENIED'",
        "not exists (select 1 from turnout_marks m where m.election_id = $1 and m.voter_id = v.id)",
    ]
    if serial_from is not None:
        where.append(f"v.serial_number >= {params.add(serial_from)}")
    if serial_to is not None:
        where.append(f"v.serial_number <= {params.add(serial_to)}")
    if want.total:
        result.total = int(
            await ctx.pool.fetchval(f"select count(*) from voters v where {' and '.join(where)}", *params.values)
        )
    if not want.page:
        return result
    keyset = f"{GOTV_RANK}, v.booth_id, v.serial_number, v.id"
    if start is not None:
        marks = ", ".join(params.add(x) for x in start)
        where.append(f"({keyset}) > ({marks})")
    rows = await ctx.pool.fetch(
        f"""select {VOTER_COLUMNS}, false as on_call_list, {GOTV_RANK} as gotv_rank,
                   {"sc.*" if want.schemes else NO_SCHEMES}
            from voters v join units b on b.id = v.booth_id {SCHEMES_JOIN if want.schemes else ""}
            where {" and ".join(where)} order by {keyset} limit {params.add(n + 1)}""",
        *params.values,
    )
    result.has_next = len(rows) > n
    vis = VoterVisibility(contact=ctx.cover("voter.read_contact"), sensitive=ctx.cover("voter.read_sensitive"))
    for r in rows[:n]:
        result.items.append(record_of(r, redacted_row(ctx, r, vis, want)))
        result.cursors.append(codec.encode([r["gotv_rank"], r["booth_id"], r["serial_number"], r["id"]]))
    return result
