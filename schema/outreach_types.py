"""Outreach and audit types of the contract as plain data types: Campaign, CallAssignment, CallLog,
AuditEntry and their connections. The writes helper builds them (schema/outreach.py,
schema/mutation.py); the read side uses CallLog for Voter.calls and the `from_row` constructors
for node(id).

Ids are global ids (resolvers.cursors.to_global_id) of "Campaign", "CallAssignment", "CallLog",
"AuditEntry"; callerId / userId are users.csv ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import strawberry

from resolvers.call_logs import CallLogRow
from resolvers.cursors import to_global_id
from resolvers.page import Page
from schema.elections import CallListPause, CampaignPurpose
from schema.enums import CallOutcome
from schema.relay import Node, PageInfo, page_info
from schema.stats import OutreachStats
from schema.units import Unit
from schema.voters import Scheme, Voter


def _get(row: Any, name: str) -> Any:
    """A column of a row given as a mapping (asyncpg.Record, dict) or as a dataclass."""
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@strawberry.type
class Campaign(Node):
    name: str
    unit: Unit
    schemes: list[Scheme]
    opens_on: str
    closes_on: str
    open: bool
    progress: OutreachStats
    purpose: CampaignPurpose = CampaignPurpose.FEEDBACK


@strawberry.type
class CampaignEdge:
    node: Campaign
    cursor: str


@strawberry.type
class CampaignConnection:
    edges: list[CampaignEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class CallLog(Node):
    outcome: CallOutcome
    problems: str | None = strawberry.field(description="What problems the beneficiary reports.")
    benefit_received: bool | None = strawberry.field(
        description="Whether the beneficiary says the benefit reached them."
    )
    desired_benefit: str | None = strawberry.field(description="What further benefit they want.")
    satisfaction: int | None = strawberry.field(description="1 (very unhappy) to 5 (very happy).")
    notes: str | None
    called_at: str
    caller_id: strawberry.ID

    @classmethod
    def from_row(cls, row: Any) -> CallLog:
        def get(name: str) -> Any:
            return _get(row, name)

        return cls(
            id=strawberry.ID(to_global_id("CallLog", get("id"))),
            outcome=CallOutcome(get("outcome")),
            problems=get("problems"),
            benefit_received=get("benefit_received"),
            desired_benefit=get("desired_benefit"),
            satisfaction=get("satisfaction"),
            notes=get("notes"),
            called_at=_text(get("called_at")) or "",
            caller_id=strawberry.ID(get("caller_id")),
        )


@strawberry.type
class CallLogEdge:
    node: CallLog
    cursor: str


@strawberry.type
class CallLogConnection:
    edges: list[CallLogEdge]
    page_info: PageInfo
    total_count: int


def call_log_connection(page: Page[CallLogRow]) -> CallLogConnection:
    return CallLogConnection(
        edges=[CallLogEdge(node=CallLog.from_row(r), cursor=c) for r, c in zip(page.items, page.cursors, strict=True)],
        page_info=page_info(page),
        total_count=page.total,
    )


@strawberry.type
class CallAssignment(Node):
    campaign: Campaign
    voter: Voter
    caller_id: strawberry.ID
    last_call: CallLog | None


@strawberry.type
class CallAssignmentEdge:
    node: CallAssignment
    cursor: str


@strawberry.type
class CallAssignmentConnection:
    edges: list[CallAssignmentEdge]
    page_info: PageInfo
    total_count: int
    paused: CallListPause | None = strawberry.field(
        default=None,
        description="myCallList: entries the Model Code's silence period holds back now, and why; null when none.",
    )
    calls_today: int | None = strawberry.field(
        default=None,
        description="myCallList: calls the viewer logged today (ELECTION_TIMEZONE's date) on entries of this list "
        "(of the campaign when one is given); null elsewhere.",
    )


@strawberry.type
class AuditEntry(Node):
    at: str
    user_id: strawberry.ID
    action: str
    unit_code: str | None
    records: int
    detail: str | None

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        def get(name: str) -> Any:
            return _get(row, name)

        return cls(
            id=strawberry.ID(to_global_id("AuditEntry", get("id"))),
            at=_text(get("at")) or "",
            user_id=strawberry.ID(get("user_id")),
            action=get("action"),
            unit_code=get("unit_code"),
            records=get("records"),
            detail=get("detail"),
        )


@strawberry.type
class AuditEntryEdge:
    node: AuditEntry
    cursor: str


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo
    total_count: int


def empty_page_info() -> PageInfo:
    return PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)
