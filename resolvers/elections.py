"""Elections and their phases (issue 16): create, edit, list, and the CSV import's upsert.

An election covers units, each with its poll date (Uttar Pradesh votes in phases, so districts
differ); the units of one election never nest, so a booth has one poll date per election. Its
Model Code of Conduct is in force from `model_code_from` through `counting_on`; every poll date
lies in that period.

Who: election.manage (policy.csv: the state's leaders; district presidents, for by-elections in
their district) over EVERY unit the election covers, before and after an edit. A phase unit that
is not visible is NOT_FOUND; a visible one outside the viewer's election.manage, FORBIDDEN. Reads:
an election is listed when one of its phase units lies on the line of the viewer's visible units
(inside them or above them: a booth president sees the state-wide election), and shows only the
phases on that line, so nothing outside the viewer's scope is named.

Writes are audited (`election.create`, `election.update`), one entry per phase unit, so that every
auditor over a covered unit sees them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from core.clock import Clock
from core.errors import BadUserInput, Forbidden, NotFound
from core.settings import Settings
from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, Viewer, unit_place
from policies import Cover, PolicyEngine
from resolvers import audit
from resolvers.context import ReadContext
from resolvers.input_checks import check_text, parse_date
from resolvers.model_code import local_today
from resolvers.places import find_unit
from resolvers.scope import SqlParams, line_condition
from resolvers.unit_of_work import in_transaction
from resolvers.visibility import visible_cover

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MAX_PHASES = 2_000


@dataclass(frozen=True, slots=True)
class PhaseRow:
    place: UnitPlace
    name: str
    name_hi: str | None
    poll_date: dt.date


@dataclass(slots=True)
class ElectionRow:
    id: int
    code: str
    name: str
    name_hi: str | None
    model_code_from: dt.date
    counting_on: dt.date
    phases: list[PhaseRow] = field(default_factory=list)

    def model_code_in_force(self, day: dt.date) -> bool:
        return self.model_code_from <= day <= self.counting_on


@dataclass(frozen=True, slots=True)
class PhaseInput:
    unit: str
    poll_date: str


# ----------------------------------------------------------------------- reading ---
ELECTION_COLUMNS = "e.id, e.code, e.name, e.name_hi, e.model_code_from, e.counting_on"
PHASE_SQL = f"""
select p.election_id, p.poll_date, u.name, u.name_hi, {UNIT_PLACE_COLUMNS}
from election_phases p join units u on u.id = p.unit_id
where p.election_id = any($1::bigint[]) and {{cond}}
order by p.election_id, p.poll_date, u.code
"""


def _election(r: asyncpg.Record) -> ElectionRow:
    return ElectionRow(
        id=r["id"],
        code=r["code"],
        name=r["name"],
        name_hi=r["name_hi"],
        model_code_from=r["model_code_from"],
        counting_on=r["counting_on"],
    )


async def _with_phases(
    conn: asyncpg.Connection | asyncpg.Pool, rows: Sequence[asyncpg.Record], line: Cover | None
) -> list[ElectionRow]:
    """The elections with their phases (only those on `line`'s line; None: all)."""
    out = {r["id"]: _election(r) for r in rows}
    if not out:
        return []
    params = SqlParams(sorted(out))
    cond = "true" if line is None else line_condition(line, params, "u")
    for p in await conn.fetch(PHASE_SQL.format(cond=cond), *params.values):
        out[p["election_id"]].phases.append(PhaseRow(unit_place(p), p["name"], p["name_hi"], p["poll_date"]))
    return list(out.values())


async def elections(ctx: ReadContext, *, unit: str | None = None) -> list[ElectionRow]:
    """The elections the viewer can see (any phase unit on their line), newest Model Code first;
    with `unit`, only those covering part of that visible unit."""
    seen = visible_cover(ctx.viewer)
    if seen.empty:
        return []
    params = SqlParams()
    where = [line_condition(seen, params, "pu")]
    if unit is not None:
        check_text(unit, "unit", limit=200)
        place = await find_unit(ctx.pool, unit)
        if place is None or not seen.covers(place):
            return []
        inside = f"pu.{place.level.column} = {params.add(place.id)}::int" if place.level.depth > 0 else "true"
        above = f"pu.id = any({params.add([a for a in place.ancestors if a is not None])}::int[])"
        where.append(f"({inside} or {above})")
    rows = await ctx.pool.fetch(
        f"""select {ELECTION_COLUMNS} from elections e
            where exists (select 1 from election_phases p join units pu on pu.id = p.unit_id
                          where p.election_id = e.id and {" and ".join(where)})
            order by e.model_code_from desc, e.code""",
        *params.values,
    )
    return await _with_phases(ctx.pool, rows, seen)


async def election_by_code(
    conn: asyncpg.Connection | asyncpg.Pool, code: str, viewer: Viewer | None = None
) -> ElectionRow | None:
    """The election with its phases on the viewer's line; None when absent or (with a viewer) no
    phase is on that line."""
    row = await conn.fetchrow(f"select {ELECTION_COLUMNS} from elections e where e.code = $1", code)
    if row is None:
        return None
    line = visible_cover(viewer) if viewer is not None else None
    if line is not None and line.empty:
        return None
    (election,) = await _with_phases(conn, [row], line)
    return election if election.phases else None


# ------------------------------------------------------------------------ checks ---
@dataclass(frozen=True, slots=True)
class _Checked:
    model_code_from: dt.date
    counting_on: dt.date
    phases: list[tuple[UnitPlace, dt.date]]


def _check_code(code: str) -> str:
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise BadUserInput(
            "code must be 1-40 letters, digits, '-' or '_', starting with a letter or digit", argument="code"
        )
    return code


async def _check_phases(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    phases: Sequence[PhaseInput],
    first: dt.date,
    last: dt.date,
) -> list[tuple[UnitPlace, dt.date]]:
    if not phases:
        raise BadUserInput("phases must name at least one unit", argument="phases")
    if len(phases) > MAX_PHASES:
        raise BadUserInput(f"at most {MAX_PHASES} phases", argument="phases")
    codes = [check_text(p.unit, "phases.unit", limit=200, required=True) or "" for p in phases]
    rows = await conn.fetch(f"select {UNIT_PLACE_COLUMNS} from units u where u.code = any($1::text[])", codes)
    found = {r["code"]: unit_place(r) for r in rows}
    seen = visible_cover(viewer)
    out: list[tuple[UnitPlace, dt.date]] = []
    for p, code in zip(phases, codes, strict=True):
        place = found.get(code)
        if place is None or not seen.covers(place):
            raise NotFound(f"No such unit: {code}")
        day = parse_date(p.poll_date, "phases.pollDate")
        assert day is not None
        if not first <= day <= last:
            raise BadUserInput(
                f"The poll date of {code} must lie between modelCodeFrom and countingOn", argument="phases.pollDate"
            )
        out.append((place, day))
    for i, (a, _) in enumerate(out):
        for b, _ in out[i + 1 :]:
            if a.id == b.id:
                raise BadUserInput(f"{a.code} is named twice", argument="phases")
            if a.is_under(b) or b.is_under(a):
                raise BadUserInput(f"{a.code} and {b.code} overlap: an election's units never nest", argument="phases")
    manage = policy.cover(viewer, "election.manage")
    for place, _ in out:
        if not manage.covers(place):
            raise Forbidden(f"You may not manage elections in {place.code}")
    return out


async def _check(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    model_code_from: str,
    counting_on: str,
    phases: Sequence[PhaseInput],
) -> _Checked:
    first, last = parse_date(model_code_from, "modelCodeFrom"), parse_date(counting_on, "countingOn")
    if first is None or last is None:
        raise BadUserInput("modelCodeFrom and countingOn are required")
    if last < first:
        raise BadUserInput("countingOn must not be before modelCodeFrom", argument="countingOn")
    return _Checked(first, last, await _check_phases(conn, viewer, policy, phases, first, last))


async def _audit_phases(
    conn: asyncpg.Connection, viewer: Viewer, action: str, election: ElectionRow, places: Sequence[UnitPlace]
) -> None:
    for place in {p.id: p for p in places}.values():
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action=action,
            unit_id=place.id,
            unit_code=place.code,
            records=1,
            detail=audit.detail_json(election=election.code),
        )


