"""What every resolver receives as `info.context`, built once per request by the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from core.clock import SYSTEM_CLOCK, Clock
from core.settings import Settings
from core.viewer import Viewer
from policies import PolicyEngine
from resolvers.redaction import ReadLog
from resolvers.unit_keys import UnitKeys


@dataclass
class Context:
    pool: asyncpg.Pool
    settings: Settings
    policy: PolicyEngine
    viewer: Viewer  # authenticated before execution; unknown users never get here (401)
    request: Any = None
    read_log: ReadLog = field(default_factory=ReadLog)
    # Per-request memo (e.g. covers, stats batches) so one request never asks twice.
    memo: dict[Any, Any] = field(default_factory=dict)
    # Per process (the server passes its own): units' ids and levels, which never change.
    unit_keys: UnitKeys = field(default_factory=UnitKeys)
    # "Now" for elections, the Model Code and poll hours: the server's clock, a test's FixedClock.
    clock: Clock = SYSTEM_CLOCK
    # A websocket's (server.py): its socket once connection_init is authenticated (events/sockets.py),
    # and the process's events (events/service.py). None on HTTP requests.
    socket: Any = None
    events: Any = None

    def cover(self, permission: str):  # -> policies.Cover
        key = ("cover", permission)
        if key not in self.memo:
            self.memo[key] = self.policy.cover(self.viewer, permission)
        return self.memo[key]
