"""Turnout by caste category as released to viewers without voter.read_sensitive (issue 16).

Live turnout by caste would let such a viewer difference it: between a unit and its children
(parent minus shown children), between two moments (one batch of marks, whose audit entry names
the booth), and against the released caste composition. So they see a *release* instead
(docs/elections.md, "Turnout by caste category"):

- **A fixed cadence.** Releases stand at boundaries every TURNOUT_RELEASE_INTERVAL_S from local
  midnight (ELECTION_TIMEZONE). The release shown at `now` is the last boundary at or before
  `now - TURNOUT_UNDO_S`, and counts the marks made before it: those can no longer be undone, so
  a release never changes once it could be shown.
- **Decided over the whole tree.** Each release is the hierarchical complementary suppression of
  resolvers/disclosure.py over every unit x caste category, as for the released composition.
- **Over time.** Counts only grow, and a viewer knows every value shown before. Each release is
  protected against the last value shown of every cell (`floor`): a cell that moved by
  1..MIN_CELL_SIZE-1 since it was last shown is hidden, and a certificate's width counts only the
  room above the floors. Releases are a chain: one per boundary that closes an interval holding
  marks, from the first mark of the election, each with the floors the previous one left, so the
  pattern is a function of the marks alone and every process (and node) computes the same one.
- **Against the composition.** A cell whose released composition cell (released_cells,
  caste_category) is hidden is a primary here too (hidden and protected by a certificate), so a
  shown turnout never bounds a hidden composition from below. The chain is tied to the composition
  release it was computed with (stats_release.released_at): a new one restarts it, so the pattern
  is a function of the marks and that release.

Computed on demand per process and remembered (the chain grows by the intervals since the last
request); marks with a marked_at before a computed boundary that arrive later (a writer's clock more
than TURNOUT_UNDO_S behind) are not counted by it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from core.settings import Settings
from resolvers.disclosure import protect
from resolvers.stats import KEY_ORDER

CATEGORIES = KEY_ORDER["caste_category"]
_ORIGIN = dt.datetime(2000, 1, 1)  # a local midnight: boundaries are counted from it


def release_cutoff(now: dt.datetime, settings: Settings) -> dt.datetime:
    """The boundary of the release shown at `now`: marks before it can no longer be undone."""
    origin = _ORIGIN.replace(tzinfo=ZoneInfo(settings.election_timezone))
    settled = now - dt.timedelta(seconds=settings.turnout_undo_s)
    steps = (settled - origin).total_seconds() // settings.turnout_release_interval_s
    return origin + dt.timedelta(seconds=steps * settings.turnout_release_interval_s)


@dataclass(slots=True)
class TurnoutRelease:
    cutoff: dt.datetime
    cells: dict[tuple[int, str], tuple[int, bool]] = field(default_factory=dict)  # (unit id, key): (n, hidden)


@dataclass(slots=True)
class _Chain:
    upto: dt.datetime  # every mark before it is counted
    booth_counts: dict[tuple[int, str], int] = field(default_factory=dict)
    floors: dict[tuple[str, str], int] = field(default_factory=dict)  # (unit code, key): last value shown
    parent: dict[str, str | None] = field(default_factory=dict)  # unit code -> parent code
    code: dict[int, str] = field(default_factory=dict)
    ident: dict[str, int] = field(default_factory=dict)
    cells: dict[tuple[int, str], tuple[int, bool]] = field(default_factory=dict)
    hidden_composition: set[tuple[int, str]] = field(default_factory=set)  # (unit id, key)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


_CHAINS: dict[tuple[Any, ...], _Chain] = {}


def forget() -> None:
    """Drop every remembered chain (tests that rewrite marks behind the clock)."""
    _CHAINS.clear()


async def released_turnout(
    pool: Any, settings: Settings, election_id: int, now: dt.datetime, unit_ids: Sequence[int]
) -> TurnoutRelease:
    """The release of `election_id`'s turnout by caste category shown at `now`, of these units."""
    cutoff = release_cutoff(now, settings)
    composition = await pool.fetchval("select released_at from stats_release")
    key = (
        composition,
        settings.database_url or "",
        election_id,
        settings.min_cell_size,
        settings.turnout_release_interval_s,
        settings.turnout_undo_s,
        settings.election_timezone,
    )
    chain = _CHAINS.get(key)
    if chain is None:
        for old in [k for k in _CHAINS if k[1:] == key[1:]]:  # chains of an earlier composition release
            del _CHAINS[old]
        chain = _CHAINS.setdefault(key, _Chain(upto=_ORIGIN.replace(tzinfo=ZoneInfo(settings.election_timezone))))
        rows = await pool.fetch("select unit_id, key from released_cells where dim = 'caste_category' and suppressed")
        chain.hidden_composition = {(r["unit_id"], r["key"]) for r in rows}
    async with chain.lock:
        if cutoff > chain.upto:
            await _advance(pool, settings, election_id, chain, cutoff)
        cells = {(u, k): chain.cells[(u, k)] for u in unit_ids for k in CATEGORIES if (u, k) in chain.cells}
    return TurnoutRelease(cutoff=cutoff, cells=cells)


