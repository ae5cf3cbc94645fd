"""Elections, the Model Code of Conduct's rules, turnout and get-out-the-vote (issue 16): types,
`ElectionQuery` and `ElectionMutation` (merged into Query and Mutation by schema/__init__.py).
Thin: resolvers/elections.py, turnout.py and model_code.py do the work.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from policies.model_code import ModelCodeRule as RuleData
from resolvers import elections as election_resolvers
from resolvers import turnout as turnout_resolvers
from resolvers.elections import ElectionRow, PhaseInput
from resolvers.model_code import local_today
from resolvers.unit_of_work import run_mutation
from schema.enums import Level
from schema.relay import connection_selection, page_info
from schema.stats import Bucket, buckets
from schema.units import UnitRef
from schema.voters import VoterConnection, VoterEdge, voter_from_record, want_for


@strawberry.enum(description="What a campaign is for; the Model Code bars BENEFIT_REGISTRATION while in force.")
class CampaignPurpose(Enum):
    FEEDBACK = "FEEDBACK"
    BENEFIT_REGISTRATION = "BENEFIT_REGISTRATION"


@strawberry.type(description="A rule of the Model Code of Conduct as enforced here (policies/model_code.toml).")
class ModelCodeRule:
    code: str
    window: str = strawberry.field(description="model_code (its start until counting) or before_poll_close")
    hours: int | None = strawberry.field(description="For before_poll_close: the hours before the poll closes.")
    stops: list[str] = strawberry.field(description="What the rule refuses in this service.")
    title: str
    title_hi: str
    text: str
    text_hi: str
    source: str
    source_url: str | None


def rule_from_data(rule: RuleData) -> ModelCodeRule:
    return ModelCodeRule(
        code=rule.code,
        window=rule.window,
        hours=rule.hours or None,
        stops=list(rule.stops),
        title=rule.title,
        title_hi=rule.title_hi,
        text=rule.text,
        text_hi=rule.text_hi,
        source=rule.source,
        source_url=rule.source_url,
    )


@strawberry.type(description="A unit an election covers, with its poll date.")
class ElectionPhase:
    unit: UnitRef
    poll_date: str


@strawberry.type(description="An election: the units it covers with their poll dates, and its Model Code period.")
class Election:
    code: str
    name: str
    name_hi: str | None
    model_code_from: str
    counting_on: str
    """Only the phases on the viewer's line (their units and the units above them)."""
    phases: list[ElectionPhase]
    model_code_in_force: bool = strawberry.field(description="Today lies in modelCodeFrom..countingOn.")


def election_from_row(row: ElectionRow, info: strawberry.Info) -> Election:
    ctx = info.context
    return Election(
        code=row.code,
        name=row.name,
        name_hi=row.name_hi,
        model_code_from=row.model_code_from.isoformat(),
        counting_on=row.counting_on.isoformat(),
        phases=[
            ElectionPhase(
                unit=UnitRef(code=p.place.code, name=p.name, name_hi=p.name_hi, level=Level(p.place.level.value)),
                poll_date=p.poll_date.isoformat(),
            )
            for p in row.phases
        ],
        model_code_in_force=row.model_code_in_force(local_today(ctx.clock, ctx.settings)),
    )


@strawberry.type(description="Live turnout of a unit in an election, over the part the viewer's stats.read holds.")
class Turnout:
    election: Election
    unit: str
    voted: int
    eligible: int
    by_hour: list[Bucket] = strawberry.field(description='Marks per hour of the poll day, keys "07" .. "17".')
    by_caste_category: list[Bucket] = strawberry.field(
        description="Voted by caste category as recorded when marked: live with voter.read_sensitive over the "
        "whole unit, else the last release (byCasteCategoryAsOf), suppressed over the tree and over time."
    )
    suppressed: bool
    by_caste_category_as_of: str | None = strawberry.field(
        default=None,
        description="When byCasteCategory is a release: the moment it counts marks up to (ISO 8601); null: live.",
    )


def turnout_from(data: turnout_resolvers.TurnoutData, info: strawberry.Info) -> Turnout:
    """The `turnout` query's answer; also each `turnoutChanged` event (schema/subscription.py)."""
    return Turnout(
        election=election_from_row(data.election, info),
        unit=data.unit_code,
        voted=data.voted,
        eligible=data.eligible,
        by_hour=buckets(data.by_hour),
        by_caste_category=buckets(data.by_caste_category),
        suppressed=data.suppressed,
        by_caste_category_as_of=None if data.castes_as_of is None else data.castes_as_of.isoformat(),
    )


@strawberry.type
class TurnoutMarkResult:
    booth: str
    elections: list[str]
    marked: int = strawberry.field(description="Voters newly marked by this batch.")
    already_marked: list[int] = strawberry.field(description="Serials that were marked before (left as they were).")
    unknown_serials: list[int] = strawberry.field(description="Serials the booth's roll does not hold.")


@strawberry.type
class TurnoutUndoResult:
    booth: str
    undone: int
    expired: list[int] = strawberry.field(description="Serials whose marks are older than the undo window.")
    not_marked: list[int]


@strawberry.type(description="Why entries are held back from myCallList: the rule, and how many entries.")
class CallListPause:
    rule: ModelCodeRule
    entries: int
    poll_dates: list[str]


