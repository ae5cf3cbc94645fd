"""Who can see what at all, before any permission is looked at.

- A unit is *visible* (service.md) when it lies in the subtree of one of the viewer's
  assignments, whatever the role (`visible_cover`). A mutation on something that is not visible
  answers NOT_FOUND; on something visible whose action the viewer's roles lack, FORBIDDEN
  (`require_visible`).
- A caller's own call-list entries (`own_entries`): their own, of an open campaign, of a voter
  under their outreach.call cover whose consent is not DENIED, not assigned by themselves. The
  call-list arm (`call_list_arm`) makes such a voter readable by that caller (phone in clear,
  redaction's on_call_list), for single lookups and for the phone on lists.
"""

from __future__ import annotations

import datetime as dt

from core.errors import Forbidden, NotFound
from core.viewer import UnitPlace, Viewer
from models import Level
from policies import Cover, PolicyEngine
from resolvers.context import ReadContext
from resolvers.model_code import local_today
from resolvers.scope import SqlParams, scope_condition


def open_campaign(params: SqlParams, today: dt.date) -> str:
    """The campaign (alias c) is open on `today`: the local date (ELECTION_TIMEZONE) of the
    injected clock (`resolvers.model_code.local_today`), never the database's current_date, so a
    campaign opens and closes by the same "now" as the Model Code and poll hours (core/clock.py)."""
    day = params.add(today)
    return f"(c.opens_on <= {day}::date and {day}::date <= c.closes_on)"


def visible_cover(viewer: Viewer) -> Cover:
    """The units whose subtrees the viewer can see at all (any role), none inside another."""
    return Cover.of(a.unit for a in viewer.assignments)


def visible_at_or_above(viewer: Viewer, level: Level) -> Cover:
    """The viewer's visible units at `level` or above it: a unit at `level` is visible exactly
    when it lies under one of them (deeper assignments only make their own subtrees visible, and a
    roll page lies below its booth)."""
    return Cover(tuple(u for u in visible_cover(viewer).units if u.level.depth <= level.depth and u.page is None))


def require_visible(
    viewer: Viewer,
    policy: PolicyEngine,
    place: UnitPlace | None,
    permission: str,
    *,
    absent: str,
    refused: str,
    **extensions: object,
) -> UnitPlace:
    """The mutations' check of a unit: NOT_FOUND (`absent`) when there is no such unit or it is
    not visible; FORBIDDEN (`refused`) when it is visible but `permission` does not hold there."""
    if place is None or not visible_cover(viewer).covers(place):
        raise NotFound(absent)
    if not policy.allows(viewer, permission, place):
        raise Forbidden(refused, **extensions)
    return place


# ------------------------------------------------------------------- call lists ---
def own_entries(viewer: Viewer, policy: PolicyEngine, params: SqlParams, today: dt.date) -> str:
    """The call-list entries (aliases ca, c, v) the viewer may see and work as their caller:
    their own, not assigned by themselves, of an open campaign, of a voter under their
    outreach.call cover whose consent is not DENIED. A voter under both the campaign's unit and
    the caller's cover puts the campaign on the caller's line, so no separate condition on the
    campaign's unit."""
    reach = scope_condition(policy.cover(viewer, "outreach.call"), params, "v", pages=True)
    if reach == "false":
        return "false"
    me = params.add(viewer.user_id)
    is_open = open_campaign(params, today)
    return f"ca.caller_id = {me} and ca.assigned_by <> {me} and {is_open} and v.contact_consent <> 'DENIED' and {reach}"


def has_own_entries(viewer: Viewer, policy: PolicyEngine, params: SqlParams, today: dt.date) -> str:
    """The campaign (aliases c, cu) holds entries the viewer may see as its caller."""
    own = own_entries(viewer, policy, params, today)
    if own == "false":
        return "false"
    return (
        "exists (select 1 from call_assignments ca join voters v on v.id = ca.voter_id"
        f" where ca.campaign_id = c.id and {own})"
    )


def call_list_arm(ctx: ReadContext, params: SqlParams) -> str:
    """The voter (alias v) is one of the viewer's own call-list entries (`own_entries`); `false`
    when the viewer holds no outreach.call. Lists (`voters(unit:)`) use it for the phone in
    clear, so it never reaches further than the call list itself."""
    if ctx.cover("outreach.call").empty:
        return "false"
    own = own_entries(ctx.viewer, ctx.policy, params, local_today(ctx.clock, ctx.settings))
    if own == "false":
        return "false"
    return (
        "exists (select 1 from call_assignments ca join campaigns c on c.id = ca.campaign_id "
        f"join units cu on cu.id = c.unit_id where ca.voter_id = v.id and {own})"
    )