async def _advance(pool: Any, settings: Settings, election_id: int, chain: _Chain, cutoff: dt.datetime) -> None:
    interval = settings.turnout_release_interval_s
    rows = await pool.fetch(
        """select floor(extract(epoch from (marked_at - $3)) / $4)::bigint as step, booth_id, caste_category,
                  count(*)::bigint as n
           from turnout_marks
           where election_id = $1 and marked_at >= $2 and marked_at < $5
             and caste_category is not null
           group by 1, 2, 3 order by 1""",
        election_id,
        chain.upto,
        _ORIGIN.replace(tzinfo=ZoneInfo(settings.election_timezone)),
        interval,
        cutoff,
    )
    chain.upto = cutoff
    if not rows:
        return
    new_booths = sorted({r["booth_id"] for r in rows} - set(chain.code))
    if new_booths:
        await _learn_units(pool, chain, new_booths)
    steps: dict[int, list[tuple[int, str, int]]] = {}
    for r in rows:
        steps.setdefault(r["step"], []).append((r["booth_id"], r["caste_category"], r["n"]))
    for step in sorted(steps):
        for booth, category, n in steps[step]:
            chain.booth_counts[(booth, category)] = chain.booth_counts.get((booth, category), 0) + n
        await asyncio.to_thread(_release_step, chain, settings.min_cell_size)


def _release_step(chain: _Chain, min_cell: int) -> None:
    """One release of the chain: the pattern over the tree against the floors, then the floors of
    the cells it shows."""
    pattern = protect(
        unit_parent=chain.parent,
        key_parent=dict.fromkeys(CATEGORIES),
        booth_counts={(chain.code[b], k): n for (b, k), n in chain.booth_counts.items()},
        min_cell=min_cell,
        floor=chain.floors,
        also=[(chain.code[u], k) for u, k in chain.hidden_composition if u in chain.code],
    )
    chain.cells = {}
    for (code, category), n in pattern.counts.items():
        hidden = (code, category) in pattern.suppressed
        chain.cells[(chain.ident[code], category)] = (n, hidden)
        if not hidden:
            chain.floors[(code, category)] = n


async def _learn_units(pool: Any, chain: _Chain, booths: Sequence[int]) -> None:
    rows = await pool.fetch(
        """select u.id, u.code, p.code as parent from units u left join units p on p.id = u.parent_id
           where u.id in (select unnest(array[b.state_id, b.region_id, b.district_id, b.mandal_id, b.id])
                          from units b where b.id = any($1::int[]))""",
        list(booths),
    )
    for r in rows:
        chain.parent[r["code"]] = r["parent"]
        chain.code[r["id"]] = r["code"]
        chain.ident[r["code"]] = r["id"]


def released_sum(cells: Mapping[tuple[int, str], tuple[int, bool]], unit_ids: Sequence[int]) -> dict[str, int | None]:
    """Turnout by caste category of a sum of units as released: a category is hidden when any
    unit hides it, so that a sum shows nothing its parts do not."""
    total: dict[str, int] = {}
    hidden: set[str] = set()
    for uid in unit_ids:
        for category in CATEGORIES:
            found = cells.get((uid, category))
            if found is None:
                continue
            total[category] = total.get(category, 0) + found[0]
            if found[1]:
                hidden.add(category)
    return {k: (None if k in hidden else n) for k, n in total.items()}
