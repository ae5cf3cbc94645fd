"""Outreach: campaigns, call lists, call logs.

Who sees what (access-policy.md, and the choices made where it is silent):
- A campaign is managed (created, assigned, its full progress seen) by holders of
  outreach.manage over its unit.
- Callers are the holders of outreach.call (the policy decides which roles: CALLER and
  BOOTH_PRESIDENT by default). A caller sees their own entries of a campaign only while it is
  open (opens_on <= today <= closes_on, today by the injected clock in ELECTION_TIMEZONE), never a
  voter whose consent is DENIED, only for
  voters under their outreach.call cover (so a revoked caller loses the list at once, and no
  entry reaches past the caller's own reach), and never an entry they assigned to themselves
  (docs/access-rules.md). Each entry's voter shows the roll fields, booth, schemes and the phone
  in clear (redaction's on_call_list) and nothing sensitive, whatever else the caller may read.
- `campaigns` lists the campaigns whose unit lies in the viewer's outreach.manage cover, and
  besides them the open campaigns in which the viewer has such visible entries; `progress`
  of the latter counts only the viewer's own entries.
- assignCalls: the caller must be a user one of whose assignments the manager can see (else
  NOT_FOUND, like an unknown user), not the manager themselves (FORBIDDEN), and who holds
  outreach.call at a unit inside the campaign's unit (else BAD_USER_INPUT: a known person who
  cannot call there is an input error). `unit` must lie inside the campaign's unit (not visible:
  NOT_FOUND; visible but outside: BAD_USER_INPUT) and the caller's outreach.call must reach into
  it (else BAD_USER_INPUT). Only voters under the caller's outreach.call cover are assigned; the
  others are skipped and the count returned is what was assigned. A campaign past its closesOn
  takes no more assignments (BAD_USER_INPUT).
- A voter whose consent becomes DENIED through a survey write or an erasure leaves every call
  list at once (`leave_call_lists`): their entries and the calls logged on them are deleted, so
  progress and the outreach rollups no longer count them.

Reads take the request context (resolvers.context.ReadContext); mutations take (conn, viewer,
policy) and run in one transaction with their audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import BadUserInput, Forbidden, NotFound
from core.settings import Settings
from core.viewer import UnitPlace, Viewer, load_viewer, unit_place
from models import CallOutcome
from policies import Cover, PolicyEngine
from resolvers import audit, model_code
from resolvers.call_logs import CALL_LOG_COLUMNS, CallLogRow, call_log_of
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, validate_first
from resolvers.input_checks import check_enum, check_text, parse_date
from resolvers.page import Page
from resolvers.places import find_unit
from resolvers.redaction import VoterVisibility
from resolvers.scope import SqlParams, scope_condition, under_condition
from resolvers.unit_of_work import in_transaction
from resolvers.units import UnitRow
from resolvers.visibility import has_own_entries, open_campaign, own_entries, require_visible, visible_cover
from resolvers.voters import (
    NO_FILTER,
    SCHEMES_JOIN,
    VOTER_COLUMNS,
    VoterFilterArgs,
    VoterRecord,
    Want,
    filter_conditions,
    voter_record,
)

MAX_ASSIGN = 10_000
OUTCOMES = [o.value for o in CallOutcome]
PURPOSES = ("FEEDBACK", "BENEFIT_REGISTRATION")
NOTHING = Cover(())
CALL_LIST_VIEW = VoterVisibility(contact=NOTHING, sensitive=NOTHING)


# --------------------------------------------------------------------------- records ---
@dataclass(frozen=True, slots=True)
class SchemeRef:
    code: str
    name: str
    name_hi: str | None


@dataclass(slots=True)
class OutreachStatsRow:
    assigned: int = 0
    called: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)

    def buckets(self) -> list[tuple[str, int]]:
        """(outcome, count) in the enum's order, zero counts left out."""
        return [(o, self.by_outcome[o]) for o in OUTCOMES if self.by_outcome.get(o)]


