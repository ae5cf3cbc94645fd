"""The Model Code of Conduct, enforced on the party's own outreach (issue 16). The rules, their
windows and sources are data (policies/model_code.toml, read through `policy.model_code`); this
module decides when a rule is in force for a unit, a booth or a voter, and refuses.

- In force for a unit (BENEFIT_REGISTRATION, CASTE_APPEAL): an election whose Model Code period
  (model_code_from .. counting_on, local dates, both included) holds the day covers the unit: one
  of its phase units is the unit, an ancestor of it, or (for a unit above the phases, such as a
  state-wide campaign and a district by-election) lies inside it.
- Silence (SILENCE_PERIOD): a booth is silent from `hours` before its poll closes until it closes
  (poll date at POLL_CLOSES_AT in ELECTION_TIMEZONE): close - hours <= now < close.

A refusal is `ModelCodeInForce` naming the rule and its source; it is audited as
`model_code.refused` in a transaction of its own (the refused write itself changes nothing).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg

from core.clock import Clock
from core.errors import ModelCodeInForce
from core.settings import Settings
from core.viewer import UnitPlace, Viewer
from policies import PolicyEngine
from policies.model_code import ModelCodeRule
from resolvers import audit
from resolvers.scope import SqlParams, under_condition

PHASES_FROM = "from election_phases p join elections e on e.id = p.election_id join units pu on pu.id = p.unit_id"


_DEFAULT_SETTINGS: Settings | None = None


def settings_or_default(settings: Settings | None) -> Settings:
    """The election time zone and poll hours: the request's settings, else the defaults."""
    global _DEFAULT_SETTINGS
    if settings is not None:
        return settings
    if _DEFAULT_SETTINGS is None:
        _DEFAULT_SETTINGS = Settings()
    return _DEFAULT_SETTINGS


def local_now(clock: Clock, settings: Settings) -> dt.datetime:
    return clock.now().astimezone(ZoneInfo(settings.election_timezone))


def local_today(clock: Clock, settings: Settings) -> dt.date:
    return local_now(clock, settings).date()


def poll_close(poll_date: dt.date, settings: Settings) -> dt.datetime:
    return dt.datetime.combine(poll_date, settings.poll_closes_at, tzinfo=ZoneInfo(settings.election_timezone))


def silent_poll_dates(now: dt.datetime, settings: Settings, rule: ModelCodeRule) -> list[dt.date]:
    """The poll dates whose booths are in the silence period at `now`: close - hours <= now < close."""
    here = now.astimezone(ZoneInfo(settings.election_timezone))
    span = dt.timedelta(hours=rule.hours)
    days = range(-1, rule.hours // 24 + 3)
    candidates = [here.date() + dt.timedelta(days=d) for d in days]
    return [d for d in candidates if poll_close(d, settings) - span <= now < poll_close(d, settings)]


def booth_covered(poll_dates: str, voter_alias: str = "v") -> str:
    """SQL: the voter (alias) lies in a phase of some election whose poll date is one of the
    `poll_dates` placeholder's dates (units of a phase never nest, the state covers all)."""
    v = voter_alias
    return (
        "exists (select 1 from election_phases p join units pu on pu.id = p.unit_id"
        f" where p.poll_date = any({poll_dates}::date[]) and (pu.depth = 0 or pu.id = {v}.booth_id"
        f" or pu.id = {v}.mandal_id or pu.id = {v}.district_id or pu.id = {v}.region_id))"
    )


async def election_in_force(
    conn: asyncpg.Connection | asyncpg.Pool, place: UnitPlace, first_day: dt.date, last_day: dt.date | None = None
) -> str | None:
    """The code of an election whose Model Code period meets first_day..last_day and which covers
    part of `place` (a phase unit at, above or inside it); None when there is none."""
    params = SqlParams(first_day, last_day or first_day, [a for a in place.ancestors if a is not None])
    inside = under_condition(place, params, "pu")
    return await conn.fetchval(
        f"""select e.code {PHASES_FROM}
            where e.model_code_from <= $2 and $1 <= e.counting_on and (pu.id = any($3::int[]) or {inside})
            order by e.model_code_from, e.code limit 1""",
        *params.values,
    )


async def booth_election_in_force(conn: asyncpg.Connection, booth_id: int, day: dt.date) -> str | None:
    """The code of an election whose Model Code is in force on `day` at the booth."""
    return await conn.fetchval(
        f"""select e.code {PHASES_FROM} join units b on b.id = $1
            where e.model_code_from <= $2 and $2 <= e.counting_on
              and pu.id in (b.state_id, b.region_id, b.district_id, b.mandal_id, b.id)
            order by e.model_code_from, e.code limit 1""",
        booth_id,
        day,
    )


async def booth_silent(conn: asyncpg.Connection, booth_id: int, dates: list[dt.date]) -> str | None:
    """The code of an election whose poll at the booth is on one of `dates` (silent_poll_dates)."""
    if not dates:
        return None
    return await conn.fetchval(
        f"""select e.code {PHASES_FROM} join units b on b.id = $1
            where p.poll_date = any($2::date[]) and pu.id in (b.state_id, b.region_id, b.district_id, b.mandal_id, b.id)
            order by e.code limit 1""",
        booth_id,
        dates,
    )


async def refuse(
    conn: asyncpg.Connection,
    viewer: Viewer,
    rule: ModelCodeRule,
    *,
    unit_id: int,
    unit_code: str,
    election: str | None,
    what: str,
) -> ModelCodeInForce:
    """Audits the refusal (its own transaction: the refused write changes nothing) and returns the
    error to raise. Call it outside the write's transaction."""
    await audit.record(
        conn,
        user_id=viewer.user_id,
        action="model_code.refused",
        unit_id=unit_id,
        unit_code=unit_code,
        records=0,
        detail=audit.detail_json(rule=rule.code, election=election, refused=what),
    )
    return ModelCodeInForce(rule.message(), rule=rule.code, election=election, source=rule.source)


def rule(policy: PolicyEngine, code: str) -> ModelCodeRule:
    return policy.model_code.rule(code)
