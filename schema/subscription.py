"""Subscription: events over graphql-transport-ws (docs/events.md). Thin: the socket and the hub
(events/) decide who hears what; here the events become the schema's types.

Each field needs an acknowledged connection (its `connection_init` authenticated; server.py).
A payload's phone shown in clear is noted in the context's read log and audited before the
event is sent (server.EventsProtocolHandler), like a request's reads."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from core.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from events.hub import CallEvent, ImportEvent, events_of
from events.service import Events
from events.sockets import Socket
from resolvers import turnout as turnout_resolvers
from resolvers.cursors import from_global_id, to_global_id
from resolvers.elections import election_by_code
from resolvers.places import find_unit
from resolvers.redaction import ReadLog, RedactedVoter
from schema.elections import Turnout, turnout_from
from schema.outreach_types import CallLog


@strawberry.type(description="A call logged in a campaign, for its managers and for its own caller.")
class CallLoggedEvent:
    campaign_id: strawberry.ID
    call: CallLog
    voter_id: strawberry.ID
    booth: str = strawberry.field(description="The code of the voter's booth.")
    redacted_fields: list[str] = strawberry.field(description="The voter's fields withheld or masked for you.")
    _voter: strawberry.Private[RedactedVoter]
    _voter_pk: strawberry.Private[int]

    @strawberry.field(description="The voter's phone, masked without voter.read_contact (or the call list).")
    def phone(self, info: strawberry.Info) -> str | None:
        if self._voter.phone_in_clear:
            phone_only = dataclasses.replace(self._voter, sensitive_in_clear=False)
            info.context.read_log.note(phone_only, self._voter_pk, self.booth)
        return self._voter.phone

    @classmethod
    def of(cls, event: CallEvent) -> CallLoggedEvent:
        row = event.row
        return cls(
            campaign_id=strawberry.ID(to_global_id("Campaign", row.campaign_id)),
            call=CallLog.from_row(row.call),
            voter_id=strawberry.ID(to_global_id("Voter", row.call.voter_id)),
            booth=row.booth_code,
            redacted_fields=event.voter.redacted_fields,
            _voter=event.voter,
            _voter_pk=row.call.voter_id,
        )


@strawberry.type(description="An import finished with units under your data.import cover.")
class ImportFinishedEvent:
    at: str
    units: list[str] = strawberry.field(description="The units of your scope it was audited under.")
    records: int
    mine: bool = strawberry.field(description="You ran it.")

    @classmethod
    def of(cls, event: ImportEvent) -> ImportFinishedEvent:
        first = event.entries[0]
        return cls(
            at=first.at.isoformat(),
            units=[e.unit_code or "" for e in event.entries],
            records=first.records,
            mine=event.mine,
        )


def socket_of(info: strawberry.Info) -> tuple[Socket, Events]:
    socket = getattr(info.context, "socket", None)
    events = getattr(info.context, "events", None)
    if socket is None or events is None:
        raise Unauthenticated("Subscriptions are served over graphql-transport-ws after connection_init")
    return socket, events


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Calls logged: in campaigns of units under your outreach.manage, and your own calls. "
        "`campaign`: one campaign's only."
    )
    async def call_logged(
        self, info: strawberry.Info, campaign: strawberry.ID | None = None
    ) -> AsyncGenerator[CallLoggedEvent, None]:
        socket, events = socket_of(info)
        policy = info.context.policy
        if policy.cover(socket.viewer, "outreach.manage").empty and policy.cover(socket.viewer, "outreach.call").empty:
            raise Forbidden("callLogged needs outreach.manage or outreach.call")
        campaign_id = None
        if campaign is not None:
            parsed = from_global_id(campaign, "Campaign")
            if parsed is None:
                raise BadUserInput("campaign: not a campaign's id", field="campaign")
            campaign_id = parsed[1]
        with events.hub.calls_of(socket, campaign_id) as sub:
            async for event in events_of(sub):
                yield CallLoggedEvent.of(event)

    @strawberry.subscription(description="Imports finished that touched your data.import scope.")
    async def import_finished(self, info: strawberry.Info) -> AsyncGenerator[ImportFinishedEvent, None]:
        socket, events = socket_of(info)
        if info.context.policy.cover(socket.viewer, "data.import").empty:
            raise Forbidden("importFinished needs data.import")
        with events.hub.imports_of(socket) as sub:
            async for event in events_of(sub):
                yield ImportFinishedEvent.of(event)

    @strawberry.subscription(
        description="Live turnout of a unit (as the `turnout` query answers it), first at once, then when marks "
        "change it: at most one per TURNOUT_EVENT_INTERVAL_S. Needs stats.read over the unit; ends when you lose it."
    )
    async def turnout_changed(self, info: strawberry.Info, election: str, unit: str) -> AsyncGenerator[Turnout, None]:
        socket, events = socket_of(info)
        ctx = info.context

        async def read(reader: Socket) -> Any:
            fresh = dataclasses.replace(ctx, viewer=reader.viewer, memo={}, read_log=ReadLog())
            data = await turnout_resolvers.turnout(fresh, election=election, unit=unit)
            return None if data is None else turnout_from(data, info)

        refused = NotFound("No such election or unit where you hold stats.read")
        found = await election_by_code(ctx.pool, election) if len(election) <= 200 else None
        place = await find_unit(ctx.pool, unit) if len(unit) <= 200 else None
        if found is None or place is None:
            raise refused
        # Registered before the first reading, so that no change falls between the two.
        with events.hub.turnout_of(socket, found.id, place.id, read) as sub:
            first = await read(socket)
            if first is None:
                raise refused
            yield first
            async for answer in events_of(sub):
                yield answer