@dataclass(slots=True)
class CampaignRow:
    id: int
    name: str
    unit: UnitRow
    schemes: list[SchemeRef]
    opens_on: dt.date
    closes_on: dt.date
    open: bool
    managed: bool  # the viewer holds outreach.manage over the campaign's unit
    purpose: str = "FEEDBACK"


@dataclass(slots=True)
class CallEntry:
    """One entry of a call list: what a CallAssignment shows."""

    id: int
    campaign: CampaignRow
    voter: VoterRecord
    caller_id: str
    last_call: CallLogRow | None


CAMPAIGN_SELECT = """
c.id as c_id, c.name as c_name, c.schemes as c_schemes, c.opens_on as c_opens_on,
c.closes_on as c_closes_on, c.purpose as c_purpose,
array(select s.name from unnest(c.schemes) with ordinality x(code, i) join schemes s on s.code = x.code
      order by x.i) as c_scheme_names,
array(select s.name_hi from unnest(c.schemes) with ordinality x(code, i) join schemes s on s.code = x.code
      order by x.i) as c_scheme_names_hi,
cu.id as cu_id, cu.code as cu_code, cu.level as cu_level, cu.path as cu_path, cu.parent_id as cu_parent_id,
cu.name as cu_name, cu.name_hi as cu_name_hi, cu.state_id as cu_state_id, cu.region_id as cu_region_id,
cu.district_id as cu_district_id, cu.mandal_id as cu_mandal_id, cu.booth_id as cu_booth_id
"""
CAMPAIGN_FROM = "from campaigns c join units cu on cu.id = c.unit_id"

LOG_SELECT = ", ".join(f"l.{c} as l__{c}" for c in CALL_LOG_COLUMNS)


def _campaign_place(r: Mapping[str, Any]) -> UnitPlace:
    return unit_place({k[3:]: r[k] for k in r.keys() if k.startswith("cu_")})


def _campaign(r: Mapping[str, Any], manage: Cover, today: dt.date) -> CampaignRow:
    place = _campaign_place(r)
    names, names_hi = list(r["c_scheme_names"]), list(r["c_scheme_names_hi"])
    known = len(names) == len(r["c_schemes"])
    return CampaignRow(
        id=r["c_id"],
        name=r["c_name"],
        unit=UnitRow(place=place, name=r["cu_name"], name_hi=r["cu_name_hi"], parent_id=r["cu_parent_id"]),
        schemes=[
            SchemeRef(code, names[i] if known else code, names_hi[i] if known else None)
            for i, code in enumerate(r["c_schemes"])
        ],
        opens_on=r["c_opens_on"],
        closes_on=r["c_closes_on"],
        open=r["c_opens_on"] <= today <= r["c_closes_on"],
        managed=manage.covers(place),
        purpose=r["c_purpose"],
    )


def _today(ctx: ReadContext) -> dt.date:
    return model_code.local_today(ctx.clock, ctx.settings)


def _log(r: Mapping[str, Any]) -> CallLogRow | None:
    if r["l__id"] is None:
        return None
    return call_log_of(r, "l__")


def _call_list_voter(ctx: ReadContext, r: Mapping[str, Any], want: Want) -> VoterRecord:
    """The voter as a caller sees it on their list: phone in clear, nothing sensitive. `want`:
    what the selection asks for, so that a list read without phones audits no phone read."""
    return voter_record(ctx, r, CALL_LIST_VIEW, want, on_call_list=True)


async def leave_call_lists(conn: asyncpg.Connection, *, voter_id: int) -> int:
    """Takes a voter whose consent became DENIED off every call list: their entries and the
    calls logged on them go (consent withdrawn: no further processing for outreach), and the
    row triggers take them out of the outreach rollups. Returns how many entries went. Call it
    inside the transaction of the write that set DENIED."""
    await conn.execute(
        "delete from call_logs where assignment_id in (select id from call_assignments where voter_id = $1)",
        voter_id,
    )
    status = await conn.execute("delete from call_assignments where voter_id = $1", voter_id)
    return int(status.split()[-1])


