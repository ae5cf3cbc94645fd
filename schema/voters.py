"""Voter, VoterConnection, VoterFilter, Scheme, Beneficiary. Every Voter field but `calls` is a
plain attribute built from the page's one SQL row (no per-row resolvers on the hot lists)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.viewer import UnitPlace
from resolvers.call_logs import calls_for_voters
from resolvers.cursors import to_global_id
from resolvers.page import Page
from resolvers.redaction import RedactedVoter
from resolvers.voters import (
    NO_FILTER,
    SchemeGrant,
    VoterFilterArgs,
    VoterRecord,
    Want,
    booth_of,
    schemes_of,
    voters_page,
)
from schema.enums import CasteCategory, ContactConsent, EconomicStatus, Gender, VoterOrder
from schema.loaders import keyed_loader
from schema.relay import Node, PageInfo, connection_selection, page_info
from schema.units import Unit, unit_from_row

if TYPE_CHECKING:
    from schema.outreach_types import CallLogConnection

_GENDER = {g.value: g for g in Gender}
_CATEGORY = {c.value: c for c in CasteCategory}
_ECONOMIC = {e.value: e for e in EconomicStatus}
_CONSENT = {c.value: c for c in ContactConsent}
SENSITIVE_NAMES = frozenset({"casteCategory", "caste", "economicStatus"})
SENSITIVE_DOC = "Sensitive: FORBIDDEN without voter.read_sensitive."


@strawberry.type
class Scheme:
    code: str
    name: str
    name_hi: str | None


@strawberry.type
class Beneficiary:
    scheme: Scheme
    since: str | None


@strawberry.type
class Voter(Node):
    epic_number: str
    serial_number: int
    name: str
    name_hi: str | None
    relative_name: str | None
    age: int | None
    gender: Gender | None
    house_number: str | None
    booth: Unit
    phone: str | None = strawberry.field(
        description="In clear with voter.read_contact or on the viewer's call list; else masked like ******3210."
    )
    caste_category: CasteCategory | None
    caste: str | None
    economic_status: EconomicStatus | None
    contact_consent: ContactConsent
    schemes: list[Beneficiary]
    redacted_fields: list[str] = strawberry.field(
        description="Names of the fields above that the policy withholds or masks for this viewer, whether or not "
        'this voter has a value: "phone" whenever the phone is not in clear for the viewer; "casteCategory", '
        '"caste", "economicStatus" whenever the viewer lacks voter.read_sensitive.'
    )
    page: int = strawberry.field(
        description="The roll page of the booth the voter is on: the roll's own, else pages of 30 serial numbers."
    )
    household: str | None = strawberry.field(
        description="The household key: the normalised house number (docs/pages.md); null without a house number."
    )
    pk: strawberry.Private[int]

    @strawberry.field(description="Call logs of this voter the viewer may read, newest first.")
    async def calls(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None
    ) -> Annotated[CallLogConnection, strawberry.lazy("schema.outreach_types")]:
        from schema.outreach_types import call_log_connection  # call time: it imports this module

        ctx = info.context

        async def load(ids: list[int]) -> list[Page | Exception]:
            found = await calls_for_voters(ctx, ids, first, after)
            return [found[i] for i in ids]

        page = await keyed_loader(ctx, ("calls", first, after), load).load(self.pk)
        return call_log_connection(page)


def voter_from_row(row: Mapping[str, Any], red: RedactedVoter, booth: Unit) -> Voter:
    """A voter row (resolvers.voters.VOTER_COLUMNS) and its redacted fields: what
    `voter_from_record(record_of(row, red))` gives, without the record in between."""
    gender, category, economic = row["gender"], red.caste_category, red.economic_status
    return Voter(
        id=to_global_id("Voter", row["id"]),  # type: ignore[arg-type]  # strawberry.ID is str at run time
        epic_number=row["epic_number"],
        serial_number=row["serial_number"],
        name=row["name"],
        name_hi=row["name_hi"],
        relative_name=row["relative_name"],
        age=row["age"],
        gender=_GENDER[gender] if gender is not None else None,
        house_number=row["house_number"],
        booth=booth,
        phone=red.phone,
        caste_category=_CATEGORY[category] if category is not None else None,
        caste=red.caste,
        economic_status=_ECONOMIC[economic] if economic is not None else None,
        contact_consent=_CONSENT[row["contact_consent"]],
        schemes=_beneficiaries(schemes_of(row)),
        redacted_fields=red.redacted_fields,
        page=row["page"],
        household=row["household"],
        pk=row["id"],
    )


def _beneficiaries(grants: list[SchemeGrant]) -> list[Beneficiary]:
    return [
        Beneficiary(
            scheme=Scheme(code=g.code, name=g.name, name_hi=g.name_hi),
            since=g.since.isoformat() if g.since else None,
        )
        for g in grants
    ]


def voter_from_record(r: VoterRecord, booth: Unit | None = None) -> Voter:
    return Voter(
        id=to_global_id("Voter", r.id),  # type: ignore[arg-type]  # strawberry.ID is str at run time
        epic_number=r.epic_number,
        serial_number=r.serial_number,
        name=r.name,
        name_hi=r.name_hi,
        relative_name=r.relative_name,
        age=r.age,
        gender=_GENDER[r.gender] if r.gender is not None else None,
        house_number=r.house_number,
        booth=booth if booth is not None else unit_from_row(r.booth),
        phone=r.phone,
        caste_category=_CATEGORY[r.caste_category] if r.caste_category is not None else None,
        caste=r.caste,
        economic_status=_ECONOMIC[r.economic_status] if r.economic_status is not None else None,
        contact_consent=_CONSENT[r.contact_consent],
        schemes=_beneficiaries(r.schemes),
        redacted_fields=r.redacted_fields,
        page=r.page,
        household=r.household,
        pk=r.id,
    )


@strawberry.type
class VoterEdge:
    node: Voter
    page: strawberry.Private[Page[Any]]
    index: strawberry.Private[int]

    @strawberry.field
    def cursor(self) -> str:
        """Signed only when selected."""
        return self.page.cursor(self.index)


@strawberry.type
class VoterConnection:
    edges: list[VoterEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input
class VoterFilter:
    gender: Gender | None = None
    age_min: int | None = strawberry.field(default=None, description="Inclusive bounds.")
    age_max: int | None = None
    caste_category: list[CasteCategory] | None = strawberry.field(default=None, description=SENSITIVE_DOC)
    economic_status: list[EconomicStatus] | None = strawberry.field(default=None, description=SENSITIVE_DOC)
    schemes: list[str] | None = strawberry.field(
        default=None, description="Beneficiaries of any of these scheme codes."
    )
    has_phone: bool | None = None
    contact_consent: ContactConsent | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive prefix of the name or of the Hindi name (nameHi), or an exact EPIC number.",
    )

    def args(self) -> VoterFilterArgs:
        return VoterFilterArgs(
            gender=self.gender.value if self.gender is not None else None,
            age_min=self.age_min,
            age_max=self.age_max,
            caste_category=tuple(c.value for c in self.caste_category) if self.caste_category is not None else None,
            economic_status=(
                tuple(e.value for e in self.economic_status) if self.economic_status is not None else None
            ),
            schemes=tuple(self.schemes) if self.schemes is not None else None,
            has_phone=self.has_phone,
            contact_consent=self.contact_consent.value if self.contact_consent is not None else None,
            search=self.search,
        )


def want_for(node_fields: AbstractSet[str], *, total: bool = False, page: bool = True) -> Want:
    return Want(
        page=page,
        total=total,
        schemes="schemes" in node_fields,
        phone="phone" in node_fields,
        sensitive=bool(SENSITIVE_NAMES & node_fields),
    )


async def voter_connection(
    info: strawberry.Info,
    unit: UnitPlace | str | None,
    filter: VoterFilter | None,
    order_by: VoterOrder | None,
    first: int | None,
    after: str | None,
) -> VoterConnection:
    sel = connection_selection(info)
    booths: dict[int, Unit] = {}

    def build(row: Mapping[str, Any], red: RedactedVoter) -> Voter:
        # One object per voter: the strawberry type straight from the row and its redaction.
        booth = booths.get(row["booth_id"])
        if booth is None:
            booth = booths[row["booth_id"]] = unit_from_row(booth_of(row))
        return voter_from_row(row, red, booth)

    page = await voters_page(
        info.context,
        unit=unit,
        filt=filter.args() if filter is not None else NO_FILTER,
        order=(order_by or VoterOrder.SERIAL).value,
        first=first,
        after=after,
        want=want_for(sel.node, total=sel.total, page=sel.page),
        build=build,
    )
    return VoterConnection(
        edges=[VoterEdge(node=v, page=page, index=i) for i, v in enumerate(page.items)],
        page_info=page_info(page),
        total_count=page.total,
    )
