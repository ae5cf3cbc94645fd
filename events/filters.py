"""Who hears an event, and what of it: the same rules as the reads, decided in the process from
the policy's covers (policies.Cover) on the row the hub read once.

- A call log: like `resolvers.call_logs.call_log_condition`: its voter under the subscriber's
  outreach.manage cover, or the subscriber's own call of a voter under their outreach.call cover.
  So a caller never hears of another caller's calls. The voter's phone and sensitive fields go
  through the one redaction rule (`resolvers.redaction.redact_voter`), with the call list's clear
  phone for the caller whose open list holds the voter.
- An import: its `data.import` entries under the subscriber's data.import cover; the others are
  not mentioned (an import elsewhere is not heard of at all).
- Turnout: the `turnout` read itself (resolvers/turnout.py) decides per subscriber (stats.read
  within the unit, visibility, suppression); see hub.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.viewer import Viewer
from policies import Cover, PolicyEngine
from resolvers.events import CallEventRow, ImportEntry
from resolvers.redaction import RedactedVoter, VoterVisibility, redact_voter, voter_ancestors


def hears_call(policy: PolicyEngine, viewer: Viewer, event: CallEventRow) -> bool:
    ancestors = voter_ancestors(event.voter)
    if policy.cover(viewer, "outreach.manage").covers_ancestors(ancestors):
        return True
    return event.call.caller_id == viewer.user_id and policy.cover(viewer, "outreach.call").covers_ancestors(ancestors)


def call_voter(policy: PolicyEngine, viewer: Viewer, event: CallEventRow) -> RedactedVoter:
    """The call's voter as this subscriber may read it."""
    contact, sensitive = policy.cover(viewer, "voter.read_contact"), policy.cover(viewer, "voter.read_sensitive")
    visibility = VoterVisibility(contact, sensitive)
    ancestors = voter_ancestors(event.voter)
    on_list = (
        event.on_list
        and event.list_caller_id == viewer.user_id
        and policy.cover(viewer, "outreach.call").covers_ancestors(ancestors)
    )
    return redact_voter(event.voter, visibility, on_call_list=on_list)


def heard_entries(policy: PolicyEngine, viewer: Viewer, entries: Sequence[ImportEntry]) -> list[ImportEntry]:
    """The entries of one import under the subscriber's data.import cover (an entry under no unit:
    only for a cover over the whole state)."""
    cover = policy.cover(viewer, "data.import")
    if cover.empty:
        return []
    return [e for e in entries if _covered(cover, e)]


def _covered(cover: Cover, entry: ImportEntry) -> bool:
    if entry.ancestors is None:  # files that touch no unit (schemes, users): state-wide
        return cover.everything
    return cover.covers_ancestors(entry.ancestors)