ENTRY_FROM = """
from call_assignments ca
join campaigns c on c.id = ca.campaign_id
join units cu on cu.id = c.unit_id
join voters v on v.id = ca.voter_id
"""


# ---------------------------------------------------------------------- campaigns ---
async def create_campaign(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    *,
    name: str,
    unit: str,
    schemes: list[str],
    opens_on: str,
    closes_on: str,
    purpose: str = "FEEDBACK",
    clock: Clock = SYSTEM_CLOCK,
    settings: Settings | None = None,
) -> CampaignRow:
    """`purpose` BENEFIT_REGISTRATION is refused (MODEL_CODE_IN_FORCE) when the campaign's dates
    meet the Model Code period of an election covering part of its unit (resolvers/model_code.py)."""
    name = (check_text(name, "name", limit=200, required=True) or "").strip()
    purpose = check_enum(purpose, PURPOSES, "purpose") or "FEEDBACK"
    check_text(unit, "unit", limit=200, required=True)
    opens, closes = parse_date(opens_on, "opensOn"), parse_date(closes_on, "closesOn")
    if opens is None or closes is None:
        raise BadUserInput("opensOn and closesOn are required")
    if closes < opens:
        raise BadUserInput("closesOn must not be before opensOn", argument="closesOn")
    codes = list(dict.fromkeys(check_text(s, "schemes", limit=50, required=True) or "" for s in schemes))
    if not codes:
        raise BadUserInput("schemes must name at least one scheme", argument="schemes")
    known = {r["code"] for r in await conn.fetch("select code from schemes where code = any($1::text[])", codes)}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise BadUserInput(f"Unknown scheme codes: {', '.join(unknown)}", argument="schemes")
    place = require_visible(
        viewer,
        policy,
        await find_unit(conn, unit),
        "outreach.manage",
        absent="No such unit",
        refused="You may not manage outreach in this unit",
    )
    if purpose == "BENEFIT_REGISTRATION":
        election = await model_code.election_in_force(conn, place, opens, closes)
        if election is not None:
            rule = model_code.rule(policy, "BENEFIT_REGISTRATION")
            raise await model_code.refuse(
                conn, viewer, rule, unit_id=place.id, unit_code=place.code, election=election, what="createCampaign"
            )

    async def work() -> CampaignRow:
        campaign_id = await conn.fetchval(
            """insert into campaigns (name, unit_id, schemes, opens_on, closes_on, created_by, purpose)
               values ($1, $2, $3, $4, $5, $6, $7) returning id""",
            name,
            place.id,
            codes,
            opens,
            closes,
            viewer.user_id,
            purpose,
        )
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="outreach.campaign",
            unit_id=place.id,
            unit_code=place.code,
            records=0,
            detail=audit.detail_json(campaign=campaign_id, name=name, schemes=codes, purpose=purpose),
        )
        row = await conn.fetchrow(f"select {CAMPAIGN_SELECT} {CAMPAIGN_FROM} where c.id = $1", campaign_id)
        return _campaign(row, policy.cover(viewer, "outreach.manage"), _local_today(clock, settings))

    return await in_transaction(conn, work)


def _local_today(clock: Clock, settings: Settings | None) -> dt.date:
    """Today in ELECTION_TIMEZONE by the injected clock: when a campaign is open (core/clock.py)."""
    return model_code.local_today(clock, model_code.settings_or_default(settings))


async def _managed_campaign(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, campaign_id: int, today: dt.date
) -> CampaignRow:
    """NOT_FOUND when absent or its unit is not visible; FORBIDDEN without outreach.manage."""
    row = await conn.fetchrow(f"select {CAMPAIGN_SELECT} {CAMPAIGN_FROM} where c.id = $1", campaign_id)
    if row is None:
        raise NotFound("No such campaign")
    campaign = _campaign(row, policy.cover(viewer, "outreach.manage"), today)
    require_visible(
        viewer,
        policy,
        campaign.unit.place,
        "outreach.manage",
        absent="No such campaign",
        refused="You may not manage this campaign",
    )
    return campaign


