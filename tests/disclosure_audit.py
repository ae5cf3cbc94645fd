"""The interval audit of a published table: what an attacker can work out about suppressed cells.

Independent of resolvers/disclosure.py: it only sees what is shown (None = suppressed, absent =
zero), the trees and every row's total, and for every suppressed cell minimises and maximises it
(scipy's HiGHS) subject to every shown cell, `unit = sum of its children`, `key = sum of its child
keys`, `row total = sum of its top keys`, cells >= 0. Suppressed cells are split into connected
components (two cells are connected when one relation holds both), each solved on its own.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

Cell = tuple[str, Any]


@dataclass(frozen=True)
class AuditResult:
    suppressed: int
    narrowest: float  # smallest (max - min) over suppressed cells (exact when under exact_below)
    ranges: dict[Cell, tuple[float, float]]


def relations(
    *,
    unit_parent: Mapping[str, str | None],
    key_parent: Mapping[Hashable, Hashable | None],
    shown: Mapping[Cell, int | None],
    totals: Mapping[str, int] | None,
) -> list[tuple[list[Cell], list[Cell]]]:
    """Each relation as (cells summed, cell it equals); a total is given as cell (unit, None)."""
    out: list[tuple[list[Cell], list[Cell]]] = []
    kids: dict[str, list[str]] = {}
    for u, p in unit_parent.items():
        if p is not None and p in unit_parent:
            kids.setdefault(p, []).append(u)
    keys = list(key_parent)
    for u, cs in kids.items():
        for k in keys:
            out.append(([(c, k) for c in cs], [(u, k)]))
    child_keys: dict[Hashable, list[Hashable]] = {}
    for k, p in key_parent.items():
        child_keys.setdefault(p, []).append(k)
    for u in unit_parent:
        for parent_key, ks in child_keys.items():
            if parent_key is None:
                if totals is not None and u in totals:
                    out.append(([(u, k) for k in ks], [(u, None)]))
            else:
                out.append(([(u, k) for k in ks], [(u, parent_key)]))
    return out


def audit(
    *,
    unit_parent: Mapping[str, str | None],
    key_parent: Mapping[Hashable, Hashable | None],
    shown: Mapping[Cell, int | None],
    totals: Mapping[str, int] | None = None,
    exact_below: float = 8.0,
    witnesses: int = 12,
) -> AuditResult:
    """Ranges are exact for every cell whose range is under `exact_below`; wider ones are shown
    to be at least that wide by feasible points (random objectives and the exact solves)."""

    def value(c: Cell) -> int | None:
        if c[1] is None:
            return totals[c[0]] if totals is not None else None
        return shown.get(c, 0)

    hidden = sorted((c for c, n in shown.items() if n is None), key=repr)
    index = {c: i for i, c in enumerate(hidden)}
    parent = list(range(len(hidden)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows: list[tuple[dict[int, float], float]] = []  # sum(coef * var) = rhs
    for parts, whole in relations(unit_parent=unit_parent, key_parent=key_parent, shown=shown, totals=totals):
        coef: dict[int, float] = {}
        rhs = 0.0
        for c, sign in [(c, 1.0) for c in parts] + [(c, -1.0) for c in whole]:
            if c in index:
                coef[index[c]] = coef.get(index[c], 0.0) + sign
            else:
                v = value(c)
                assert v is not None
                rhs -= sign * v
        if not coef:
            assert abs(rhs) < 1e-9, (parts, whole, rhs)  # what is shown is consistent
            continue
        rows.append((coef, rhs))
        first, *rest = coef
        for other in rest:
            parent[find(other)] = find(first)
    components: dict[int, list[int]] = {}
    for i in range(len(hidden)):
        components.setdefault(find(i), []).append(i)
    by_component: dict[int, list[tuple[dict[int, float], float]]] = {}
    for coef, rhs in rows:
        by_component.setdefault(find(next(iter(coef))), []).append((coef, rhs))
    ranges: dict[Cell, tuple[float, float]] = {}
    for root, members in components.items():
        local = {g: i for i, g in enumerate(members)}
        eqs = by_component.get(root, [])
        data, row_ix, col_ix = [], [], []
        b_eq = np.zeros(max(len(eqs), 1))
        for r, (coef, rhs) in enumerate(eqs):
            for g, cf in coef.items():
                data.append(cf)
                row_ix.append(r)
                col_ix.append(local[g])
            b_eq[r] = rhs
        a_eq = csr_matrix((data, (row_ix, col_ix)), shape=(max(len(eqs), 1), len(members)))
        lo_seen, hi_seen = _component_ranges(a_eq, b_eq, len(members), exact_below, witnesses)
        for g in members:
            ranges[hidden[g]] = (float(lo_seen[local[g]]), float(hi_seen[local[g]]))
    narrowest = min((hi - lo for lo, hi in ranges.values()), default=float("inf"))
    return AuditResult(len(hidden), narrowest, ranges)


def _component_ranges(
    a_eq: csr_matrix, b_eq: np.ndarray, size: int, exact_below: float, witnesses: int
) -> tuple[np.ndarray, np.ndarray]:
    lo_seen = np.full(size, np.inf)
    hi_seen = np.full(size, -np.inf)

    def solve(c: np.ndarray) -> Any:
        res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if res.status == 0:  # a feasible point: a witness of every cell's range at once
            np.minimum(lo_seen, res.x, out=lo_seen)
            np.maximum(hi_seen, res.x, out=hi_seen)
        return res

    rng = np.random.default_rng(size)
    for _ in range(witnesses):
        solve(rng.choice((-1.0, 1.0), size=size))
    for i in range(size):
        if hi_seen[i] - lo_seen[i] >= exact_below:
            continue  # proven wide enough by feasible points; its exact range is at least this
        c = np.zeros(size)
        c[i] = 1.0
        lo = solve(c)
        hi = solve(-c)
        assert lo.status == 0, lo.message
        if hi.status == 3:  # unbounded above
            hi_seen[i] = np.inf
    return lo_seen, hi_seen
