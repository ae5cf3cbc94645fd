"""UnitStats, Bucket, OutreachStats: plain objects over data that resolvers/stats.py loaded for a
whole batch of units (every field here is synchronous)."""

from __future__ import annotations

import strawberry

from core.errors import BadUserInput
from resolvers.stats import BucketData, StatsData


@strawberry.type(
    description="A count in a breakdown; count is null when small-cell suppression withheld it. Keys are the "
    'enum value names (GEN, BPL, MALE, REACHED…), the age bands "18-25" "26-35" "36-45" "46-60" "61+", '
    "caste codes, or scheme codes. Buckets with count 0 are left out."
)
class Bucket:
    key: str
    count: int | None


def buckets(data: list[BucketData]) -> list[Bucket]:
    return [Bucket(key=b.key, count=b.count) for b in data]


@strawberry.type(description="In UnitStats: call-list entries of voters under the unit, over all campaigns.")
class OutreachStats:
    assigned: int
    called: int
    by_outcome: list[Bucket]


@strawberry.type
class UnitStats:
    voters: int
    with_phone: int
    contactable: int = strawberry.field(description="Voters with a phone and consent not DENIED.")
    by_gender: list[Bucket]
    by_age_band: list[Bucket] = strawberry.field(description="Bands 18-25, 26-35, 36-45, 46-60, 61+.")
    by_caste_category: list[Bucket]
    castes: strawberry.Private[list[Bucket]]
    by_economic_status: list[Bucket]
    surveyed: int = strawberry.field(description="Voters surveyed: caste_category or economic_status recorded.")
    beneficiaries: list[Bucket] = strawberry.field(description="Per scheme code, the number of beneficiaries.")
    suppressed: bool = strawberry.field(description="True when any bucket above was suppressed for this viewer.")
    outreach: OutreachStats

    @strawberry.field(
        description="The largest `top` castes by count (ties by key); suppression is decided over all castes "
        "before the cut, and suppressed castes come after every shown one."
    )
    def by_caste(self, top: int | None = 20) -> list[Bucket]:
        n = 20 if top is None else top
        if n < 0:
            raise BadUserInput("top must not be negative", argument="top")
        return self.castes[:n]


def unit_stats(data: StatsData) -> UnitStats:
    return UnitStats(
        voters=data.voters,
        with_phone=data.with_phone,
        contactable=data.contactable,
        by_gender=buckets(data.by_gender),
        by_age_band=buckets(data.by_age_band),
        by_caste_category=buckets(data.by_caste_category),
        castes=buckets(data.by_caste),
        by_economic_status=buckets(data.by_economic_status),
        surveyed=data.surveyed,
        beneficiaries=buckets(data.beneficiaries),
        suppressed=data.suppressed,
        outreach=OutreachStats(
            assigned=data.outreach_assigned, called=data.outreach_called, by_outcome=buckets(data.by_outcome)
        ),
    )


@strawberry.type(description="How counts are protected: the rules a client needs to explain a hidden count.")
class StatsPolicy:
    min_cell_size: int = strawberry.field(
        description="MIN_CELL_SIZE: counts from 1 to this minus 1 are suppressed (null), and some larger ones "
        "with them where they would give a small one away."
    )