async def _check_caller(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, caller_id: str, campaign: UnitPlace
) -> Cover:
    """The caller's outreach.call cover, once they are known to be a caller the viewer may
    assign inside the campaign's unit."""
    caller = await load_viewer(conn, caller_id)
    seen = visible_cover(viewer)
    if caller is None or not any(seen.covers(a.unit) for a in caller.assignments):
        raise NotFound("No such caller")
    if caller.user_id == viewer.user_id:
        # A manager's own list would show them phones their other roles may not read.
        raise Forbidden("You may not assign calls to yourself")
    inside = [a.unit for a in caller.assignments if a.unit.is_under(campaign)]
    ok = any(policy.allows(caller, "outreach.call", p) for p in inside)
    reach = policy.cover(caller, "outreach.call")
    policy.cover(viewer, "outreach.manage")  # leave the engine synced with the viewer
    if not ok:
        raise BadUserInput("callerId must be a user who may call inside the campaign's unit", argument="callerId")
    return reach


async def assign_calls(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    *,
    campaign_id: int,
    caller_id: str,
    unit: str | None = None,
    filt: VoterFilterArgs | None = None,
    limit: int = 100,
    one_per_household: bool = False,
    clock: Clock = SYSTEM_CLOCK,
    settings: Settings | None = None,
) -> int:
    """Assigns up to `limit` voters to the caller in one INSERT ... SELECT; returns how many.
    `one_per_household`: the first eligible voter of each household in roll order, none of a
    household already on this campaign's lists (a voter with no house number is a household
    of their own, docs/pages.md).
    unique(campaign_id, voter_id) + ON CONFLICT DO NOTHING keeps concurrent calls from ever
    putting a voter twice on one campaign's lists."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_ASSIGN:
        raise BadUserInput(f"limit must be between 0 and {MAX_ASSIGN}", argument="limit")
    check_text(caller_id, "callerId", limit=200, required=True)
    check_text(unit, "unit", limit=200)
    filt = filt or NO_FILTER
    today = _local_today(clock, settings)
    campaign = await _managed_campaign(conn, viewer, policy, campaign_id, today)
    caller_reach = await _check_caller(conn, viewer, policy, caller_id, campaign.unit.place)
    place = campaign.unit.place
    if unit is not None:
        found = await find_unit(conn, unit)
        if found is None or not visible_cover(viewer).covers(found):
            raise NotFound("No such unit")
        if not found.is_under(place):
            raise BadUserInput("unit must lie inside the campaign's unit", argument="unit")
        place = found
    reach = caller_reach.within(place)
    if reach.empty:
        raise BadUserInput("The caller may not call inside this unit", argument="unit")
    if filt.sensitive and not policy.allows(viewer, "voter.read_sensitive", place):
        raise Forbidden(
            f"Filtering by {' and '.join(filt.sensitive)} needs voter.read_sensitive over the unit",
            fields=filt.sensitive,
        )
    if campaign.closes_on < today:
        raise BadUserInput("The campaign has closed", argument="campaignId")
    # The Model Code: no lists chosen by caste, no registering for benefits, while it is in force.
    barred = "CASTE_APPEAL" if filt.caste_category is not None else None
    if campaign.purpose == "BENEFIT_REGISTRATION":
        barred = "BENEFIT_REGISTRATION"
    if barred is not None:
        election = await model_code.election_in_force(conn, place, today)
        if election is not None:
            raise await model_code.refuse(
                conn,
                viewer,
                model_code.rule(policy, barred),
                unit_id=place.id,
                unit_code=place.code,
                election=election,
                what="assignCalls",
            )

    params = SqlParams(campaign.id, caller_id, viewer.user_id, [s.code for s in campaign.schemes])
    where = [
        under_condition(place, params, "v", pages=True),
        scope_condition(reach, params, "v", pages=True),  # only where the caller's own outreach.call reaches
        "v.phone is not null",
        "v.contact_consent <> 'DENIED'",
        "exists (select 1 from beneficiaries bn where bn.voter_id = v.id and bn.scheme_code = any($4::text[]))",
        "not exists (select 1 from call_assignments x where x.campaign_id = $1 and x.voter_id = v.id)",
        *filter_conditions(filt, params),
    ]
    source = f"""select v.id, v.booth_id, v.serial_number from voters v where {" and ".join(where)}"""
    if one_per_household:
        source = f"""select distinct on (v.booth_id, coalesce(v.household, '#' || v.id)) v.id, v.booth_id,
                            v.serial_number
                     from voters v
                     where {" and ".join(where)} and not exists (
                         select 1 from call_assignments x join voters h on h.id = x.voter_id
                         where x.campaign_id = $1 and h.booth_id = v.booth_id and h.household = v.household)
                     order by v.booth_id, coalesce(v.household, '#' || v.id), v.serial_number, v.id"""
    sql = f"""
        insert into call_assignments (campaign_id, voter_id, caller_id, assigned_by)
        select $1, v.id, $2, $3 from ({source}) v
        order by v.booth_id, v.serial_number, v.id
        limit {params.add(limit)}
        on conflict (campaign_id, voter_id) do nothing
    """

    async def work() -> int:
        status = await conn.execute(sql, *params.values)
        count = int(status.split()[-1])
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="outreach.assign",
            unit_id=place.id,
            unit_code=place.code,
            records=count,
            detail=audit.detail_json(
                campaign=campaign.id, caller=caller_id, **({"one_per_household": True} if one_per_household else {})
            ),
        )
        return count

    return await in_transaction(conn, work)


async def campaigns(
    ctx: ReadContext,
    *,
    unit: str | None = None,
    open_only: bool = False,
    first: int | None = 50,
    after: str | None = None,
    want_total: bool = True,
) -> Page[CampaignRow]:
    """Managed campaigns and open campaigns holding the viewer's own visible entries, newest first."""
    n = validate_first(first, 50)
    check_text(unit, "unit", limit=200)
    codec = CursorCodec(ctx.settings, "campaigns", binding(ctx.viewer.user_id, unit, bool(open_only)))
    start = codec.decode(after, (int,))
    page: Page[CampaignRow] = Page()
    manage = ctx.cover("outreach.manage")
    params = SqlParams()
    managed = scope_condition(manage, params, "cu")
    as_caller = has_own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    if managed == "false" and as_caller == "false":
        return page
    where = [f"({managed} or {as_caller})"]
    if unit is not None:
        place = await find_unit(ctx.pool, unit)
        if place is None or not visible_cover(ctx.viewer).covers(place):
            return page
        where.append(under_condition(place, params, "cu"))
    if open_only:
        where.append(open_campaign(params, _today(ctx)))
    base = " and ".join(where)
    if want_total:
        page.total = int(await ctx.pool.fetchval(f"select count(*) {CAMPAIGN_FROM} where {base}", *params.values))
    if start is not None:
        base += f" and c.id < {params.add(start[0])}"
    rows = await ctx.pool.fetch(
        f"select {CAMPAIGN_SELECT} {CAMPAIGN_FROM} where {base} order by c.id desc limit {params.add(n + 1)}",
        *params.values,
    )
    page.has_next = len(rows) > n
    for r in rows[:n]:
        page.items.append(_campaign(r, manage, _today(ctx)))
        page.cursors.append(codec.encode([r["c_id"]]))
    return page


