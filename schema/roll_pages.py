"""Roll pages and households (docs/pages.md): `households`, `householdMembers`, and `voters(page:)`."""

from __future__ import annotations

from typing import Any

import strawberry

from core.errors import BadUserInput
from resolvers import roll_pages as page_resolvers
from resolvers import voters as voter_resolvers
from resolvers.page import Page
from resolvers.voters import VoterFilterArgs
from schema.enums import VoterOrder
from schema.relay import PageInfo, page_info
from schema.stats import Bucket
from schema.voters import VoterConnection, VoterFilter, voter_connection

EMPTY_VOTERS = VoterConnection(edges=[], page_info=page_info(Page()), total_count=0)


@strawberry.type(description="Voters of one booth at the same house number, as docs/pages.md normalises it.")
class Household:
    key: str = strawberry.field(description="The normalised house number (house_key) that groups the voters.")
    house_number: str = strawberry.field(description="As the roll writes it, for the first voter in roll order.")
    size: int = strawberry.field(description="Voters of the household that the viewer may read.")
    first_serial: int
    pages: list[int] = strawberry.field(description="Roll pages the household's readable voters are on.")


@strawberry.type
class HouseholdEdge:
    node: Household
    cursor: str


@strawberry.type(description="A page of households, shaped as every connection of this API (edges, pageInfo).")
class HouseholdConnection:
    edges: list[HouseholdEdge]
    page_info: PageInfo


@strawberry.type(description="Counts of one roll page (docs/pages.md, Statistics).")
class PageStats:
    voters: int
    with_phone: int
    contactable: int = strawberry.field(description="Voters with a phone and consent not DENIED.")
    households: int
    surveyed: int
    by_gender: list[Bucket]
    by_age_band: list[Bucket]
    by_caste_category: list[Bucket] = strawberry.field(
        description="Empty (and suppressed true) without voter.read_sensitive over the page."
    )
    by_economic_status: list[Bucket] = strawberry.field(
        description="Empty (and suppressed true) without voter.read_sensitive over the page."
    )
    suppressed: bool = strawberry.field(description="True when the sensitive breakdowns were withheld.")


def _buckets(counts: list[tuple[str, int]] | None) -> list[Bucket]:
    return [Bucket(key=k, count=n) for k, n in counts or []]


@strawberry.type
class PagesQuery:
    @strawberry.field(
        description="Counts of the roll page `page` of the booth `unit`; null unless the page is visible and "
        "the viewer holds stats.read over it."
    )
    async def page_stats(self, info: strawberry.Info, unit: str, page: int) -> PageStats | None:
        found = await page_resolvers.page_stats(info.context, unit=unit, page=page)
        if found is None:
            return None
        return PageStats(
            voters=found.voters,
            with_phone=found.with_phone,
            contactable=found.contactable,
            households=found.households,
            surveyed=found.surveyed,
            by_gender=_buckets(found.by_gender),
            by_age_band=_buckets(found.by_age_band),
            by_caste_category=_buckets(found.by_caste_category),
            by_economic_status=_buckets(found.by_economic_status),
            suppressed=found.by_caste_category is None and found.surveyed > 0,
        )

    @strawberry.field(
        description="The households of a booth, or of its roll page `page`, in roll order, with their sizes; "
        "empty when the viewer cannot see that booth or page. Voters without a house number are not listed."
    )
    async def households(
        self,
        info: strawberry.Info,
        unit: str,
        page: int | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> HouseholdConnection:
        found = await page_resolvers.households_page(info.context, unit=unit, page=page, first=first, after=after)
        return HouseholdConnection(
            edges=[
                HouseholdEdge(
                    node=Household(
                        key=h.key,
                        house_number=h.house_number,
                        size=h.size,
                        first_serial=h.first_serial,
                        pages=h.pages,
                    ),
                    cursor=found.cursor(i),
                )
                for i, h in enumerate(found.items)
            ],
            page_info=page_info(found),
        )

    @strawberry.field(
        description="The voter's household as far as the viewer may read it (the voter too), in roll order; "
        "empty when the voter is absent or not readable. A voter without a house number is alone in it."
    )
    async def household_members(
        self, info: strawberry.Info, epic_number: str, first: int | None = 50
    ) -> VoterConnection:
        want = voter_resolvers.Want(phone=False, sensitive=False, schemes=False)
        ctx = info.context
        voter = await voter_resolvers.voter_by_epic(ctx, epic_number, want)
        # Readable (not only on the viewer's call list): the household is read with voter.read.
        if voter is None or not ctx.cover("voter.read").covers_ancestors((*voter.booth.place.ancestors, voter.page)):
            return EMPTY_VOTERS
        members = VoterFilterArgs(household=(voter.booth.id, voter.household, voter.id))
        return await voter_connection(info, None, _Members(members), VoterOrder.SERIAL, first, None)


class _Members(VoterFilter):
    """A VoterFilter that is a household's members (not a GraphQL input)."""

    def __init__(self, filt: VoterFilterArgs) -> None:
        self._filt = filt

    def args(self) -> VoterFilterArgs:
        return self._filt


async def page_voter_connection(
    info: strawberry.Info,
    unit: str | None,
    page: int,
    filter: VoterFilter | None,
    order_by: VoterOrder | None,
    first: int | None,
    after: str | None,
) -> Any:
    """`voters(unit:, page:)`: the voters of that roll page of the booth `unit`."""
    if unit is None:
        raise BadUserInput("page needs the booth as unit", argument="page")
    place = await page_resolvers.place_of(info.context, unit, page)
    if place is None:
        return EMPTY_VOTERS
    return await voter_connection(info, place, filter, order_by, first, after)
