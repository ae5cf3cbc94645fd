"""resolvers/disclosure.py on hand-made tables, checked by the interval audit (tests/disclosure_audit.py)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.disclosure import protect
from tests.disclosure_audit import audit

# One mandal M of two booths; category A of castes.
UNITS = {"M": None, "M-B1": "M", "M-B2": "M"}
KEYS = {"A": None, "A-1": "A", "A-2": "A"}
BOOTHS = {
    ("M-B1", "A"): 12,
    ("M-B1", "A-1"): 2,
    ("M-B1", "A-2"): 10,
    ("M-B2", "A"): 14,
    ("M-B2", "A-1"): 6,
    ("M-B2", "A-2"): 8,
}


def shown_of(pattern) -> dict:
    return {c: (None if c in pattern.suppressed else n) for c, n in pattern.counts.items()}


def totals_of(pattern, key_parent) -> dict[str, int]:
    tops = {k for k, p in key_parent.items() if p is None}
    out: dict[str, int] = {}
    for (u, k), n in pattern.counts.items():
        if k in tops:
            out[u] = out.get(u, 0) + n
    return out


async def test_a_small_cell_and_its_complements_are_hidden_and_the_range_is_wide() -> None:
    pattern = protect(unit_parent=UNITS, key_parent=KEYS, booth_counts=BOOTHS, min_cell=5)
    assert shown_of(pattern) == {
        ("M-B1", "A"): 12,
        ("M-B1", "A-1"): None,
        ("M-B1", "A-2"): None,
        ("M-B2", "A"): 14,
        ("M-B2", "A-1"): None,
        ("M-B2", "A-2"): None,
        ("M", "A"): 26,
        ("M", "A-1"): 8,
        ("M", "A-2"): 18,
    }
    assert pattern.degenerate == set()
    result = audit(unit_parent=UNITS, key_parent=KEYS, shown=shown_of(pattern), totals=totals_of(pattern, KEYS))
    # B1's A-1 is anything from 0 to 8 (M's A-1); the other three move with it
    assert result.ranges == {
        ("M-B1", "A-1"): (0.0, 8.0),
        ("M-B1", "A-2"): (4.0, 12.0),
        ("M-B2", "A-1"): (0.0, 8.0),
        ("M-B2", "A-2"): (6.0, 14.0),
    }


async def test_per_breakdown_suppression_alone_falls_to_subtraction() -> None:
    # What the old rule showed: B1's A-1 (2) hidden with its smallest neighbour A-2 (10), while B2
    # and M show A-1: M - B2 = 2. The audit sees it: the range is one point.
    shown = {
        c: n for c, n in protect(unit_parent=UNITS, key_parent=KEYS, booth_counts=BOOTHS, min_cell=5).counts.items()
    }
    shown[("M-B1", "A-1")] = shown[("M-B1", "A-2")] = None
    result = audit(unit_parent=UNITS, key_parent=KEYS, shown=shown, totals=None)
    assert result.ranges[("M-B1", "A-1")] == (2.0, 2.0)


async def test_a_booth_with_one_key_only_is_degenerate_and_its_row_hidden() -> None:
    booths = {("M-B1", "A"): 3, ("M-B1", "A-1"): 3, ("M-B2", "A"): 9, ("M-B2", "A-1"): 4, ("M-B2", "A-2"): 5}
    pattern = protect(unit_parent=UNITS, key_parent=KEYS, booth_counts=booths, min_cell=5)
    assert ("M-B1", "A-1") in pattern.degenerate
    assert {("M-B1", "A"), ("M-B1", "A-1")} <= pattern.suppressed


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict, dict, dict]:
    """A random tree (state, 1-3 districts, 1-3 mandals each, 1-4 booths each), 1-3 categories of
    1-4 castes, booth counts mostly small with zeros, categories the sums of their castes."""
    units: dict[str, str | None] = {"S": None}
    booths: list[str] = []
    for d in range(draw(st.integers(1, 3))):
        units[f"S{d}"] = "S"
        for m in range(draw(st.integers(1, 3))):
            units[f"S{d}{m}"] = f"S{d}"
            for b in range(draw(st.integers(1, 4))):
                units[f"S{d}{m}{b}"] = f"S{d}{m}"
                booths.append(f"S{d}{m}{b}")
    keys: dict[str, str | None] = {}
    for c in range(draw(st.integers(1, 3))):
        keys[f"C{c}"] = None
        for k in range(draw(st.integers(1, 4))):
            keys[f"C{c}-{k}"] = f"C{c}"
    counts: dict[tuple[str, str], int] = {}
    for b in booths:
        for k, parent in keys.items():
            if parent is not None:
                n = draw(st.sampled_from((0, 0, 1, 2, 3, 4, 5, 7, 9, 14)))
                if n:
                    counts[(b, k)] = n
                    counts[(b, parent)] = counts.get((b, parent), 0) + n
    return units, keys, counts


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables(), st.sampled_from((3, 5)))
def test_every_protected_cell_has_a_wide_range_and_zero_is_never_hidden(table, min_cell: int) -> None:
    units, keys, counts = table
    pattern = protect(unit_parent=units, key_parent=keys, booth_counts=counts, min_cell=min_cell)
    primaries = {c for c, n in pattern.counts.items() if n < min_cell}
    assert primaries <= pattern.suppressed
    assert pattern.suppressed <= set(pattern.counts)  # zero cells are not even stored
    assert all(n > 0 for n in pattern.counts.values())
    assert primaries <= pattern.protected | pattern.degenerate
    result = audit(unit_parent=units, key_parent=keys, shown=shown_of(pattern), totals=totals_of(pattern, keys))
    for cell in pattern.protected:
        lo, hi = result.ranges[cell]
        assert hi - lo >= min_cell - 1 - 1e-6, (cell, lo, hi)
    # the same data in another order gives the same pattern
    shuffled = list(counts.items())
    random.Random(7).shuffle(shuffled)
    again = protect(
        unit_parent=dict(reversed(units.items())), key_parent=keys, booth_counts=dict(shuffled), min_cell=min_cell
    )
    assert again.suppressed == pattern.suppressed


def test_floors_make_a_small_move_a_primary_and_narrow_certificates() -> None:
    """`floor` (turnout by caste, docs/elections.md): a cell known to be at least its last shown
    value is hidden when it moved by 1..min_cell-1, and a certificate counts only the room above
    the floors of the cells it moves down."""
    units = {"M": None, "M-B1": "M", "M-B2": "M"}
    keys = {"GEN": None, "OBC": None}
    counts = {("M-B1", "GEN"): 30, ("M-B1", "OBC"): 20, ("M-B2", "GEN"): 30, ("M-B2", "OBC"): 20}
    plain = protect(unit_parent=units, key_parent=keys, booth_counts=counts, min_cell=5)
    assert plain.suppressed == set()
    # B1 GEN was shown at 28: it moved by 2, so it is hidden, with a certificate around it.
    floors = {("M-B1", "GEN"): 28}
    moved = protect(unit_parent=units, key_parent=keys, booth_counts=counts, min_cell=5, floor=floors)
    assert ("M-B1", "GEN") in moved.suppressed and not moved.degenerate
    assert {("M-B1", "OBC"), ("M-B2", "GEN"), ("M-B2", "OBC")} <= moved.suppressed
    # Every other cell was shown at its value but one: no room for a certificate of width 4 moving
    # B1 GEN down (room 2) and the others down (room 0): degenerate, the row is hidden.
    tight = {c: n for c, n in counts.items()} | {("M-B1", "GEN"): 28}
    stuck = protect(unit_parent=units, key_parent=keys, booth_counts=counts, min_cell=5, floor=tight)
    assert ("M-B1", "GEN") in stuck.degenerate


def test_also_hides_and_protects_a_large_cell() -> None:
    units = {"M": None, "M-B1": "M", "M-B2": "M"}
    keys = {"GEN": None, "OBC": None}
    counts = {("M-B1", "GEN"): 30, ("M-B1", "OBC"): 20, ("M-B2", "GEN"): 30, ("M-B2", "OBC"): 20}
    pattern = protect(unit_parent=units, key_parent=keys, booth_counts=counts, min_cell=5, also=[("M-B1", "GEN")])
    assert ("M-B1", "GEN") in pattern.suppressed and ("M-B1", "GEN") in pattern.protected
    assert ("M-B2", "GEN") in pattern.suppressed  # its complement: "M minus B2" gives nothing back
