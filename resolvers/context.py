"""What a resolver needs of the request it serves (schema.context.Context satisfies it)."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg

from core.clock import Clock
from core.settings import Settings
from core.viewer import Viewer
from policies import Cover, PolicyEngine
from resolvers.redaction import ReadLog
from resolvers.unit_keys import UnitKeys


class ReadContext(Protocol):
    """What resolvers need of a request (schema.context.Context satisfies it)."""

    pool: asyncpg.Pool
    settings: Settings
    policy: PolicyEngine
    viewer: Viewer
    read_log: ReadLog
    memo: dict[Any, Any]
    unit_keys: UnitKeys
    clock: Clock

    def cover(self, permission: str) -> Cover: ...
