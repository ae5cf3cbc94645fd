"""The one source of "now" for rules that depend on the date and hour (elections, the Model Code,
poll hours): the server uses the machine's clock, tests inject a `FixedClock` they move by hand.

Times are aware datetimes in UTC; `local` converts to the election time zone (settings).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime."""
        ...


class SystemClock:
    """The machine's clock (the server's default)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved: `set(when)` or `advance(seconds=...)`."""

    def __init__(self, when: dt.datetime) -> None:
        self.set(when)

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = when

    def advance(self, **delta: float) -> None:
        self._now += dt.timedelta(**delta)

    def now(self) -> dt.datetime:
        return self._now


SYSTEM_CLOCK = SystemClock()


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(when: dt.datetime, tz: str) -> dt.datetime:
    return when.astimezone(ZoneInfo(tz))