async def campaign_by_id(ctx: ReadContext, campaign_id: int) -> CampaignRow | None:
    """For node(id): a campaign the viewer would find in `campaigns`, else None."""
    manage = ctx.cover("outreach.manage")
    params = SqlParams(campaign_id)
    managed = scope_condition(manage, params, "cu")
    as_caller = has_own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    row = await ctx.pool.fetchrow(
        f"select {CAMPAIGN_SELECT} {CAMPAIGN_FROM} where c.id = $1 and ({managed} or {as_caller})", *params.values
    )
    return None if row is None else _campaign(row, manage, _today(ctx))


async def campaign_progress(ctx: ReadContext, campaigns_: list[CampaignRow]) -> dict[int, OutreachStatsRow]:
    """Campaign.progress of many campaigns in one statement: every entry of a managed campaign,
    only the viewer's own entries of any other."""
    out = {c.id: OutreachStatsRow() for c in campaigns_}
    if not campaigns_:
        return out
    full = sorted({c.id for c in campaigns_ if c.managed})
    own = sorted({c.id for c in campaigns_ if not c.managed})
    # The viewer's own entries count only as far as their call list shows them (open, inside
    # their outreach.call cover); a DENIED voter counts nowhere.
    params = SqlParams(full, own)
    mine = own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    rows = await ctx.pool.fetch(
        f"""select ca.campaign_id, ca.last_outcome, count(*) as n {ENTRY_FROM}
           where v.contact_consent <> 'DENIED'
             and (ca.campaign_id = any($1::bigint[]) or (ca.campaign_id = any($2::bigint[]) and {mine}))
           group by 1, 2""",
        *params.values,
    )
    for r in rows:
        stats = out[r["campaign_id"]]
        stats.assigned += r["n"]
        if r["last_outcome"] is not None:
            stats.called += r["n"]
            stats.by_outcome[r["last_outcome"]] = r["n"]
    return out


