"""The search of resolvers/disclosure.py as it was before the third session of issue 13 (main at
0c4e78e, with the floors of turnout releases), kept verbatim as the reference the faster search
must match cell for cell (tests/test_disclosure_same_pattern.py). Not used by the service.


Pure: no database. A *table* is units (the unit tree) x keys (a key tree whose root is the
breakdown's total): `caste_category`/`caste` form one table (TOTAL -> category -> castes),
`economic_status` another (TOTAL -> statuses). What an attacker knows: a unit's cell is the sum
of its children's (same key), a key's cell the sum of its children keys' (same unit), every
published cell, and (to be safe) every row's total.

Primary suppressions: cells with 1 <= n <= min_cell-1. Each primary cell not yet protected gets a
*certificate*: booths b1 != b2 and leaf keys k1 != k2 with D(b1,k1) = D(b2,k2) = +1 and
D(b1,k2) = D(b2,k1) = -1, summed up the trees. Its support (P1 u P2) x (Q1 u Q2) — P_i the units
from b_i up to, excluding, the lowest common ancestor; Q_i the keys from k_i up to, excluding,
theirs — is suppressed as a whole. Moving every support cell along D keeps every published cell,
every sum and every row total, so each cell of the support can take any value in an interval of
width min(n(b1,k2), n(b2,k1)) + min(n(b1,k1), n(b2,k2)) (the booth/leaf corners are the smallest
cells of each block); it is only accepted when that width is >= min_cell-1. Suppressing more never
narrows another cell's range, so one pass suffices. Above the top unit nothing is published,
so b2 may be "nobody" (P2 empty, P1 up to the top unit): that certificate protects top-level cells.

A cell no certificate can protect (e.g. a booth whose only nonzero key is that cell) is
*degenerate*: its unit's whole row of the table is suppressed, and it is reported.
The result depends only on the data: candidates are tried in the order of unit codes and keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Unit = str  # a unit's code
Key = Any  # a breakdown key, e.g. ("caste", "OBC-03")
Cell = tuple[Unit, Any]

CANDIDATE_CAP = 20_000  # certificates examined per escalation step; the lowest steps hold few


@dataclass(slots=True)
class Pattern:
    counts: dict[Cell, int] = field(default_factory=dict)  # every nonzero cell of every unit
    suppressed: set[Cell] = field(default_factory=set)
    degenerate: set[Cell] = field(default_factory=set)  # primaries no certificate protects
    protected: set[Cell] = field(default_factory=set)  # in the support of an accepted certificate
    primaries: int = 0


@dataclass(slots=True)
class _Tree:
    """A forest of nodes with parents; `None` is the (virtual) root above the top nodes."""

    parent: dict[Any, Any]
    chain: dict[Any, list[Any]] = field(default_factory=dict)  # node, its parent, ..., top node
    leaves: dict[Any, list[Any]] = field(default_factory=dict)  # sorted leaves under (or equal to) a node

    @classmethod
    def build(cls, parent: Mapping[Any, Any], leaves: Iterable[Any]) -> _Tree:
        tree = cls(dict(parent))
        for node in tree.parent:
            up = [node]
            while tree.parent.get(up[-1]) is not None:
                up.append(tree.parent[up[-1]])
            tree.chain[node] = up
        under: dict[Any, list[Any]] = {None: []}
        for leaf in sorted(set(leaves)):
            for node in tree.chain.get(leaf, [leaf]):
                under.setdefault(node, []).append(leaf)
            under[None].append(leaf)
        tree.leaves = under
        return tree

    paths: dict[tuple[Any, Any], tuple[Any, ...]] = field(default_factory=dict)

    def path(self, node: Any, below: Any) -> tuple[Any, ...]:
        """`node` and its ancestors up to, excluding, `below` (None: up to the top). Remembered:
        the search asks for the same few paths hundreds of thousands of times."""
        found = self.paths.get((node, below))
        if found is None:
            out = []
            for n in self.chain[node]:
                if n == below:
                    break
                out.append(n)
            found = self.paths[(node, below)] = tuple(out)
        return found


def protect(
    *,
    unit_parent: Mapping[Unit, Unit | None],
    key_parent: Mapping[Key, Key | None],
    booth_counts: Mapping[Cell, int],
    min_cell: int,
    floor: Mapping[Cell, int] | None = None,
    also: Iterable[Cell] = (),
) -> Pattern:
    """The suppression pattern of one table. `unit_parent`: every unit's parent code (None at the
    top); `key_parent`: every key's parent key (None: directly under the total); `booth_counts`:
    n(booth, key) for every key (internal keys too: a booth's category count is given, not summed,
    so a category with unrecorded castes stays right). Units above booths are summed here.

    `floor`: what the attacker already knows each cell is at least (a count that only grows, shown
    earlier: live turnout by caste, docs/elections.md). A cell is then primary when it moved by
    1..min_cell-1 above its floor, and a certificate's width counts only the room above the floors
    of the cells it moves down. None: floors of 0, the breakdowns of docs/disclosure-control.md.
    `also`: further cells to hide and protect whatever their counts (nonzero ones)."""
    pattern = Pattern()
    counts = pattern.counts
    for (booth, key), n in booth_counts.items():
        if n <= 0:
            continue
        for unit in _chain(unit_parent, booth):
            counts[(unit, key)] = counts.get((unit, key), 0) + n
    if min_cell <= 1:
        return pattern
    booths = {b for (b, _), n in booth_counts.items() if n > 0}
    inner = set(key_parent.values())
    leaf_keys = {k for k in key_parent if k not in inner}
    units = _Tree.build(unit_parent, booths)
    keys = _Tree.build(key_parent, leaf_keys)
    floors = floor or {}
    extra = {c for c in also if counts.get(c, 0) > 0}
    primaries = sorted(
        (c for c, n in counts.items() if 0 < n - floors.get(c, 0) < min_cell or c in extra),
        key=lambda c: (-len(units.chain[c[0]]), c[0], -len(keys.chain[c[1]]), c[1]),
    )
    pattern.primaries = len(primaries)
    suppressed = pattern.suppressed
    suppressed.update(primaries)
    protected = pattern.protected
    search = _Search(counts, units, keys, suppressed, min_cell, floors)
    for cell in primaries:
        if cell in protected or cell in pattern.degenerate:
            continue
        support = search.best_support(cell)
        if support is None:
            pattern.degenerate.add(cell)
            row = [(cell[0], k) for k in key_parent if (cell[0], k) in counts]
            suppressed.update(row)
            continue
        suppressed.update(support)
        protected.update(support)
    return pattern


def _chain(parent: Mapping[Any, Any], node: Any) -> list[Any]:
    up = [node]
    while parent.get(up[-1]) is not None:
        up.append(parent[up[-1]])
    return up


class _Search:
    def __init__(
        self,
        counts: dict[Cell, int],
        units: _Tree,
        keys: _Tree,
        suppressed: set[Cell],
        min_cell: int,
        floors: Mapping[Cell, int] | None = None,
    ):
        self.counts = counts
        self.floors = floors or {}
        self.units = units
        self.keys = keys
        self.suppressed = suppressed
        self.need = min_cell - 1

    def best_support(self, cell: Cell) -> list[Cell] | None:
        """The support of the best certificate protecting `cell`: lowest common ancestors first
        (unit steps + key steps), then fewest newly suppressed cells, then widest, then codes."""
        u, k = cell
        unit_tops = self.units.chain[u][1:] + [None]  # candidate LCAs of b1, b2, lowest first
        key_tops = self.keys.chain[k][1:] + [None]
        for step in range(len(unit_tops) + len(key_tops) - 1):
            best: tuple[Any, ...] | None = None
            for i in range(len(unit_tops)):
                j = step - i
                if not 0 <= j < len(key_tops):
                    continue
                found = self._best_at(u, k, unit_tops[i], key_tops[j], i, j)
                if found is not None and (best is None or found[0] < best[0]):
                    best = found
            if best is not None:
                return best[1]
        return None

    def _best_at(self, u: Unit, k: Key, a: Unit | None, lk: Key | None, i: int, j: int) -> tuple[Any, ...] | None:
        n = self.counts.get
        units, keys = self.units, self.keys
        cu = units.chain[u][i]  # the child of `a` on the way to u
        ck = keys.chain[k][j]
        inside_u = set(units.leaves.get(cu, ()))
        inside_k = set(keys.leaves.get(ck, ()))
        b2s: list[Unit | None]
        if a is None and cu == units.chain[u][-1]:
            # above the top unit nothing is published: b2 may be nobody
            b2s = [None, *(b for b in units.leaves[None] if b not in inside_u)]
        else:
            b2s = [b for b in units.leaves.get(a, ()) if b not in inside_u]
        k2s = [x for x in keys.leaves.get(lk, ()) if x not in inside_k]
        best: tuple[Any, ...] | None = None
        tried = 0
        for b1 in units.leaves.get(u, ()):
            for k1 in keys.leaves.get(k, ()):
                n11 = n((b1, k1), 0)
                if n11 <= 0:
                    continue
                for k2 in k2s:
                    n12 = n((b1, k2), 0)
                    if n12 <= 0:
                        continue
                    for b2 in b2s:
                        tried += 1
                        if tried > CANDIDATE_CAP:
                            return best
                        if b2 is None:
                            width = n11 + n12
                        else:
                            n21, n22 = n((b2, k1), 0), n((b2, k2), 0)
                            if n21 <= 0 or n22 <= 0:
                                continue
                            width = min(n12, n21) + min(n11, n22)
                        if width < self.need:
                            continue
                        support = self._support(b1, b2, k1, k2, cu, ck, a, lk)
                        if self.floors:
                            width = self._room(b1, b2, k1, k2, a, lk)
                            if width < self.need:
                                continue
                        new = sum(1 for c in support if c not in self.suppressed)
                        rank = (new, -width, b1, "" if b2 is None else b2, str(k1), str(k2))
                        if best is None or rank < best[0]:
                            best = (rank, support)
        return best

    def _room(self, b1: Unit, b2: Unit | None, k1: Key, k2: Key, a: Unit | None, lk: Key | None) -> int:
        """The width of a certificate's range when cells are known to be at least their floors:
        the least room above its floor of a cell moving down, in each direction (+D and -D)."""
        n, floor = self.counts.get, self.floors.get
        p1, q1, q2 = self.units.path(b1, a), self.keys.path(k1, lk), self.keys.path(k2, lk)
        p2 = self.units.path(b2, a) if b2 is not None else ()
        plus = [(x, y) for x in p1 for y in q1] + [(x, y) for x in p2 for y in q2]
        minus = [(x, y) for x in p1 for y in q2] + [(x, y) for x in p2 for y in q1]
        return min(n(c, 0) - floor(c, 0) for c in minus) + min(n(c, 0) - floor(c, 0) for c in plus)

    def _support(
        self, b1: Unit, b2: Unit | None, k1: Key, k2: Key, cu: Unit, ck: Key, a: Unit | None, lk: Key | None
    ) -> list[Cell]:
        units, keys = self.units, self.keys
        p = units.path(b1, a)
        if b2 is not None:
            p = p + units.path(b2, a)
        q = keys.path(k1, lk) + keys.path(k2, lk)
        return [(x, y) for x in p for y in q]
