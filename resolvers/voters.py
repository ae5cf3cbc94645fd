"""Voters for a viewer: the keyset list and single lookups.

Visibility of a voter row:
- lists (`voters`, `Unit.voters`): scope_condition over the viewer's voter.read cover, ANDed
  with under_condition of the unit asked for;
- single lookups (`voter(epicNumber)`, `node(id)`): the same, OR'ed in SQL with the call-list arm:
  the voter is on one of the viewer's own call lists as resolvers.visibility.own_entries shows it
  (an open campaign, the voter under the viewer's outreach.call cover, not self-assigned). Such
  a voter's phone is in clear (redaction's on_call_list); nothing sensitive comes with it unless
  voter.read_sensitive covers it. Lists use the same arm for the phone only.

Call logs hanging off a voter: resolvers.call_logs.

One statement per page: the voter columns, the booth's unit columns and (when selected) the
schemes as array aggregates, first+1 rows for hasNextPage. totalCount only when selected: from
unit_rollups without a filter, else count(*). Redaction only through resolvers.redaction; what
went out in clear is noted in ctx.read_log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from core.errors import Forbidden
from core.viewer import UnitPlace
from models import Level
from policies import Cover
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, like_prefix, validate_first
from resolvers.page import Page
from resolvers.redaction import RedactedVoter, VoterVisibility, redact_voter
from resolvers.scope import SqlParams, scope_condition, under_condition, under_unit
from resolvers.units import UnitRow, place_by_code
from resolvers.visibility import call_list_arm, visible_at_or_above, visible_cover

ORDERS: dict[str, tuple[tuple[str, ...], tuple[type, ...]]] = {
    # order kind -> (SQL keys, JSON types of the cursor values); every order ends with the pk
    "SERIAL": (("v.booth_id", "v.serial_number", "v.id"), (int, int, int)),
    "NAME": (("lower(v.name)", "v.id"), (str, int)),
    "AGE": (("v.age", "v.id"), (int, int)),
}
_KEY_COLUMNS = {
    "SERIAL": ("booth_id", "serial_number", "id"),
    "NAME": ("sort_name", "id"),
    "AGE": ("age", "id"),
}

VOTER_COLUMNS = """v.id, v.epic_number, v.serial_number, v.name, v.name_hi, v.relative_name, v.age, v.gender,
    v.house_number, v.phone, v.caste_category, v.caste, v.economic_status, v.contact_consent,
    v.region_id, v.district_id, v.mandal_id, v.booth_id, v.page, v.household,
    b.code as booth_code, b.name as booth_name, b.name_hi as booth_name_hi, b.path as booth_path,
    b.state_id as booth_state_id"""

SCHEMES_JOIN = """left join lateral (
    select array_agg(s.code order by s.code) as scheme_codes, array_agg(s.name order by s.code) as scheme_names,
           array_agg(s.name_hi order by s.code) as scheme_names_hi, array_agg(bn.since order by s.code) as scheme_since
    from beneficiaries bn join schemes s on s.code = bn.scheme_code
    where bn.voter_id = v.id) sc on true"""
NO_SCHEMES = (
    "null::text[] as scheme_codes, null::text[] as scheme_names, null::text[] as scheme_names_hi, "
    "null::date[] as scheme_since"
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class VoterFilterArgs:
    gender: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    caste_category: tuple[str, ...] | None = None
    economic_status: tuple[str, ...] | None = None
    schemes: tuple[str, ...] | None = None
    has_phone: bool | None = None
    contact_consent: str | None = None
    search: str | None = None
    # Not in the GraphQL filter: the members of one household, (booth id, household key), or
    # (booth id, None, voter id) for a voter without a house number (docs/pages.md).
    household: tuple[int, str | None, int] | None = None

    @property
    def sensitive(self) -> list[str]:
        """The sensitive filters in use (present, even as an empty list)."""
        used = []
        if self.caste_category is not None:
            used.append("casteCategory")
        if self.economic_status is not None:
            used.append("economicStatus")
        return used

    @property
    def empty(self) -> bool:
        return all(v is None for v in self.key())

    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


NO_FILTER = VoterFilterArgs()


@dataclass(frozen=True, slots=True)
class Want:
    """What the GraphQL selection asks for, so the SQL fetches (and the audit notes) no more."""

    page: bool = True
    total: bool = False
    schemes: bool = True
    phone: bool = True
    sensitive: bool = True


@dataclass(frozen=True, slots=True)
class SchemeGrant:
    code: str
    name: str
    name_hi: str | None
    since: dt.date | None


@dataclass(slots=True)
class VoterRecord:
    id: int
    epic_number: str
    serial_number: int
    name: str
    name_hi: str | None
    relative_name: str | None
    age: int | None
    gender: str | None
    house_number: str | None
    phone: str | None
    caste_category: str | None
    caste: str | None
    economic_status: str | None
    contact_consent: str
    redacted_fields: list[str]
    booth: UnitRow
    schemes: list[SchemeGrant]
    page: int
    household: str | None


# ------------------------------------------------------------------ helpers ---
def booth_of(row: Mapping[str, Any]) -> UnitRow:
    """The booth unit of a voter row, from the joined booth columns (no query)."""
    place = UnitPlace(
        id=row["booth_id"],
        code=row["booth_code"],
        level=Level.BOOTH,
        path=row["booth_path"],
        ancestors=(row["booth_state_id"], row["region_id"], row["district_id"], row["mandal_id"], row["booth_id"]),
    )
    return UnitRow(place=place, name=row["booth_name"], name_hi=row["booth_name_hi"], parent_id=row["mandal_id"])


def schemes_of(row: Mapping[str, Any]) -> list[SchemeGrant]:
    codes = row["scheme_codes"]
    if not codes:
        return []
    return [
        SchemeGrant(code, name, name_hi, since)
        for code, name, name_hi, since in zip(
            codes, row["scheme_names"], row["scheme_names_hi"], row["scheme_since"], strict=True
        )
    ]


def _visibility(ctx: ReadContext) -> VoterVisibility:
    return VoterVisibility(contact=ctx.cover("voter.read_contact"), sensitive=ctx.cover("voter.read_sensitive"))


def redacted_row(
    ctx: ReadContext,
    row: Mapping[str, Any],
    vis: VoterVisibility,
    want: Want = Want(),
    *,
    on_call_list: bool | None = None,
) -> RedactedVoter:
    """A voter row's fields as the viewer may see them, through THE redaction rule; what goes out
    in clear (and is selected: `want`) is noted for the audit under the voter's booth, never
    under the unit the query named (which may lie above the viewer's scope). `on_call_list`
    defaults to the row's own `on_call_list` column."""
    listed = bool(row["on_call_list"]) if on_call_list is None else on_call_list
    red = redact_voter(row, vis, on_call_list=listed)
    if not want.phone:
        red.phone_in_clear = False
    if not want.sensitive:
        red.sensitive_in_clear = False
    if red.phone_in_clear or red.sensitive_in_clear:
        ctx.read_log.note(red, row["id"], row["booth_code"])
    return red


def record_of(row: Mapping[str, Any], red: RedactedVoter, booths: dict[int, UnitRow] | None = None) -> VoterRecord:
    """A voter row (VOTER_COLUMNS + the scheme arrays) with its redacted fields, as a record."""
    return VoterRecord(
        id=row["id"],
        epic_number=row["epic_number"],
        serial_number=row["serial_number"],
        name=row["name"],
        name_hi=row["name_hi"],
        relative_name=row["relative_name"],
        age=row["age"],
        gender=row["gender"],
        house_number=row["house_number"],
        phone=red.phone,
        caste_category=red.caste_category,
        caste=red.caste,
        economic_status=red.economic_status,
        contact_consent=row["contact_consent"],
        redacted_fields=red.redacted_fields,
        booth=_booth(row, booths),
        schemes=schemes_of(row),
        page=row["page"],
        household=row["household"],
    )


def voter_record(
    ctx: ReadContext,
    row: Mapping[str, Any],
    vis: VoterVisibility,
    want: Want = Want(),
    *,
    on_call_list: bool | None = None,
) -> VoterRecord:
    """`redacted_row`, as a VoterRecord."""
    return record_of(row, redacted_row(ctx, row, vis, want, on_call_list=on_call_list))


def _booth(row: Mapping[str, Any], booths: dict[int, UnitRow] | None) -> UnitRow:
    """The voter's booth, one object per booth of a page."""
    if booths is None:
        return booth_of(row)
    found = booths.get(row["booth_id"])
    if found is None:
        found = booths[row["booth_id"]] = booth_of(row)
    return found


def filter_conditions(filt: VoterFilterArgs, params: SqlParams) -> list[str]:
    where: list[str] = []
    if filt.gender is not None:
        where.append(f"v.gender = {params.add(filt.gender)}")
    if filt.age_min is not None:
        where.append(f"v.age >= {params.add(filt.age_min)}::int")
    if filt.age_max is not None:
        where.append(f"v.age <= {params.add(filt.age_max)}::int")
    if filt.caste_category is not None:
        where.append(f"v.caste_category = any({params.add(list(filt.caste_category))}::text[])")
    if filt.economic_status is not None:
        where.append(f"v.economic_status = any({params.add(list(filt.economic_status))}::text[])")
    if filt.schemes is not None:
        where.append(
            "exists (select 1 from beneficiaries bf where bf.voter_id = v.id "
            f"and bf.scheme_code = any({params.add(list(filt.schemes))}::text[]))"
        )
    if filt.has_phone is not None:
        where.append("v.phone is not null" if filt.has_phone else "v.phone is null")
    if filt.contact_consent is not None:
        where.append(f"v.contact_consent = {params.add(filt.contact_consent)}")
    if filt.household is not None:
        booth, key, voter = filt.household
        where.append(
            f"v.booth_id = {params.add(booth)}::int and "
            + (f"v.id = {params.add(voter)}::bigint" if key is None else f"v.household = {params.add(key)}")
        )
    if filt.search is not None:
        pattern = params.add(like_prefix(filt.search))
        epic = params.add(filt.search)
        # The Hindi name has no case: compared as stored, by its own index (0008_name_hi_search).
        where.append(
            f"(lower(v.name) like lower({pattern}) escape '\\' or v.name_hi like {pattern} escape '\\' "
            f"or v.epic_number = {epic})"
        )
    return where


def check_sensitive_filter(ctx: ReadContext, filt: VoterFilterArgs, reach: Cover) -> None:
    """FORBIDDEN when a sensitive filter is used without voter.read_sensitive over every voter
    the query could return (`reach`: the voter.read cover, within the unit asked for)."""
    used = filt.sensitive
    if not used:
        return
    sensitive = ctx.cover("voter.read_sensitive")
    if not all(sensitive.covers(unit) for unit in reach.units):
        raise Forbidden(
            f"Filtering by {' and '.join(used)} needs voter.read_sensitive over every voter the query could return",
            fields=used,
        )


# --------------------------------------------------------------------- lists ---
@dataclass(slots=True)
class VoterReach:
    """Which voters a list may return: `cover` (the voter.read cover, within the unit asked for)
    and `where`, the SQL conditions (alias v, values in `params`) that select exactly them."""

    cover: Cover
    where: list[str]
    params: SqlParams


async def voter_reach(
    ctx: ReadContext, *, unit: UnitPlace | str | None, filt: VoterFilterArgs, want: Want
) -> VoterReach | None:
    """The reach of a voter list under `unit` (a place or a code) with this filter; None when the
    list is empty whatever else is asked (no voter.read, an absent or invisible unit, nothing of
    the cover under the unit). FORBIDDEN for a sensitive filter the viewer may not use there."""
    read = ctx.cover("voter.read")
    if read.empty:
        return None
    params = SqlParams()
    if isinstance(unit, str) and not filt.sensitive and not want.total:
        # Nothing here needs to know where the unit sits: its id and level (which never change)
        # make the "under" condition, ANDed with the whole voter.read scope.
        key = await ctx.unit_keys.find(ctx.pool, unit)
        if key is None:
            return None
        # Visible (service.md) = under an assignment of the viewer. For a voter under the unit,
        # being under an assignment at the unit's level or above is the same as the unit being
        # under it; deeper assignments never make the unit visible (an ancestor is empty).
        above = visible_at_or_above(ctx.viewer, key[1])
        if above.empty:
            return None
        reach = VoterReach(
            read, [scope_condition(read, params, "v", pages=True), under_unit(*key, params, "v")], params
        )
        if not all(above.covers(u) for u in read.units):  # else the read scope implies it
            reach.where.append(scope_condition(above, params, "v", pages=True))
    else:
        place = await place_by_code(ctx, unit) if isinstance(unit, str) else unit
        if place is not None and not visible_cover(ctx.viewer).covers(place):
            return None  # an invisible unit (an ancestor of the scope included) is empty, whatever the filter
        if isinstance(unit, str) and place is None:
            return None
        cover = read.within(place) if place is not None else read
        check_sensitive_filter(ctx, filt, cover)
        if cover.empty:
            return None
        reach = VoterReach(cover, [scope_condition(cover, params, "v", pages=True)], params)
        if place is not None and cover.units != (place,):
            reach.where.append(under_condition(place, params, "v", pages=True))
    reach.where += filter_conditions(filt, params)
    return reach


async def voters_total(ctx: ReadContext, reach: VoterReach, filt: VoterFilterArgs) -> int:
    """totalCount: from unit_rollups without a filter (one index lookup per unit), else count(*)
    (also for a cover holding a roll page: pages have no rollups)."""
    if filt.empty and all(u.page is None for u in reach.cover.units):
        return await ctx.pool.fetchval(
            "select coalesce(sum(n), 0)::bigint from unit_rollups "
            "where unit_id = any($1::int[]) and dim = 'voters' and key = ''",
            [u.id for u in reach.cover.units],
        )
    return await ctx.pool.fetchval(
        f"select count(*) from voters v where {' and '.join(reach.where)}", *reach.params.values
    )


async def voters_page(
    ctx: ReadContext,
    *,
    unit: UnitPlace | str | None,
    filt: VoterFilterArgs = NO_FILTER,
    order: str = "SERIAL",
    first: int | None = 50,
    after: str | None = None,
    want: Want = Want(),
    build: Callable[[Mapping[str, Any], RedactedVoter], T] | None = None,
) -> Page[T]:
    """Voters inside the viewer's voter.read cover; with `unit` (a place or a code), only those
    under it, none when it is absent or not visible (`voter_reach`). Each item is `build(row, its
    redacted fields)`, by default a VoterRecord (`record_of`): the schema builds its own objects
    straight from the rows, one object per voter on the hot list."""
    n = validate_first(first, 50)
    keys, key_types = ORDERS[order]
    # A roll page's cursor is bound to the page (its path), not to its booth's code.
    unit_code = (
        unit if isinstance(unit, str) else None if unit is None else unit.code if unit.page is None else unit.path
    )
    codec = CursorCodec(ctx.settings, f"voters:{order}", binding(ctx.viewer.user_id, unit_code, filt.key()))
    start = codec.decode(after, key_types)
    page: Page[T] = Page()

    reach = await voter_reach(ctx, unit=unit, filt=filt, want=want)
    if reach is None:
        return page
    if want.total:
        page.total = await voters_total(ctx, reach, filt)
    if not want.page:
        return page

    params, where = reach.params, reach.where
    if start is not None:
        placeholders = ", ".join(params.add(v) for v in start)
        where.append(f"({', '.join(keys)}) > ({placeholders})")
    on_call_list = call_list_arm(ctx, params) if want.phone else "false"
    limit = params.add(n + 1)
    sql = (
        f"select {VOTER_COLUMNS}, {on_call_list} as on_call_list, lower(v.name) as sort_name, "
        f"{'sc.*' if want.schemes else NO_SCHEMES} "
        f"from voters v join units b on b.id = v.booth_id {SCHEMES_JOIN if want.schemes else ''} "
        f"where {' and '.join(where)} order by {', '.join(keys)} limit {limit}"
    )
    rows = await ctx.pool.fetch(sql, *params.values)
    page.has_next = len(rows) > n
    vis = _visibility(ctx)
    key_columns = _KEY_COLUMNS[order]
    page.codec = codec
    if build is None:
        booths: dict[int, UnitRow] = {}

        def build(row: Mapping[str, Any], red: RedactedVoter) -> Any:
            return record_of(row, red, booths)

    for row in rows[:n]:
        page.items.append(build(row, redacted_row(ctx, row, vis, want)))
        page.keys.append([row[c] for c in key_columns])
    return page


# ---------------------------------------------------------- single lookups ---
async def _single(ctx: ReadContext, column: str, value: Any, want: Want) -> VoterRecord | None:
    params = SqlParams(value)
    read = scope_condition(ctx.cover("voter.read"), params, "v", pages=True)
    arm = call_list_arm(ctx, params)
    if read == "false" and arm == "false":
        return None
    visible = read if arm == "false" else arm if read == "false" else f"({read} or {arm})"
    sql = (
        f"select {VOTER_COLUMNS}, {arm} as on_call_list, "
        f"{'sc.*' if want.schemes else NO_SCHEMES} "
        f"from voters v join units b on b.id = v.booth_id {SCHEMES_JOIN if want.schemes else ''} "
        f"where v.{column} = $1 and {visible}"
    )
    row = await ctx.pool.fetchrow(sql, *params.values)
    if row is None:
        return None
    return voter_record(ctx, row, _visibility(ctx), want)


async def voter_by_epic(ctx: ReadContext, epic_number: str, want: Want = Want()) -> VoterRecord | None:
    """The voter with this EPIC number when visible to the viewer, else None."""
    return await _single(ctx, "epic_number", epic_number, want)


async def voter_by_id(ctx: ReadContext, voter_id: int, want: Want = Want()) -> VoterRecord | None:
    return await _single(ctx, "id", voter_id, want)


async def all_schemes(ctx: ReadContext) -> list[SchemeGrant]:
    """Every scheme (readable by any authenticated user), by code."""
    rows = await ctx.pool.fetch("select code, name, name_hi from schemes order by code")
    return [SchemeGrant(r["code"], r["name"], r["name_hi"], None) for r in rows]