# ----------------------------------------------------------------------- call list ---
URGENCY = "(case when ca.last_outcome is null then 0 when ca.last_outcome = 'CALL_BACK' then 1 else 2 end)"

ENTRY_SELECT = f"""
select ca.id as ca_id, ca.caller_id as ca_caller_id, {URGENCY} as urgency, {CAMPAIGN_SELECT},
       {VOTER_COLUMNS}, sc.*, {LOG_SELECT}
{ENTRY_FROM}
join units b on b.id = v.booth_id
{SCHEMES_JOIN}
left join call_logs l on l.id = ca.last_call_id
"""


def _entry(ctx: ReadContext, r: Mapping[str, Any], manage: Cover, want: Want) -> CallEntry:
    return CallEntry(
        id=r["ca_id"],
        campaign=_campaign(r, manage, _today(ctx)),
        voter=_call_list_voter(ctx, r, want),
        caller_id=r["ca_caller_id"],
        last_call=_log(r),
    )


async def my_call_list(
    ctx: ReadContext,
    *,
    campaign_id: int | None = None,
    first: int | None = 50,
    after: str | None = None,
    want_total: bool = True,
    want_voter: Want = Want(),
) -> Page[CallEntry]:
    """The viewer's own entries of open campaigns: never called first, then CALL_BACK, then the
    rest, then by id (keyset over that order). `want_voter`: what is selected of each voter."""
    n = validate_first(first, 50)
    codec = CursorCodec(ctx.settings, "calls:mine", binding(ctx.viewer.user_id, campaign_id))
    start = codec.decode(after, (int, int))
    page: Page[CallEntry] = Page()
    params = SqlParams()
    own = own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    if own == "false":
        return page
    where = [own]
    if campaign_id is not None:
        where.append(f"ca.campaign_id = {params.add(campaign_id)}::bigint")
    silent = silent_dates(ctx)
    if silent:  # the Model Code's silence period: these booths' entries wait (call_list_pause says why)
        where.append(f"not {model_code.booth_covered(params.add(silent))}")
    base = " and ".join(where)
    if want_total:
        page.total = int(await ctx.pool.fetchval(f"select count(*) {ENTRY_FROM} where {base}", *params.values))
    if start is not None:
        base += f" and ({URGENCY}, ca.id) > ({params.add(start[0])}::int, {params.add(start[1])}::bigint)"
    rows = await ctx.pool.fetch(
        f"{ENTRY_SELECT} where {base} order by urgency, ca.id limit {params.add(n + 1)}", *params.values
    )
    page.has_next = len(rows) > n
    manage = ctx.cover("outreach.manage")
    for r in rows[:n]:
        page.items.append(_entry(ctx, r, manage, want_voter))
        page.cursors.append(codec.encode([r["urgency"], r["ca_id"]]))
    return page