async def _write_phases(
    conn: asyncpg.Connection, election_id: int, phases: Sequence[tuple[UnitPlace, dt.date]]
) -> None:
    await conn.execute("delete from election_phases where election_id = $1", election_id)
    await conn.execute(
        """insert into election_phases (election_id, unit_id, poll_date)
           select $1, x.unit_id, x.poll_date from unnest($2::int[], $3::date[]) x(unit_id, poll_date)""",
        election_id,
        [p.id for p, _ in phases],
        [d for _, d in phases],
    )


# ------------------------------------------------------------------------ writes ---
async def create_election(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    *,
    code: str,
    name: str,
    name_hi: str | None = None,
    model_code_from: str,
    counting_on: str,
    phases: Sequence[PhaseInput],
) -> ElectionRow:
    _check_code(code)
    name = (check_text(name, "name", limit=200, required=True) or "").strip()
    name_hi = check_text(name_hi, "nameHi", limit=200)
    checked = await _check(conn, viewer, policy, model_code_from, counting_on, phases)

    async def work() -> ElectionRow:
        election_id = await conn.fetchval(
            """insert into elections (code, name, name_hi, model_code_from, counting_on, created_by)
               values ($1, $2, $3, $4, $5, $6) on conflict (code) do nothing returning id""",
            code,
            name,
            name_hi,
            checked.model_code_from,
            checked.counting_on,
            viewer.user_id,
        )
        if election_id is None:
            raise BadUserInput(f"An election with code {code} exists already", argument="code")
        await _write_phases(conn, election_id, checked.phases)
        election = await election_by_code(conn, code)
        assert election is not None
        await _audit_phases(conn, viewer, "election.create", election, [p for p, _ in checked.phases])
        return election

    return await in_transaction(conn, work)


