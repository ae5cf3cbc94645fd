"""Shared helpers of tests/test_elections_*.py: a clock the tests move (never the machine's), the
Lok Sabha election of the tests over the tiny data set, and request contexts on that clock."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import FixedClock
from resolvers import elections
from resolvers.elections import ElectionRow, PhaseInput
from schema.context import Context
from tests.writes_support import AYD, LKO, STATE_PRESIDENT, World

IST = ZoneInfo("Asia/Kolkata")
MCC_FROM, COUNTING = "2029-03-16", "2029-06-04"
LKO_POLL, AYD_POLL = dt.date(2029, 5, 20), dt.date(2029, 5, 25)


def ist(text: str) -> dt.datetime:
    """'2029-05-20 07:00[:00]' in India Standard Time, as an aware datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=IST)


def clock_at(text: str) -> FixedClock:
    return FixedClock(ist(text))


async def lok_sabha(
    w: World, *, phases: list[tuple[str, dt.date]] | None = None, code: str = "LS-2029", user: str = STATE_PRESIDENT
) -> ElectionRow:
    """LKO polls on 20 May, AYD on 25 May 2029; the Model Code from 16 March to 4 June (counting)."""
    given = phases if phases is not None else [(LKO, LKO_POLL), (AYD, AYD_POLL)]
    return await elections.create_election(
        w.conn,
        await w.viewer(user),
        w.policy,
        code=code,
        name="Lok Sabha 2029",
        name_hi="लोकसभा 2029",
        model_code_from=MCC_FROM,
        counting_on=COUNTING,
        phases=[PhaseInput(unit, day.isoformat()) for unit, day in given],
    )


def lok_sabha_input(unit: str, poll_date: str = "2029-05-20") -> dict[str, Any]:
    """createElection's input for the same Lok Sabha 2029 over HTTP: one phase, `unit` polling."""
    return {
        "code": "LS-2029",
        "name": "Lok Sabha 2029",
        "nameHi": "लोकसभा 2029",
        "modelCodeFrom": MCC_FROM,
        "countingOn": COUNTING,
        "phases": [{"unit": unit, "pollDate": poll_date}],
    }


async def ctx_at(w: World, user: str, clock: FixedClock) -> Context:
    return Context(pool=w.pool, settings=w.settings, policy=w.policy, viewer=await w.viewer(user), clock=clock)