def silent_dates(ctx: ReadContext) -> list[dt.date]:
    """Poll dates whose booths are in the silence period now (resolvers/model_code.py)."""
    rule = model_code.rule(ctx.policy, "SILENCE_PERIOD")
    return model_code.silent_poll_dates(ctx.clock.now(), ctx.settings, rule)


@dataclass(frozen=True, slots=True)
class CallListPause:
    """Why entries are missing from myCallList: the rule holding them back, and how many."""

    rule: model_code.ModelCodeRule
    entries: int
    poll_dates: list[dt.date]


async def call_list_pause(ctx: ReadContext, *, campaign_id: int | None = None) -> CallListPause | None:
    """The viewer's own entries that the silence period holds back now; None when none are."""
    silent = silent_dates(ctx)
    if not silent:
        return None
    params = SqlParams()
    own = own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    if own == "false":
        return None
    where = [own, model_code.booth_covered(params.add(silent))]
    if campaign_id is not None:
        where.append(f"ca.campaign_id = {params.add(campaign_id)}::bigint")
    held = int(await ctx.pool.fetchval(f"select count(*) {ENTRY_FROM} where {' and '.join(where)}", *params.values))
    if not held:
        return None
    return CallListPause(model_code.rule(ctx.policy, "SILENCE_PERIOD"), held, silent)


async def calls_today(ctx: ReadContext, *, campaign_id: int | None = None) -> int:
    """Calls the viewer logged today (the date in ELECTION_TIMEZONE, by the request's clock) on
    entries of their own call list as myCallList reads it (`own_entries`): the app's "today"
    figure, counted by the database instead of from the first page of the list."""
    params = SqlParams()
    own = own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    if own == "false":
        return 0
    midnight = model_code.local_now(ctx.clock, ctx.settings).replace(hour=0, minute=0, second=0, microsecond=0)
    where = [own, f"l.caller_id = {params.add(ctx.viewer.user_id)}", f"l.called_at >= {params.add(midnight)}"]
    if campaign_id is not None:
        where.append(f"ca.campaign_id = {params.add(campaign_id)}::bigint")
    return int(
        await ctx.pool.fetchval(
            f"select count(*) {ENTRY_FROM} join call_logs l on l.assignment_id = ca.id where {' and '.join(where)}",
            *params.values,
        )
    )


async def call_assignment_by_id(ctx: ReadContext, assignment_id: int, want_voter: Want = Want()) -> CallEntry | None:
    """For node(id): one entry of the viewer's own visible call list, else None."""
    params = SqlParams(assignment_id)
    own = own_entries(ctx.viewer, ctx.policy, params, _today(ctx))
    if own == "false":
        return None
    row = await ctx.pool.fetchrow(f"{ENTRY_SELECT} where ca.id = $1 and {own}", *params.values)
    return None if row is None else _entry(ctx, row, ctx.cover("outreach.manage"), want_voter)


