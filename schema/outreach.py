"""Query fields of outreach and audit (`OutreachQuery`, merged into Query by schema/__init__.py),
`resolve_node` for Campaign / CallAssignment / CallLog / AuditEntry ids, and the conversions
from resolver records to the types of schema/outreach_types.py. Thin: resolvers do the work.

Campaign.progress is a plain field: it is loaded for a whole page in one statement, and only
when the selection asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry

from resolvers import audit as audit_resolvers
from resolvers import call_logs
from resolvers import outreach as outreach_resolvers
from resolvers.cursors import from_global_id, to_global_id
from resolvers.outreach import CallEntry, CampaignRow, OutreachStatsRow
from resolvers.page import Page
from schema.elections import CallListPause, CampaignPurpose, rule_from_data
from schema.outreach_types import (
    AuditEntry,
    AuditEntryConnection,
    AuditEntryEdge,
    CallAssignment,
    CallAssignmentConnection,
    CallAssignmentEdge,
    CallLog,
    Campaign,
    CampaignConnection,
    CampaignEdge,
)
from schema.relay import page_info, selected_names
from schema.stats import Bucket, OutreachStats
from schema.units import unit_from_row
from schema.voters import Scheme, voter_from_record, want_for

NO_PROGRESS = OutreachStatsRow()


# ----------------------------------------------------------------------- conversions ---
def outreach_stats(stats: OutreachStatsRow) -> OutreachStats:
    return OutreachStats(
        assigned=stats.assigned,
        called=stats.called,
        by_outcome=[Bucket(key=k, count=n) for k, n in stats.buckets()],
    )


def campaign_from_row(row: CampaignRow, progress: OutreachStatsRow | None = None) -> Campaign:
    return Campaign(
        id=strawberry.ID(to_global_id("Campaign", row.id)),
        name=row.name,
        unit=unit_from_row(row.unit),
        schemes=[Scheme(code=s.code, name=s.name, name_hi=s.name_hi) for s in row.schemes],
        opens_on=row.opens_on.isoformat(),
        closes_on=row.closes_on.isoformat(),
        open=row.open,
        progress=outreach_stats(progress or NO_PROGRESS),
        purpose=CampaignPurpose(row.purpose),
    )


def call_assignment_from_entry(entry: CallEntry, progress: dict[int, OutreachStatsRow]) -> CallAssignment:
    return CallAssignment(
        id=strawberry.ID(to_global_id("CallAssignment", entry.id)),
        campaign=campaign_from_row(entry.campaign, progress.get(entry.campaign.id)),
        voter=voter_from_record(entry.voter),
        caller_id=strawberry.ID(entry.caller_id),
        last_call=CallLog.from_row(entry.last_call) if entry.last_call else None,
    )


async def progress_for(info: strawberry.Info, campaigns: Iterable[CampaignRow], wanted: bool) -> dict[int, Any]:
    unique = list({c.id: c for c in campaigns}.values())
    if not wanted or not unique:
        return {}
    return await outreach_resolvers.campaign_progress(info.context, unique)


def _total_wanted(info: strawberry.Info) -> bool:
    return "totalCount" in selected_names(info)


def _node_fields(info: strawberry.Info, *path: str) -> frozenset[str]:
    return selected_names(info, "edges", "node", *path)


def id_of(value: Any, kind: str) -> int | None:
    """The primary key in a global id of `kind` (or a plain decimal id); None when malformed."""
    parsed = from_global_id(str(value), kind)
    if parsed is not None:
        return parsed[1]
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def campaign_connection(page: Page[CampaignRow], progress: dict[int, OutreachStatsRow]) -> CampaignConnection:
    return CampaignConnection(
        edges=[
            CampaignEdge(node=campaign_from_row(c, progress.get(c.id)), cursor=cursor)
            for c, cursor in zip(page.items, page.cursors, strict=True)
        ],
        page_info=page_info(page),
        total_count=page.total,
    )


# ---------------------------------------------------------------------------- Query ---
@strawberry.type
class OutreachQuery:
    @strawberry.field(description="Campaigns the viewer manages, and open campaigns holding their own call list.")
    async def campaigns(
        self,
        info: strawberry.Info,
        unit: str | None = None,
        open_only: bool | None = False,
        first: int | None = 50,
        after: str | None = None,
    ) -> CampaignConnection:
        page = await outreach_resolvers.campaigns(
            info.context, unit=unit, open_only=bool(open_only), first=first, after=after, want_total=_total_wanted(info)
        )
        progress = await progress_for(info, page.items, "progress" in _node_fields(info))
        return campaign_connection(page, progress)

    @strawberry.field(
        description="The viewer's own call list, most urgent first; excludes voters whose consent is DENIED."
    )
    async def my_call_list(
        self,
        info: strawberry.Info,
        campaign_id: strawberry.ID | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> CallAssignmentConnection:
        pk: int | None = None
        if campaign_id is not None:
            pk = id_of(campaign_id, "Campaign")
            if pk is None:
                pk = -1  # a malformed id matches nothing, like an id out of scope
        page = await outreach_resolvers.my_call_list(
            info.context,
            campaign_id=pk,
            first=first,
            after=after,
            want_total=_total_wanted(info),
            want_voter=want_for(_node_fields(info, "voter")),
        )
        progress = await progress_for(
            info, (e.campaign for e in page.items), "progress" in _node_fields(info, "campaign")
        )
        pause = None
        if "paused" in selected_names(info):
            held = await outreach_resolvers.call_list_pause(info.context, campaign_id=pk)
            if held is not None:
                pause = CallListPause(
                    rule=rule_from_data(held.rule),
                    entries=held.entries,
                    poll_dates=[d.isoformat() for d in held.poll_dates],
                )
        today = None
        if "callsToday" in selected_names(info):
            today = await outreach_resolvers.calls_today(info.context, campaign_id=pk)
        return CallAssignmentConnection(
            edges=[
                CallAssignmentEdge(node=call_assignment_from_entry(e, progress), cursor=cursor)
                for e, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=page_info(page),
            total_count=page.total,
            paused=pause,
            calls_today=today,
        )

    @strawberry.field(description="Audit log entries of units in the viewer's audit.read scopes, newest first.")
    async def audit_log(
        self,
        info: strawberry.Info,
        unit: str | None = None,
        action: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditEntryConnection:
        page = await audit_resolvers.audit_log(info.context, unit=unit, action=action, first=first, after=after)
        return AuditEntryConnection(
            edges=[
                AuditEntryEdge(node=AuditEntry.from_row(r), cursor=cursor)
                for r, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=page_info(page),
            total_count=page.total,
        )


async def resolve_node(info: strawberry.Info, kind: str, pk: int) -> Any:
    """node(id) for the outreach kinds: null when absent or not visible to the viewer."""
    ctx = info.context
    if kind == "Campaign":
        campaign = await outreach_resolvers.campaign_by_id(ctx, pk)
        if campaign is None:
            return None
        progress = await progress_for(info, [campaign], "progress" in selected_names(info))
        return campaign_from_row(campaign, progress.get(campaign.id))
    if kind == "CallAssignment":
        want_voter = want_for(selected_names(info, "voter"))
        entry = await outreach_resolvers.call_assignment_by_id(ctx, pk, want_voter)
        if entry is None:
            return None
        progress = await progress_for(info, [entry.campaign], "progress" in selected_names(info, "campaign"))
        return call_assignment_from_entry(entry, progress)
    if kind == "CallLog":  # the same visibility as Voter.calls
        row = await call_logs.call_log_by_id(ctx, pk)
        return CallLog.from_row(row) if row else None
    if kind == "AuditEntry":
        entry_row = await audit_resolvers.audit_entry_by_id(ctx, pk)
        return AuditEntry.from_row(entry_row) if entry_row else None
    return None