async def update_election(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    *,
    code: str,
    name: str | None = None,
    name_hi: str | None = None,
    model_code_from: str | None = None,
    counting_on: str | None = None,
    phases: Sequence[PhaseInput] | None = None,
) -> ElectionRow:
    """Fields left None keep their value; `phases` given replaces them all. The viewer needs
    election.manage over every unit the election covers now and will cover."""
    current = await election_by_code(conn, code, viewer)
    if current is None:
        raise NotFound("No such election")
    everything = await election_by_code(conn, code)
    assert everything is not None
    manage = policy.cover(viewer, "election.manage")
    if not all(manage.covers(p.place) for p in everything.phases):
        raise Forbidden("You may not manage this election")
    name = (check_text(name, "name", limit=200) or current.name).strip() if name is not None else current.name
    name_hi = check_text(name_hi, "nameHi", limit=200) if name_hi is not None else current.name_hi
    given = (
        phases if phases is not None else [PhaseInput(p.place.code, p.poll_date.isoformat()) for p in everything.phases]
    )
    checked = await _check(
        conn,
        viewer,
        policy,
        model_code_from or current.model_code_from.isoformat(),
        counting_on or current.counting_on.isoformat(),
        given,
    )

    async def work() -> ElectionRow:
        await conn.execute(
            """update elections set name = $2, name_hi = $3, model_code_from = $4, counting_on = $5, updated_at = now()
               where id = $1""",
            current.id,
            name,
            name_hi,
            checked.model_code_from,
            checked.counting_on,
        )
        await _write_phases(conn, current.id, checked.phases)
        election = await election_by_code(conn, code)
        assert election is not None
        touched = [p.place for p in everything.phases] + [p for p, _ in checked.phases]
        await _audit_phases(conn, viewer, "election.update", election, touched)
        return election

    return await in_transaction(conn, work)


def in_force_today(election: ElectionRow, clock: Clock, settings: Settings) -> bool:
    return election.model_code_in_force(local_today(clock, settings))