@strawberry.input
class ElectionPhaseInput:
    unit: str
    poll_date: str


@strawberry.input
class ElectionInput:
    code: str
    name: str
    name_hi: str | None = None
    model_code_from: str
    counting_on: str
    phases: list[ElectionPhaseInput]


@strawberry.input(description="Fields left out keep their value; phases, when given, replace all of them.")
class ElectionUpdateInput:
    name: str | None = None
    name_hi: str | None = None
    model_code_from: str | None = None
    counting_on: str | None = None
    phases: list[ElectionPhaseInput] | None = None


def _phases(given: list[ElectionPhaseInput] | None) -> list[PhaseInput] | None:
    return None if given is None else [PhaseInput(p.unit, p.poll_date) for p in given]


@strawberry.type
class ElectionQuery:
    @strawberry.field(description="Elections covering units on the viewer's line; with unit, those covering it.")
    async def elections(self, info: strawberry.Info, unit: str | None = None) -> list[Election]:
        rows = await election_resolvers.elections(info.context, unit=unit)
        return [election_from_row(r, info) for r in rows]

    @strawberry.field(description="Null when absent or covering nothing on the viewer's line.")
    async def election(self, info: strawberry.Info, code: str) -> Election | None:
        row = await election_resolvers.election_by_code(info.context.pool, code, info.context.viewer)
        return election_from_row(row, info) if row else None

    @strawberry.field(description="The Model Code of Conduct's rules the service enforces, with their sources.")
    def model_code_rules(self, info: strawberry.Info) -> list[ModelCodeRule]:
        return [rule_from_data(r) for r in info.context.policy.model_code.rules.values()]

    @strawberry.field(description="Needs stats.read over the unit; null when the election or unit is not visible.")
    async def turnout(self, info: strawberry.Info, election: str, unit: str) -> Turnout | None:
        data = await turnout_resolvers.turnout(info.context, election=election, unit=unit)
        return None if data is None else turnout_from(data, info)

    @strawberry.field(
        description="Get out the vote: voters under the unit not yet marked in the election, consent not DENIED, "
        "scheme beneficiaries first; needs turnout.mark and voter.read. serialFrom/serialTo: one page of the roll."
    )
    async def get_out_the_vote(
        self,
        info: strawberry.Info,
        election: str,
        unit: str,
        serial_from: int | None = None,
        serial_to: int | None = None,
        first: int | None = 50,
        after: str | None = None,
        page: int | None = None,  # one roll page of the booth `unit` (docs/pages.md)
    ) -> VoterConnection:
        sel = connection_selection(info)
        found = await turnout_resolvers.gotv(
            info.context,
            election=election,
            unit=unit,
            serial_from=serial_from,
            serial_to=serial_to,
            first=first,
            after=after,
            want=want_for(sel.node, total=sel.total, page=sel.page),
            page=page,
        )
        return VoterConnection(
            edges=[VoterEdge(node=voter_from_record(v), page=found, index=i) for i, v in enumerate(found.items)],
            page_info=page_info(found),
            total_count=found.total,
        )


@strawberry.type
class ElectionMutation:
    @strawberry.mutation(description="Needs election.manage over every unit of the phases.")
    async def create_election(self, info: strawberry.Info, input: ElectionInput) -> Election:
        row = await run_mutation(
            info.context,
            election_resolvers.create_election,
            code=input.code,
            name=input.name,
            name_hi=input.name_hi,
            model_code_from=input.model_code_from,
            counting_on=input.counting_on,
            phases=_phases(input.phases) or [],
        )
        return election_from_row(row, info)

    @strawberry.mutation(description="Needs election.manage over every unit the election covers, before and after.")
    async def update_election(self, info: strawberry.Info, code: str, input: ElectionUpdateInput) -> Election:
        row = await run_mutation(
            info.context,
            election_resolvers.update_election,
            code=code,
            name=input.name,
            name_hi=input.name_hi,
            model_code_from=input.model_code_from,
            counting_on=input.counting_on,
            phases=_phases(input.phases),
        )
        return election_from_row(row, info)

    @strawberry.mutation(
        description="Needs turnout.mark over the booth; only on its poll date during poll hours. Idempotent."
    )
    async def mark_voted(self, info: strawberry.Info, booth: str, serials: list[int]) -> TurnoutMarkResult:
        ctx = info.context
        result = await run_mutation(
            ctx, turnout_resolvers.mark_voted, ctx.clock, ctx.settings, booth=booth, serials=serials
        )
        return TurnoutMarkResult(
            booth=result.booth_code,
            elections=result.elections,
            marked=result.marked,
            already_marked=result.already,
            unknown_serials=result.unknown,
        )

    @strawberry.mutation(description="Undoes marks of these serials made within TURNOUT_UNDO_S; needs turnout.mark.")
    async def undo_voted(self, info: strawberry.Info, booth: str, serials: list[int]) -> TurnoutUndoResult:
        ctx = info.context
        result = await run_mutation(
            ctx, turnout_resolvers.undo_marks, ctx.clock, ctx.settings, booth=booth, serials=serials
        )
        return TurnoutUndoResult(
            booth=result.booth_code, undone=result.undone, expired=result.expired, not_marked=result.not_marked
        )