# ------------------------------------------------------------------------- logCall ---
async def log_call(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    *,
    assignment_id: int,
    outcome: Any,
    problems: str | None = None,
    benefit_received: bool | None = None,
    desired_benefit: str | None = None,
    satisfaction: int | None = None,
    notes: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    settings: Settings | None = None,
) -> CallLogRow:
    """Only the assigned caller, on an entry they can see on their list (else NOT_FOUND). The
    entry is locked, so concurrent calls on it each get their log and the last one wins. While the
    Model Code is in force at the voter's booth, a desiredBenefit or a call of a
    BENEFIT_REGISTRATION campaign is MODEL_CODE_IN_FORCE, and so is any call in the booth's silence
    period (`_check_model_code`)."""
    outcome_name = check_enum(outcome, CallOutcome, "outcome")
    if outcome_name is None:
        raise BadUserInput("outcome is required", argument="outcome")
    if satisfaction is not None and (
        not isinstance(satisfaction, int) or isinstance(satisfaction, bool) or not 1 <= satisfaction <= 5
    ):
        raise BadUserInput("satisfaction must be between 1 and 5", argument="satisfaction")
    if benefit_received is not None and not isinstance(benefit_received, bool):
        raise BadUserInput("benefitReceived must be true or false", argument="benefitReceived")
    problems = check_text(problems, "problems")
    desired_benefit = check_text(desired_benefit, "desiredBenefit")
    notes = check_text(notes, "notes")
    await _check_model_code(
        conn,
        viewer,
        policy,
        assignment_id,
        asks_benefit=bool(desired_benefit and desired_benefit.strip()),
        clock=clock,
        settings=model_code.settings_or_default(settings),
    )

    async def work() -> CallLogRow:
        params = SqlParams(assignment_id)
        own = own_entries(viewer, policy, params, _local_today(clock, settings))
        entry = await conn.fetchrow(
            f"""select ca.id, ca.voter_id, ca.campaign_id, v.booth_id, b.code as booth_code
                {ENTRY_FROM} join units b on b.id = v.booth_id
                where ca.id = $1 and {own} for update of ca""",
            *params.values,
        )
        if entry is None:
            raise NotFound("No such call assignment")
        row = await conn.fetchrow(
            f"""insert into call_logs as l (assignment_id, voter_id, caller_id, outcome, problems, benefit_received,
                                            desired_benefit, satisfaction, notes)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning {LOG_SELECT}""",
            entry["id"],
            entry["voter_id"],
            viewer.user_id,
            outcome_name,
            problems,
            benefit_received,
            desired_benefit,
            satisfaction,
            notes,
        )
        await conn.execute(
            "update call_assignments set last_call_id = $2, last_outcome = $3 where id = $1",
            entry["id"],
            row["l__id"],
            outcome_name,
        )
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="outreach.call",
            unit_id=entry["booth_id"],
            unit_code=entry["booth_code"],
            records=1,
            detail=audit.detail_json(assignment=entry["id"], campaign=entry["campaign_id"], outcome=outcome_name),
        )
        log = _log(row)
        assert log is not None
        return log

    return await in_transaction(conn, work)


async def _check_model_code(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    assignment_id: int,
    *,
    asks_benefit: bool,
    clock: Clock,
    settings: Settings,
) -> None:
    """Refuses (audited) a call the Model Code bars at the voter's booth now. Outside any
    transaction: the refusal's audit entry is committed on its own. An entry the viewer cannot
    see is left to the write's own NOT_FOUND."""
    params = SqlParams(assignment_id)
    own = own_entries(viewer, policy, params, model_code.local_today(clock, settings))
    if own == "false":
        return
    entry = await conn.fetchrow(
        f"""select v.booth_id, b.code as booth_code, c.purpose {ENTRY_FROM} join units b on b.id = v.booth_id
            where ca.id = $1 and {own}""",
        *params.values,
    )
    if entry is None:
        return
    booth_id, booth_code = entry["booth_id"], entry["booth_code"]
    now = clock.now()
    silence = model_code.rule(policy, "SILENCE_PERIOD")
    election = await model_code.booth_silent(conn, booth_id, model_code.silent_poll_dates(now, settings, silence))
    if election is not None:
        raise await model_code.refuse(
            conn, viewer, silence, unit_id=booth_id, unit_code=booth_code, election=election, what="logCall"
        )
    if asks_benefit or entry["purpose"] == "BENEFIT_REGISTRATION":
        today = model_code.local_today(clock, settings)
        election = await model_code.booth_election_in_force(conn, booth_id, today)
        if election is not None:
            rule = model_code.rule(policy, "BENEFIT_REGISTRATION")
            raise await model_code.refuse(
                conn, viewer, rule, unit_id=booth_id, unit_code=booth_code, election=election, what="logCall"
            )
