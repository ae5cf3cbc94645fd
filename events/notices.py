"""NOTIFY payloads (migration 0011 and 0001) parsed into notices. Payloads carry ids only, so a
payload that does not parse is ignored (logged): nothing in it is trusted beyond its ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

EVENTS_CHANNEL = "boothgraph_events"
SESSIONS_CHANNEL = "boothgraph_sessions"
ASSIGNMENTS_CHANNEL = "boothgraph_assignments"
# The start-up probe's (events/service.py): a process's own NOTIFY through its request pool, which
# its listener must hear; never handed to the hub.
PROBE_CHANNEL = "boothgraph_probe"
CHANNELS = (EVENTS_CHANNEL, SESSIONS_CHANNEL, ASSIGNMENTS_CHANNEL, PROBE_CHANNEL)


@dataclass(frozen=True, slots=True)
class CallLogged:
    call_id: int


@dataclass(frozen=True, slots=True)
class ImportAudited:
    entry_id: int


@dataclass(frozen=True, slots=True)
class TurnoutMarked:
    election_id: int
    booth_id: int


@dataclass(frozen=True, slots=True)
class SessionEnded:
    session_id: str


@dataclass(frozen=True, slots=True)
class KeyRevoked:
    prefix: str


@dataclass(frozen=True, slots=True)
class RolesChanged:
    user_id: str


Notice = CallLogged | ImportAudited | TurnoutMarked | SessionEnded | KeyRevoked | RolesChanged


def parse(channel: str, payload: str) -> Notice | None:
    """The notice of one NOTIFY, or None when it is not one of ours."""
    if channel == ASSIGNMENTS_CHANNEL:
        return RolesChanged(payload) if payload else None
    kind, _, rest = payload.partition(":")
    try:
        if channel == EVENTS_CHANNEL:
            if kind == "call":
                return CallLogged(int(rest))
            if kind == "import":
                return ImportAudited(int(rest))
            if kind == "turnout":
                election, _, booth = rest.partition(":")
                return TurnoutMarked(int(election), int(booth))
        elif channel == SESSIONS_CHANNEL:
            if kind == "session":
                return SessionEnded(str(uuid.UUID(rest)))
            if kind == "key" and rest:
                return KeyRevoked(rest)
    except ValueError:
        return None
    return None
