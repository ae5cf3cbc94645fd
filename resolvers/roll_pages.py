"""Roll pages and households below the booth (docs/pages.md).

A page is no row of its own: it is the pair (booth, page number) that voters carry, and a place
`UnitPlace.at_page(n)` of its booth for visibility and the scope filter. A household is the
voters of one booth with the same `house_key(house_number)` (migration 0005). Everything here
reads voters through resolvers.scope (pages=True) over the viewer's voter.read cover, so a
household's size counts only the members the viewer may read: a household split across two
pages has, for each page's in-charge, only the members on their page.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import BadUserInput
from core.viewer import UnitPlace
from models import Level
from resolvers.context import ReadContext
from resolvers.cursors import CursorCodec, binding, validate_first
from resolvers.input_checks import check_page, check_text
from resolvers.page import Page
from resolvers.scope import SqlParams, scope_condition, under_condition
from resolvers.units import place_by_code
from resolvers.visibility import visible_cover


@dataclass(frozen=True, slots=True)
class Household:
    key: str  # house_key(house_number): what groups the voters
    house_number: str  # as the roll writes it, of the household's first voter in roll order
    size: int  # voters of the household the viewer may read
    first_serial: int
    pages: list[int]


async def place_of(ctx: ReadContext, unit: str, page: int | None) -> UnitPlace | None:
    """The unit named `unit`, or its roll page `page`, when visible to the viewer; else None.
    A page of a unit that is no booth is BAD_USER_INPUT (for a visible unit only)."""
    check_text(unit, "unit", limit=200, required=True)
    check_page(page)
    place = await place_by_code(ctx, unit)
    if place is None:
        return None
    if page is not None:
        if place.level is not Level.BOOTH:
            if visible_cover(ctx.viewer).covers(place):
                raise BadUserInput("page is a roll page of a BOOTH unit", argument="page")
            return None
        place = place.at_page(page)
    return place if visible_cover(ctx.viewer).covers(place) else None


async def households_page(
    ctx: ReadContext, *, unit: str, page: int | None = None, first: int | None = 50, after: str | None = None
) -> Page[Household]:
    """The households of a booth or of one of its pages, in roll order (by their first voter's
    serial), with their sizes within the viewer's voter.read scope. Voters without a house number
    form no household and are not listed. One statement."""
    n = validate_first(first, 50)
    result: Page[Household] = Page()
    place = await place_of(ctx, unit, page)
    if place is None:
        return result
    if place.level is not Level.BOOTH:
        raise BadUserInput("households are listed for a BOOTH unit or one of its pages", argument="unit")
    codec = CursorCodec(ctx.settings, "households", binding(ctx.viewer.user_id, place.path, ()))
    start = codec.decode(after, (int, str))
    reach = ctx.cover("voter.read").within(place)
    if reach.empty:
        return result
    params = SqlParams()
    where = [
        scope_condition(reach, params, "v", pages=True),
        under_condition(place, params, "v", pages=True),
        "v.household is not null",
    ]
    having = ""
    if start is not None:
        having = f"having (min(v.serial_number), v.household) > ({params.add(start[0])}::int, {params.add(start[1])})"
    rows = await ctx.pool.fetch(
        f"""select v.household, (array_agg(v.house_number order by v.serial_number))[1] as house_number,
                   count(*)::int as size, min(v.serial_number) as first_serial,
                   array_agg(distinct v.page order by v.page) as pages
            from voters v where {" and ".join(where)}
            group by v.household {having}
            order by first_serial, v.household limit {params.add(n + 1)}""",
        *params.values,
    )
    result.has_next = len(rows) > n
    result.codec = codec
    for r in rows[:n]:
        result.items.append(Household(r["household"], r["house_number"], r["size"], r["first_serial"], r["pages"]))
        result.keys.append([r["first_serial"], r["household"]])
    return result


@dataclass(frozen=True, slots=True)
class PageStats:
    voters: int
    with_phone: int
    contactable: int
    households: int
    surveyed: int
    by_gender: list[tuple[str, int]]
    by_age_band: list[tuple[str, int]]
    # Sensitive: in clear with voter.read_sensitive over the page, else withheld whole (None).
    by_caste_category: list[tuple[str, int]] | None
    by_economic_status: list[tuple[str, int]] | None


def _counts(values: list[str | None]) -> list[tuple[str, int]]:
    counted: dict[str, int] = {}
    for v in values:
        if v is not None:
            counted[v] = counted.get(v, 0) + 1
    return sorted(counted.items())


async def page_stats(ctx: ReadContext, *, unit: str, page: int) -> PageStats | None:
    """Counts of one roll page, live over its few dozen voters (the (booth_id, page) index; pages
    have no rollups). None unless the page is visible and under the viewer's stats.read cover.
    The caste and economic breakdowns are shown only with voter.read_sensitive over the page:
    a page's live counts beside the released, suppressed counts of its booth would undo that
    suppression, so without it they are withheld whole (docs/pages.md, "Statistics")."""
    if page is None:
        raise BadUserInput("page is required", argument="page")
    place = await place_of(ctx, unit, page)
    if place is None or not ctx.cover("stats.read").covers(place):
        return None
    params = SqlParams()
    rows = await ctx.pool.fetch(
        f"""select v.gender, age_band(v.age) as band, v.phone is not null as has_phone,
                   v.contact_consent, v.household, v.caste_category, v.economic_status
            from voters v
            where {scope_condition(ctx.cover("stats.read").within(place), params, "v", pages=True)}
              and {under_condition(place, params, "v", pages=True)}""",
        *params.values,
    )
    sensitive = ctx.cover("voter.read_sensitive").covers(place)
    return PageStats(
        voters=len(rows),
        with_phone=sum(r["has_phone"] for r in rows),
        contactable=sum(r["has_phone"] and r["contact_consent"] != "DENIED" for r in rows),
        households=len({r["household"] for r in rows if r["household"] is not None}),
        surveyed=sum(r["caste_category"] is not None or r["economic_status"] is not None for r in rows),
        by_gender=_counts([r["gender"] for r in rows]),
        by_age_band=_counts([r["band"] for r in rows]),
        by_caste_category=_counts([r["caste_category"] for r in rows]) if sensitive else None,
        by_economic_status=_counts([r["economic_status"] for r in rows]) if sensitive else None,
    )
