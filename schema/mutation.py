"""The contract's eight mutations. Thin: each runs its resolver as one unit of work
(resolvers.unit_of_work.run_mutation: one connection, the change and its audit entry in one
transaction) and converts what comes back.

Ids taken: campaignId, assignmentId (CallAssignment / Assignment) are the global ids handed out
by this API (a plain decimal id is accepted too); a malformed id is NOT_FOUND, like an absent one.
VoterSurveyInput: a field left out is not changed; a field given as null is cleared.
"""

from __future__ import annotations

from typing import Any

import strawberry

from core.errors import NotFound
from resolvers import outreach as outreach_resolvers
from resolvers import roles as role_resolvers
from resolvers import survey as survey_resolvers
from resolvers.cursors import to_global_id
from resolvers.unit_of_work import run_mutation
from schema.elections import CampaignPurpose
from schema.enums import CallOutcome, CasteCategory, ContactConsent, EconomicStatus, Level, Role
from schema.outreach import campaign_from_row, id_of
from schema.outreach_types import CallLog, Campaign
from schema.relay import selected_names
from schema.units import UnitRef
from schema.viewer import Assignment
from schema.voters import Voter, VoterFilter, voter_from_record, want_for


@strawberry.input
class VoterSurveyInput:
    epic_number: str
    phone: str | None = strawberry.UNSET
    caste_category: CasteCategory | None = strawberry.UNSET
    caste: str | None = strawberry.UNSET
    economic_status: EconomicStatus | None = strawberry.UNSET
    contact_consent: ContactConsent | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        """The given fields, by GraphQL name (absent ones left out)."""
        given = {
            "phone": self.phone,
            "casteCategory": self.caste_category,
            "caste": self.caste,
            "economicStatus": self.economic_status,
            "contactConsent": self.contact_consent,
        }
        return {k: getattr(v, "value", v) for k, v in given.items() if v is not strawberry.UNSET}


@strawberry.input
class CampaignInput:
    name: str
    unit: str
    schemes: list[str]
    opens_on: str
    closes_on: str
    purpose: CampaignPurpose = CampaignPurpose.FEEDBACK


@strawberry.input
class AssignCallsInput:
    campaign_id: strawberry.ID
    caller_id: strawberry.ID
    unit: str | None = strawberry.field(
        default=None, description="A unit inside the campaign's unit; defaults to the campaign's unit."
    )
    filter: VoterFilter | None = None
    limit: int = 100
    one_per_household: bool = strawberry.field(
        default=False,
        description="At most one voter per household (docs/pages.md) on this campaign's lists: the first eligible "
        "one in roll order, and none of a household that already has a voter on them.",
    )


@strawberry.input
class CallLogInput:
    assignment_id: strawberry.ID
    outcome: CallOutcome
    problems: str | None = None
    benefit_received: bool | None = None
    desired_benefit: str | None = None
    satisfaction: int | None = None
    notes: str | None = None


def _pk(value: Any, kind: str, what: str) -> int:
    pk = id_of(value, kind)
    if pk is None:
        raise NotFound(f"No such {what}")
    return pk


async def _voter(info: strawberry.Info, voter_id: int) -> Voter:
    want = want_for(selected_names(info))
    return voter_from_record(await survey_resolvers.written_voter(info.context, voter_id, want))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Needs voter.write over the voter.")
    async def update_voter_survey(self, info: strawberry.Info, input: VoterSurveyInput) -> Voter:
        ctx = info.context
        row = await run_mutation(ctx, survey_resolvers.update_voter_survey, input.epic_number, input.changes())
        return await _voter(info, row["id"])

    @strawberry.mutation(description="Needs voter.write over the voter.")
    async def enroll_beneficiary(
        self, info: strawberry.Info, epic_number: str, scheme: str, since: str | None = None
    ) -> Voter:
        ctx = info.context
        row = await run_mutation(ctx, survey_resolvers.enroll_beneficiary, epic_number, scheme, since)
        return await _voter(info, row["id"])

    @strawberry.mutation(
        description="Needs voter.write. Wipes phone, caste_category, caste, economic_status, sets consent DENIED; "
        "later imports do not bring them back until consent is GRANTED again."
    )
    async def erase_voter_personal_data(self, info: strawberry.Info, epic_number: str) -> Voter:
        ctx = info.context
        row = await run_mutation(ctx, survey_resolvers.erase_voter_personal_data, epic_number)
        return await _voter(info, row["id"])

    @strawberry.mutation(description="Needs outreach.manage over the unit.")
    async def create_campaign(self, info: strawberry.Info, input: CampaignInput) -> Campaign:
        ctx = info.context
        row = await run_mutation(
            ctx,
            outreach_resolvers.create_campaign,
            name=input.name,
            unit=input.unit,
            schemes=input.schemes,
            opens_on=input.opens_on,
            closes_on=input.closes_on,
            purpose=input.purpose.value,
            clock=ctx.clock,
            settings=ctx.settings,
        )
        return campaign_from_row(row)

    @strawberry.mutation(
        description="Assigns up to limit voters to the caller and returns how many: voters under the unit who "
        "benefit from any of the campaign's schemes, have a phone, whose consent is not DENIED, and who are on "
        "no list of this campaign yet."
    )
    async def assign_calls(self, info: strawberry.Info, input: AssignCallsInput) -> int:
        ctx = info.context
        return await run_mutation(
            ctx,
            outreach_resolvers.assign_calls,
            campaign_id=_pk(input.campaign_id, "Campaign", "campaign"),
            caller_id=str(input.caller_id),
            unit=input.unit,
            filt=input.filter.args() if input.filter is not None else None,
            limit=input.limit,
            one_per_household=input.one_per_household,
            clock=ctx.clock,
            settings=ctx.settings,
        )

    @strawberry.mutation(description="Only by the caller the entry is assigned to, while its campaign is open.")
    async def log_call(self, info: strawberry.Info, input: CallLogInput) -> CallLog:
        ctx = info.context
        row = await run_mutation(
            ctx,
            outreach_resolvers.log_call,
            assignment_id=_pk(input.assignment_id, "CallAssignment", "call assignment"),
            outcome=input.outcome.value,
            problems=input.problems,
            benefit_received=input.benefit_received,
            desired_benefit=input.desired_benefit,
            satisfaction=input.satisfaction,
            notes=input.notes,
            clock=ctx.clock,
            settings=ctx.settings,
        )
        return CallLog.from_row(row)

    @strawberry.mutation(
        description="Needs role.grant over the unit (for a roll page, role.grant or role.grant_page over it); only "
        "roles of lower rank, never to oneself. `page`: a role held at that roll page of the booth `unit`."
    )
    async def grant_role(
        self, info: strawberry.Info, user_id: strawberry.ID, role: Role, unit: str, page: int | None = None
    ) -> Assignment:
        ctx = info.context
        row = await run_mutation(
            ctx, role_resolvers.grant_role, user_id=str(user_id), role=role.value, unit=unit, page=page
        )
        return Assignment(
            id=strawberry.ID(to_global_id("Assignment", row.id)),
            role=Role(row.role),
            unit=UnitRef(code=row.unit_code, name=row.unit_name, name_hi=row.unit_name_hi, level=Level(row.unit_level)),
            page=row.page,
        )

    @strawberry.mutation(description="Needs role.grant over the assignment's unit; never one's own.")
    async def revoke_role(self, info: strawberry.Info, assignment_id: strawberry.ID) -> bool:
        ctx = info.context
        return await run_mutation(
            ctx, role_resolvers.revoke_role, assignment_id=_pk(assignment_id, "Assignment", "assignment")
        )
