"""What every write path (and the outreach/audit reads) shares: who can see which unit, input
checks that answer BAD_USER_INPUT, and running one mutation in one transaction. (Keyset pages,
cursors and global ids: resolvers.cursors.)

"Visible" (service.md): a unit lying in the subtree of one of the viewer's assignments,
whatever the role. A mutation on something that is not visible answers NOT_FOUND; on something
visible whose action the viewer's roles lack, FORBIDDEN.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from core.errors import BadUserInput
from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, Viewer, unit_place
from models import Level
from policies import Cover

T = TypeVar("T")

PHONE_RE = re.compile(r"^[0-9]{10}$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_TEXT = 2000
MAX_PAGE = 2_147_483_647
DEADLOCK_RETRIES = 3


def visible_cover(viewer: Viewer) -> Cover:
    """The units whose subtrees the viewer can see at all (any role), none inside another."""
    places = {a.unit.key: a.unit for a in viewer.assignments}.values()
    kept = [p for p in places if not any(p is not o and p.is_under(o) for o in places)]
    return Cover(tuple(sorted(kept, key=lambda p: (p.level.depth, p.id))))


def visible_at_or_above(viewer: Viewer, level: Level) -> Cover:
    """The viewer's visible units at `level` or above it: a unit at `level` is visible exactly
    when it lies under one of them (deeper assignments only make their own subtrees visible, and a
    roll page lies below its booth)."""
    return Cover(tuple(u for u in visible_cover(viewer).units if u.level.depth <= level.depth and u.page is None))


UNIT_SQL = f"select {UNIT_PLACE_COLUMNS}, u.name, u.name_hi from units u where u.code = $1"


async def find_unit(conn: asyncpg.Connection | asyncpg.Pool, code: str) -> UnitPlace | None:
    """Where the unit named `code` sits, visible or not: only for checks and conditions that the
    caller then ANDs with a scope; never handed to the client as such."""
    row = await conn.fetchrow(UNIT_SQL, code)
    return None if row is None else unit_place(row)


# ------------------------------------------------------------------------- input checks ---
def parse_date(value: str | None, argument: str) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise BadUserInput(f"{argument} must be a date YYYY-MM-DD", argument=argument)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"{argument} must be a date YYYY-MM-DD", argument=argument) from None


def check_phone(value: str | None, argument: str = "phone") -> str | None:
    if value is not None and (not isinstance(value, str) or not PHONE_RE.match(value)):
        raise BadUserInput(f"{argument} must be exactly 10 digits", argument=argument)
    return value


def check_enum(value: Any, allowed: Sequence[str] | type, argument: str) -> str | None:
    """Accepts an Enum member or its name; returns the name. None stays None."""
    if value is None:
        return None
    name = getattr(value, "value", value)
    names = [m.value for m in allowed] if isinstance(allowed, type) else list(allowed)  # type: ignore[attr-defined]
    if name not in names:
        raise BadUserInput(f"{argument} must be one of {', '.join(names)}", argument=argument)
    return str(name)


def check_text(value: str | None, argument: str, *, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadUserInput(f"{argument} is required", argument=argument)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadUserInput(f"{argument} must be text of at most {limit} characters", argument=argument)
    if required and not value.strip():
        raise BadUserInput(f"{argument} must not be empty", argument=argument)
    return value


def check_page(value: Any, argument: str = "page") -> int | None:
    """A roll page number: a positive int, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PAGE:
        raise BadUserInput(f"{argument} must be a page number from 1 to {MAX_PAGE}", argument=argument)
    return value


def parse_id(value: Any, argument: str) -> int:
    """A database id given as int or decimal string (schema/ decodes global ids first)."""
    if isinstance(value, bool):
        raise BadUserInput(f"{argument} is not a valid id", argument=argument)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    raise BadUserInput(f"{argument} is not a valid id", argument=argument)


# ------------------------------------------------------------------------ transactions ---
async def in_transaction(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in one transaction; retried (whole) when PostgreSQL picks it as a deadlock
    victim or a serialization failure, so concurrent grants and revokes settle in some order."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            async with conn.transaction():
                return await work()
        except (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError):
            if attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
